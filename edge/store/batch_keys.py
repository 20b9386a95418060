"""The batch keys a tag table has applied: what makes a keyed append idempotent.

A caller that may send the same batch twice (the file receiver re-reads a chunk after a
crash between storing it and recording that it did) names it with a key; the table skips a
batch whose key it has applied. A key is written in the batch's own log record (same write,
same fdatasync), so after a crash the rows and the key are both there or neither. A
checkpoint moves the keys of the records it retires into the catalog (`tag_batch_keys`) in
the same transaction as the committed lengths; start-up loads them back and adds the keys of
the records it replays.

Retention is by count, not age: the newest KEYS_KEPT keys of a table. A key is needed only
while its batch can still be sent again, and for the file receiver that is while the chunk
is the one pending for its file: a single receiver thread stores the chunk and then records
it, so a key would have to be followed by 100,000 other keyed batches in that moment to be
forgotten too early. A limit by age would be unsafe where this one is not: a box switched
off for a month must still recognise, on its first start, the chunk it was storing.
Memory: about 130 bytes a key for 32-character keys (the file receiver's), 13 MB at the
limit, paid only by tables that receive keyed batches.
"""

from __future__ import annotations

import collections

from edge.store import errors

KEYS_KEPT = 100_000
# The catalog may hold this many keys beyond KEYS_KEPT before a checkpoint prunes it, so the
# pruning query runs once per thousands of keyed batches instead of at every checkpoint.
CATALOG_SLACK = 10_000
MAX_KEY_BYTES = 255


def encode_key(key) -> bytes:
    """The key's bytes for the log record; EdgeError for anything but 1-255 bytes of text."""
    if not isinstance(key, str):
        raise errors.invalid_value("A batch key must be text.")
    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.invalid_value("A batch key must be valid text.") from None
    if not 0 < len(raw) <= MAX_KEY_BYTES:
        raise errors.invalid_value(f"A batch key must have 1 to {MAX_KEY_BYTES} bytes, not {len(raw)}.")
    return raw


class AppliedKeys:
    """The newest `kept` keys of one table (a set to look up, a deque for their order) and
    those applied since the last checkpoint, which it writes to the catalog.

    Keys are added under the table's commit lock, the catalog bookkeeping (`take_unsaved`,
    `restore_unsaved`, `checkpointed`) runs under its checkpoint lock; `in` is safe from any
    thread."""

    def __init__(self, kept: int | None = None):
        self.kept = max(1, KEYS_KEPT if kept is None else kept)
        self._keys: set[str] = set()
        self._order: collections.deque[str] = collections.deque()
        self.unsaved: list[tuple[int, str]] = []  # (log sequence number, key)
        self.saved = 0  # rows of this table in the catalog, as far as we know

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def load(self, rows: list[tuple[int, str]], saved: int) -> None:
        """The keys the catalog holds (oldest first), at start-up."""
        self.saved = saved
        for _, key in rows:
            self._remember(key)

    def add(self, seq: int, key: str) -> None:
        """A key whose batch is durable (acknowledged now, or replayed from the log)."""
        self.unsaved.append((seq, key))
        self._remember(key)

    def _remember(self, key: str) -> None:
        if key in self._keys:  # only a key applied again after it was forgotten
            return
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self.kept:
            self._keys.discard(self._order.popleft())

    def take_unsaved(self) -> list[tuple[int, str]]:
        """The keys for the checkpoint that is starting; `restore_unsaved` if it fails."""
        taken, self.unsaved = self.unsaved, []
        return taken

    def restore_unsaved(self, taken: list[tuple[int, str]]) -> None:
        self.unsaved[:0] = taken

    def prune_due(self, adding: int) -> bool:
        """Whether the checkpoint saving `adding` keys should cut the catalog to `kept`."""
        return self.saved + adding > self.kept + CATALOG_SLACK

    def checkpointed(self, added: int, pruned: bool) -> None:
        self.saved = min(self.saved + added, self.kept) if pruned else self.saved + added
