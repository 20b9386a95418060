"""Small facts that must outlive the process, such as whether the pipeline should be running."""

from __future__ import annotations

from edge.catalog.database import Catalog


class RuntimeState:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self._catalog.connection().execute(
            "SELECT value FROM runtime_state WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set(self, key: str, value: str) -> None:
        self._catalog.connection().execute(
            "INSERT INTO runtime_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
