"""Acknowledged rows to the column files: several batches of a tag in one write per column.

A part of `TagTable` over its `TableState` (see state.py for the locks). The appender
publishes each batch's rows as pieces held back in memory (`TagState.pending`); they are
written here (pwrite, no sync: the log has them, a checkpoint syncs), on the table's flusher
thread while the appender goes on. The appender writes them itself when the flusher falls far
behind; a reader that needs such rows, and a checkpoint, flush first.
"""

from __future__ import annotations

import logging

from edge.store.table.files import OpenFiles
from edge.store.table.state import TableState

log = logging.getLogger("edge.store")

FLUSH_BYTES = 4 << 20  # acknowledged rows held back to write each tag's columns in one go
FLUSH_BEHIND_BYTES = 4 * FLUSH_BYTES  # held back while the flusher thread lags: the appender writes


class ColumnFlusher:
    def __init__(self, table: TableState, files: OpenFiles):
        self._table = table
        self._files = files

    def request_flush(self) -> None:
        """Has the held-back rows written on the flusher thread, so the appender goes on with
        its next batch meanwhile; one that falls far behind is caught up here."""
        table = self._table
        if table.unflushed_bytes >= FLUSH_BEHIND_BYTES:
            self.flush_logging_errors()
        elif not table.flush_queued:
            table.flush_queued = True
            table.flusher.start(self._background_flush)

    def _background_flush(self) -> None:
        table = self._table
        table.flush_queued = False
        with table.flush_lock:
            if not table.closed:
                self.flush_logging_errors()

    def flush_logging_errors(self) -> None:
        try:
            self.flush()
        except OSError as exc:
            # Acknowledged already (the log has it): keep it pending and try again later.
            log.error("table %s: writing column files failed, will retry: %s", self._table.name, exc)

    def flush(self) -> None:
        """Writes every acknowledged row still held back to its column files (no sync: the
        log has them; a checkpoint syncs). Readers call it before reading such rows."""
        table = self._table
        with table.flush_lock:
            with table.state_lock:
                states, table.unflushed = list(table.unflushed), {}
                work = [(state, state.pending) for state in states]
                for state in states:
                    state.pending = []
                table.unflushed_bytes = 0
            written = []
            try:
                for state, pieces in work:
                    first = pieces[0][0]
                    end = pieces[-1][0] + pieces[-1][2] - pieces[-1][1]
                    for i, column in enumerate(state.columns):
                        if len(pieces) == 1:
                            _, s, e, arrays = pieces[0]
                            column.write_rows(first, end, arrays[i][s:e])
                        else:
                            column.write_pieces(first, end, [arrays[i][s:e] for _, s, e, arrays in pieces])
                    written.append((state, end))
                    # Within the budget as it goes: one flush may write more tags than may be open.
                    self._files.limit_open_files((state,))
            finally:
                with table.state_lock:
                    for state, end in written:
                        state.flushed = end
                    done = {state for state, _ in written}
                    for state, pieces in work:
                        if state not in done:  # a failed write: put them back, in order
                            state.pending[:0] = pieces
                            table.unflushed[state] = None
