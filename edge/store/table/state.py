"""The state of one tag table, declared once, and the locks that guard it.

`TagTable` is a thin front over parts that each do one job on this one object: the appender
(append.py), the column flusher (flush.py), the reader (reads.py), the
checkpointer with recovery (checkpoint.py), maintenance (maintenance.py: deletes,
run merges), the tag registry (tags.py) and the open files (files.py). No part
keeps table state of its own; whatever two parts share is a field here.

Locks, in the one order they are taken (a thread holding a lock takes only locks to its
right; each may be skipped):

    checkpoint_lock -> commit_lock -> flush_lock -> rollup_lock -> state_lock
    queue_lock, map_lock: leaves, taken last and never while the other is held

checkpoint_lock  one checkpoint, delete, tag removal or close at a time: the table's committed
                 state in the catalog (lengths, runs, stats, hour rollups, batch keys, the
                 checkpoint's log position) changes only under it. Also guards
                 `last_checkpoint`, and the hand-back of a failed checkpoint's snapshot into
                 the since-the-checkpoint fields and `batch_keys`.
commit_lock      the write path: one commit group at a time writes and syncs the log, resolves
                 and registers tags, computes and publishes its changes. Guards `wal`,
                 `next_seq`, `batch_keys` (a lookup before queueing is only a shortcut; the
                 check that counts runs under it), `tail_max`, `next_tag_id`, `failed`, and
                 the since-the-checkpoint fields `dirty`, `unsynced_perms`, `unsaved_tags`,
                 `garbage`. Tag registration and metadata changes, run merges and the start of
                 a checkpoint take it too; readers never do, so a reader never waits for a
                 log sync.
flush_lock       (reentrant: a flush runs under it and takes it again) writing held-back rows
                 to the column files. File descriptors are opened and closed only under it (or
                 by a delete or close, which hold every lock); guards `open_states`.
rollup_lock      the catalog's hour rollups and `rollup_inflight` change together under it (a
                 checkpoint merging its delta, a delete replacing a tag's rows), so a reader of
                 hour rollups, holding it, sees both before or both after.
state_lock       short; everything a reader snapshots: `by_name`, `by_id`, each TagState's
                 rows, flushed, runs, columns and pending, `stats`, `rollup_pending`,
                 `rollup_inflight`, `unflushed`, `unflushed_bytes`.
queue_lock       `queue`, the batches of concurrent appenders waiting for a commit group.
map_lock         `mapped`, the column maps readers keep.

Readers take the state lock (to snapshot), the flush lock when they need held-back rows and,
for hour rollups, the rollup lock then the state lock; never the commit lock. `closed` is set
under checkpoint, commit and flush lock together. Read without a lock, as hints only: the
sizes `checkpoint_due` and the flush trigger look at, and `flush_queued`.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.catalog import Catalog
from edge.store import errors
from edge.store.background import BackgroundWork
from edge.store.batch_keys import AppliedKeys
from edge.store.rollups import Rollups
from edge.store.runs import EMPTY_TAIL
from edge.store.schema import TableSchema
from edge.store.stats import StatsColumns
from edge.store.table.tag_state import TagState
from edge.store.wal import WriteAheadLog

_field = dataclasses.field


@dataclasses.dataclass(eq=False, slots=True)
class TableState:
    """What the parts of one tag table share (see the module doc for the locks)."""

    # ---- what the table is (set once) ----
    catalog: Catalog
    table_id: int
    schema: TableSchema
    name: str
    directory: Path
    wal: WriteAheadLog
    flusher: BackgroundWork  # the thread that writes held-back rows (flush.py)
    on_log_full: Callable[[], None]  # wakes the housekeeping thread for a checkpoint
    state_budget: int  # tags whose file descriptors stay open
    map_budget: int  # column maps readers keep

    # ---- the locks, in their order ----
    checkpoint_lock: threading.Lock = _field(default_factory=threading.Lock)
    commit_lock: threading.Lock = _field(default_factory=threading.Lock)
    flush_lock: threading.RLock = _field(default_factory=threading.RLock)
    rollup_lock: threading.Lock = _field(default_factory=threading.Lock)
    state_lock: threading.Lock = _field(default_factory=threading.Lock)
    queue_lock: threading.Lock = _field(default_factory=threading.Lock)
    map_lock: threading.Lock = _field(default_factory=threading.Lock)

    # ---- tags (tags.py) ----
    by_name: dict[str, TagState] = _field(default_factory=dict)
    by_id: dict[int, TagState] = _field(default_factory=dict)
    next_tag_id: int = 0
    stats: StatsColumns = _field(default_factory=StatsColumns)  # per tag id
    # per tag id: the time an in-order append must reach to extend the tag's open run
    # (EMPTY_TAIL: open and empty, NO_EXTEND: the last run is closed)
    tail_max: np.ndarray = _field(default_factory=lambda: np.full(64, EMPTY_TAIL, dtype=np.int64))

    # ---- the write path (append.py) ----
    queue: list = _field(default_factory=list)  # batches waiting for a commit group
    next_seq: int = 0  # of the next log record
    batch_keys: AppliedKeys = _field(default_factory=AppliedKeys)
    failed: BaseException | None = None  # an ABORT that could not be written: no more appends
    unaborted: list = _field(default_factory=list)  # ...of these records, until it is written
    closed: bool = False

    # ---- acknowledged rows not yet in the column files (flush.py) ----
    unflushed: dict[TagState, None] = _field(default_factory=dict)  # tags with `pending` rows
    unflushed_bytes: int = 0
    flush_queued: bool = False

    # ---- hour-rollup deltas not yet in the catalog ----
    rollup_pending: list[Rollups] = _field(default_factory=list)
    rollup_inflight: Rollups | None = None  # taken by a checkpoint that is writing it

    # ---- changed since the last checkpoint (checkpoint.py) ----
    dirty: set[TagState] = _field(default_factory=set)
    unsynced_perms: set[Path] = _field(default_factory=set)
    unsaved_tags: list[tuple[int, str, dict]] = _field(default_factory=list)
    garbage: list[Path] = _field(default_factory=list)  # files to delete once checkpointed
    last_checkpoint: float = _field(default_factory=time.monotonic)

    # ---- descriptors and maps kept open (files.py) ----
    open_states: collections.OrderedDict = _field(default_factory=collections.OrderedDict)
    mapped: collections.OrderedDict = _field(default_factory=collections.OrderedDict)

    @classmethod
    def create(cls, catalog: Catalog, table_id: int, schema: TableSchema, directory: Path,
               on_log_full: Callable[[], None], fd_budget: int) -> TableState:
        """The state of a table about to recover: no tags yet, its log and flusher open."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state_budget = max(16, fd_budget // (2 + len(schema.extras)))
        return cls(catalog, table_id, schema, schema.name, directory,
                   wal=WriteAheadLog(directory / "log"),
                   flusher=BackgroundWork(f"store-flush-{schema.name}"),
                   on_log_full=on_log_full, state_budget=state_budget, map_budget=state_budget * 2)

    def check_open(self) -> None:
        if self.closed:
            raise errors.table_not_found(self.name)
