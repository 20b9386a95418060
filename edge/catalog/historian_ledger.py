"""The historian ledger: what the historian has taken of each file, kept apart from the
receiver state so that a restream, which purges that state, cannot store a record twice.

One entry per receiver, stream and file (catalog table `historian_ledger`), written in the
same transaction as the file's receiver state:

- `taken`: the file's bytes [0, taken) have been handed to the historian (a record end);
- `head`, `head_length`: the fingerprint of the file's first bytes, so a file read again is
  known to be the same file (as the receiver tells a grown file from a rewritten one: the same
  first bytes and not shorter than what was read);
- `pending`: the chunk being handed over when the entry was written (its byte range, batch
  key and content digest), which may or may not have been stored.

A file read again (after a restream, or any loss of its receiver state) whose identity
matches its entry is parsed from the start as usual, but the records of [0, taken) go to no
historian, and a pending chunk is handed over again with its original batch key, which the
historian skips if it stored it. So the historian holds every record of a file once, however
long ago it was stored, however the file was cut into chunks then, and whatever the
configuration was. An entry goes when its file is gone from the folder.
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from edge.catalog.database import Catalog, utc_timestamp


class HistorianLedger:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def for_stream(self, receiver: str, asset: str, stream_type: str) -> dict[str, dict[str, Any]]:
        rows = self._catalog.connection().execute(
            "SELECT resource, entry FROM historian_ledger WHERE receiver = ? AND asset = ? AND stream_type = ?",
            (receiver, asset, stream_type))
        return {resource: json.loads(entry) for resource, entry in rows}

    def put(self, conn: apsw.Connection, receiver: str, asset: str, stream_type: str, resource: str,
            entry: dict[str, Any]) -> None:
        """Records `entry`; call inside the transaction that writes the file's receiver state."""
        conn.execute(
            """INSERT INTO historian_ledger (receiver, asset, stream_type, resource, entry, updated_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (receiver, asset, stream_type, resource)
               DO UPDATE SET entry = excluded.entry, updated_at = excluded.updated_at""",
            (receiver, asset, stream_type, resource, json.dumps(entry), utc_timestamp()))

    def delete(self, receiver: str, asset: str, stream_type: str, resources: list[str]) -> None:
        """Forgets files that are gone, in one transaction."""
        conn = self._catalog.connection()
        with conn:
            conn.executemany(
                "DELETE FROM historian_ledger WHERE receiver = ? AND asset = ? AND stream_type = ? AND resource = ?",
                [(receiver, asset, stream_type, resource) for resource in resources])
