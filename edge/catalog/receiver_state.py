"""What each receiver remembers per stream: files seen with size and mtime, cursors, offsets."""

from __future__ import annotations

import json
from typing import Any

import apsw

from edge.catalog.database import Catalog, utc_timestamp


class ReceiverState:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def get(self, receiver: str, asset: str, stream_type: str, resource: str) -> Any | None:
        row = self._catalog.connection().execute(
            "SELECT state FROM receiver_state WHERE receiver = ? AND asset = ? AND stream_type = ? AND resource = ?",
            (receiver, asset, stream_type, resource)).fetchone()
        return None if row is None else json.loads(row[0])

    def all_for_stream(self, receiver: str, asset: str, stream_type: str) -> dict[str, Any]:
        rows = self._catalog.connection().execute(
            "SELECT resource, state FROM receiver_state WHERE receiver = ? AND asset = ? AND stream_type = ?",
            (receiver, asset, stream_type))
        return {resource: json.loads(state) for resource, state in rows}

    def put(self, receiver: str, asset: str, stream_type: str, resource: str, state: Any,
            conn: apsw.Connection | None = None) -> None:
        """Records `state`; pass `conn` inside a transaction to commit it with other work."""
        (conn or self._catalog.connection()).execute(
            """INSERT INTO receiver_state (receiver, asset, stream_type, resource, state, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (receiver, asset, stream_type, resource)
               DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at""",
            (receiver, asset, stream_type, resource, json.dumps(state), utc_timestamp()))

    def delete(self, receiver: str, asset: str, stream_type: str, resources: list[str]) -> None:
        """Forgets some resources of a stream (files that are gone) in one transaction."""
        conn = self._catalog.connection()
        with conn:
            conn.executemany(
                "DELETE FROM receiver_state WHERE receiver = ? AND asset = ? AND stream_type = ? AND resource = ?",
                [(receiver, asset, stream_type, resource) for resource in resources])

    def purge_stream(self, receiver: str, asset: str, stream_type: str) -> int:
        """Forgets everything about one stream, so its data is read again (restream)."""
        conn = self._catalog.connection()
        conn.execute("DELETE FROM receiver_state WHERE receiver = ? AND asset = ? AND stream_type = ?",
                     (receiver, asset, stream_type))
        return conn.changes()
