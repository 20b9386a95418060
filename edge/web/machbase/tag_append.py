"""The body of a tag append (`{"date_format": ..., "values": [[name, time, value, ...], ...]}`)
as a store batch, and storing it with Machbase's answer.

The body's shape is checked here (a body that is not of that shape at all is an error and
nothing is appended); the rows are checked, grouped and encoded by `edge.store.ingest`, which
counts the bad ones (`append_failure`) and keeps the good ones.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Sequence

from edge.errors import MB_BAD_REQUEST, EdgeError
from edge.sql.append_body import append_body
from edge.store import ingest
from edge.store.ingest import AppendRows
from edge.store.schema import ColumnSpec
from edge.time.timezone import TimeZone

log = logging.getLogger("edge.web")


_gc_pause_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pauses Python's cyclic garbage collector while a request body is parsed.

    A 10,000-row body is tens of thousands of fresh lists and tuples, none in a cycle, yet
    their allocation triggers collections that scan the whole heap: that doubled the cost of
    an append. Freed by reference counting as usual; the collector resumes when the last
    concurrent parser is done (the switch is process-wide, hence the count).
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_pause_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_pause_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def append_rows(body, columns: Sequence[ColumnSpec], zone: TimeZone) -> AppendRows:
    """The rows of an append body for a table of `columns` (in table order), checked and
    grouped by tag as a store batch (`edge.store.ingest.append_rows`)."""
    rows, date_format = append_body(body)
    if rows and set(map(type, rows)) != {list}:
        raise EdgeError(MB_BAD_REQUEST, 'Every row in "values" must be a list of column values')
    return ingest.append_rows(rows, columns, zone, date_format)


def store_rows(table, rows: AppendRows) -> dict:
    """Stores the good rows of an append; the {"append_success", "append_failure"} fields."""
    log_failures(table.name, rows.failures, rows.reasons)
    stored = table.append_batch(rows.batch) if rows.count else 0
    return {"data": [], "append_success": int(stored), "append_failure": rows.failures}


def log_failures(table: str, failures: int, reasons: list[str]) -> None:
    """The first few reasons rows of an append were refused, for whoever reads the log."""
    if failures:
        log.warning("append to %s: %d row(s) refused; %s", table, failures, "; ".join(reasons))
