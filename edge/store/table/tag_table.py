"""One tag table: durable batched appends, reads, rollups, stats, deletes and tag metadata.

`TagTable` is the table's public face and only that: it builds the table's state
(`TableState`, state.py, which also writes down the locks and their order) and the
parts that work on it, and hands each call to the part whose job it is:

    Appender        append.py      append, append_by_tag: group commit, log write and sync,
                                         stats/rollup/run changes, publication; log replay
    ColumnFlusher   flush.py       acknowledged rows to the column files, in the background
    Reader          reads.py       read, rollup, aggregate, stats, disksize
    Checkpointer    checkpoint.py  checkpoint, recovery at start-up, close
    Maintenance     maintenance.py delete_before, merging sorted runs
    TagRegistry     tags.py        the tags (registration) and their metadata
    OpenFiles       files.py       descriptors and maps kept open, deleting files

Write path in short: a batch is checked and grouped outside any lock, written to the log and
synced under the commit lock (one sync for the group of concurrent appenders), its changes
computed and then published under the short state lock; its rows reach the column files
later (flusher). A checkpoint makes the column files durable and lets the log go; start-up
cuts the column files to their committed length and replays the log after the checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.catalog import Catalog
from edge.store.query import ReadResult
from edge.store.batch import Batch
from edge.store.rollups import Rollups
from edge.store.schema import ColumnSpec, TableSchema
from edge.store.stats import TagStats
from edge.store.table.append import Appender
from edge.store.table.checkpoint import Checkpointer
from edge.store.table.files import OpenFiles
from edge.store.table.flush import ColumnFlusher
from edge.store.table.maintenance import Maintenance
from edge.store.table.reads import Reader
from edge.store.table.state import TableState
from edge.store.table.tags import TagRegistry


class TagTable:
    """One tag table (see the module doc)."""

    def __init__(self, catalog: Catalog, table_id: int, schema: TableSchema, directory: Path,
                 on_log_full: Callable[[], None] = lambda: None, fd_budget: int = 1024):
        self.table_id = table_id
        self.schema = schema
        self.name = schema.name
        self.columns: list[ColumnSpec] = list(schema.columns)
        self.metadata_columns: list[ColumnSpec] = list(schema.metadata)
        # The state every part shares; tests look into it, nothing else outside the parts does.
        self.state = state = TableState.create(catalog, table_id, schema, directory, on_log_full, fd_budget)
        files = OpenFiles(state)
        flusher = ColumnFlusher(state, files)
        self._checkpointer = checkpointer = Checkpointer(state, flusher, files)
        self._tags = tags = TagRegistry(state, checkpointer, files)
        self._appender = appender = Appender(state, tags, flusher)
        self._reader = Reader(state, flusher, files)
        self._maintenance = Maintenance(state, checkpointer, flusher, files)
        checkpointer.recover(tags, appender)

    # ---- append (Appender) ------------------------------------------------------------------

    def append(self, names, times_ns: np.ndarray, values: np.ndarray,
               extras: dict[str, np.ndarray] | None = None, batch_key: str | None = None) -> int:
        """Stores one batch durably, all or nothing; returns the rows stored.

        `names` is a sequence or numpy array with one tag name per point (unknown tags are
        registered), `times_ns` int64 ns UTC, `values` float64 (NaN: null), `extras` one array
        per extra column (masked entries, None or a missing column: null).

        `batch_key` (text, 1-255 bytes) makes the append idempotent: a batch whose key this
        table has applied is skipped (returns 0); otherwise the key is stored with the batch,
        durable with it in the same log record. Of concurrent appends with one key, one
        applies. A batch that fails does not record its key. An empty batch records none."""
        return self._appender.append(names, times_ns, values, extras, batch_key)

    def append_by_tag(self, tags, times_ns, values, batch_key: str | None = None) -> int:
        """`append` for points that come grouped by tag: `tags[i]` gets the points
        `times_ns[i]`, `values[i]` (one array each, in insertion order). The same guarantees,
        without a tag name per point to group; extra columns get nulls."""
        return self._appender.append_by_tag(tags, times_ns, values, batch_key)

    def append_batch(self, batch: Batch, batch_key: str | None = None) -> int:
        """`append` for a batch `edge.store.ingest` built (checked, grouped, encoded)."""
        return self._appender.append_batch(batch, batch_key)

    # ---- reads (Reader) ---------------------------------------------------------------------

    def read(self, tags: list[str], start_ns: int, end_ns: int, direction: int = 0,
             count: int = 0, offset: int = 0) -> ReadResult:
        """Rows with start_ns <= time <= end_ns, tag after tag in the order given (unknown tags
        give no rows). Direction 0: insertion order, 1: time descending, 2: time ascending.
        `count` (0: all) and `offset` apply to the whole series."""
        return self._reader.read(tags, start_ns, end_ns, direction, count, offset)

    def rollup(self, tags: list[str], start_ns: int, end_ns: int, level: str, multiple: int = 1) -> Rollups:
        """Rollups of the tags combined, in buckets of `multiple` x `level` aligned to the epoch,
        built from the `level` rollup rows whose bucket start lies in [start_ns, end_ns]. Keys
        are bucket starts (ns), ascending; empty buckets are left out."""
        return self._reader.rollup(tags, start_ns, end_ns, level, multiple)

    def aggregate(self, tags: list[str], start_ns: int, end_ns: int, level: str, multiple: int,
                  functions: list[str], count: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(bucket start times ns, {function: float64 array}) from the rollups; see `rollup`.
        Functions among min, max, sum, count, avg; `count` > 0 keeps the first buckets only."""
        return self._reader.aggregate(tags, start_ns, end_ns, level, multiple, functions, count)

    def stats(self, tag: str) -> TagStats | None:
        """The tag's stats, None for an unknown tag."""
        return self._reader.stats(tag)

    def has_tag(self, tag: str) -> bool:
        """Whether the table knows the tag (it has stats), without building them."""
        return self._reader.has_tag(tag)

    def disksize(self, tag: str | None = None) -> int:
        """Bytes on disk of the tag (or of every tag): column files, run indexes, hour rollups."""
        return self._reader.disksize(tag)

    # ---- tags (TagRegistry) -----------------------------------------------------------------

    def tag_names(self) -> list[str]:
        return self._tags.tag_names()

    def add_tags(self, rows: list[dict]) -> tuple[int, int]:
        """Registers tags with their metadata: (registered, failed). A row whose name exists
        already or came earlier in `rows`, or whose values do not fit, fails alone."""
        return self._tags.add_tags(rows)

    def tag_info(self, tag: str) -> dict | None:
        """{name column: tag, metadata column: value...}, or None for an unknown tag."""
        return self._tags.tag_info(tag)

    def update_tag(self, tag: str, values: dict) -> int:
        """Sets metadata columns of a tag; returns 1. Unknown tag or column: EdgeError."""
        return self._tags.update_tag(tag, values)

    def delete_tag(self, tag: str) -> int:
        """Removes a tag without data; returns 1. EdgeError 2324 while it has data."""
        return self._tags.delete_tag(tag)

    # ---- maintenance (Maintenance, Checkpointer) --------------------------------------------

    def delete_before(self, before_ns: int, tags: list[str] | None = None) -> int:
        """Deletes the rows with time < before_ns (of every tag, or of `tags`); returns how many.

        Each affected tag is rewritten into files of its next generation, its stats and hour
        rollups recomputed, and the switch committed in one catalog transaction, so the space
        is freed at once and a crash leaves either the old or the new state."""
        return self._maintenance.delete_before(before_ns, tags)

    def compact_runs(self) -> int:
        """Merges the runs of tags that have too many (late data); returns the merges done."""
        return self._maintenance.compact_runs()

    def checkpoint(self) -> None:
        """Makes the column files durable up to now and lets the log go."""
        self._checkpointer.checkpoint()

    def checkpoint_due(self) -> bool:
        """True when the log has grown enough, or there is news and the last checkpoint is old."""
        return self._checkpointer.checkpoint_due()

    def force_rollup(self) -> None:
        """GET /machiot/rollup: rollups are current after every append; this also persists them."""
        self._checkpointer.checkpoint()

    def close(self, drop: bool = False) -> None:
        """Final checkpoint (unless the table is being dropped), then the log and files close."""
        self._checkpointer.close(drop)
