"""Markers: warnings and errors raised on a stream by a pipeline component.

A repeat of the same (component, stream, category) updates the one row and counts it, so a
receiver failing every poll leaves one marker, not thousands; `clear` drops it when resolved.
A copy made by `reporting_to` also tells a listener of each marker raised through it (the
scheduler counts a service's error markers as its errors that way).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from edge.catalog.database import Catalog, utc_timestamp

LEVELS = ("warning", "error")


@dataclasses.dataclass(frozen=True)
class Marker:
    component: str
    component_type: str  # Receiver, Transform, Transmit
    asset: str
    stream_type: str
    category: str
    timestamp: str
    level: str
    message: str
    occurrences: int = 1

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in ("component", "component_type", "asset", "stream_type",
                                               "category", "timestamp", "level", "message")}


class Markers:
    def __init__(self, catalog: Catalog, listener: Callable[[Marker], None] | None = None):
        self._catalog = catalog
        self._listener = listener

    def reporting_to(self, listener: Callable[[Marker], None]) -> Markers:
        """The same markers; each one raised through the copy is also handed to `listener`
        (after it is written)."""
        return Markers(self._catalog, listener)

    def raise_marker(self, component: str, component_type: str, asset: str, stream_type: str,
                     category: str, level: str, message: str) -> None:
        if level not in LEVELS:
            raise ValueError(f"marker level must be one of {LEVELS}, got {level!r}")
        now = utc_timestamp()
        self._catalog.connection().execute(
            """INSERT INTO markers (component, component_type, asset, stream_type, category, level,
                                    message, first_seen, timestamp)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (component, asset, stream_type, category) DO UPDATE SET
                   component_type = excluded.component_type, level = excluded.level,
                   message = excluded.message, timestamp = excluded.timestamp,
                   occurrences = occurrences + 1""",
            (component, component_type, asset, stream_type, category, level, message, now, now))
        if self._listener is not None:
            self._listener(Marker(component, component_type, asset, stream_type, category, now, level, message))

    def clear(self, component: str, asset: str, stream_type: str, category: str | None = None) -> None:
        sql = "DELETE FROM markers WHERE component = ? AND asset = ? AND stream_type = ?"
        args: tuple = (component, asset, stream_type)
        if category is not None:
            sql += " AND category = ?"
            args += (category,)
        self._catalog.connection().execute(sql, args)

    def clear_markers(self, markers: list[Marker]) -> None:
        """Deletes each of `markers` (by component, stream and category) in one transaction."""
        conn = self._catalog.connection()
        with conn:
            conn.executemany("DELETE FROM markers WHERE component = ? AND asset = ? AND stream_type = ? "
                             "AND category = ?",
                             [(m.component, m.asset, m.stream_type, m.category) for m in markers])

    def every(self) -> list[Marker]:
        """Every marker standing, oldest first."""
        rows = self._catalog.connection().execute(
            """SELECT component, component_type, asset, stream_type, category, timestamp, level,
                      message, occurrences
               FROM markers ORDER BY timestamp""")
        return [Marker(*row) for row in rows]

    def for_stream(self, asset: str, stream_type: str) -> list[Marker]:
        rows = self._catalog.connection().execute(
            """SELECT component, component_type, asset, stream_type, category, timestamp, level,
                      message, occurrences
               FROM markers WHERE asset = ? AND stream_type = ? ORDER BY timestamp""",
            (asset, stream_type))
        return [Marker(*row) for row in rows]
