"""The FactoryTX configuration with every earlier revision kept."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from edge.catalog.database import Catalog, utc_timestamp


@dataclasses.dataclass(frozen=True)
class ConfigRevision:
    revision: int
    body: dict[str, Any]
    saved_at: str  # UTC, YYYY-MM-DD HH:MM:SS.ffffff
    source: str


class ConfigHistory:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def save(self, body: dict[str, Any], source: str = "api") -> ConfigRevision:
        saved_at = utc_timestamp()
        conn = self._catalog.connection()
        with conn:
            conn.execute("INSERT INTO ftx_config (body, saved_at, source) VALUES (?, ?, ?)",
                         (json.dumps(body, sort_keys=False), saved_at, source))
            revision = conn.last_insert_rowid()
        return ConfigRevision(revision, body, saved_at, source)

    def current(self) -> ConfigRevision | None:
        row = self._catalog.connection().execute(
            "SELECT revision, body, saved_at, source FROM ftx_config ORDER BY revision DESC LIMIT 1").fetchone()
        return None if row is None else ConfigRevision(row[0], json.loads(row[1]), row[2], row[3])

    def revisions(self, limit: int = 50) -> list[ConfigRevision]:
        rows = self._catalog.connection().execute(
            "SELECT revision, body, saved_at, source FROM ftx_config ORDER BY revision DESC LIMIT ?", (limit,))
        return [ConfigRevision(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]
