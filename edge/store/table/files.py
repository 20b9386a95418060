"""The files a tag table keeps open: descriptors of recently written tags and maps of recently
read columns, each within a budget, and the deletion of files no tag refers to any more.

A part of `TagTable` over its `TableState` (see state.py for the locks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from edge.store.query import TagSnapshot
from edge.store.table.state import TableState
from edge.store.table.tag_state import TagState


class OpenFiles:
    def __init__(self, table: TableState):
        self._table = table

    def limit_open_files(self, touched: Iterable[TagState]) -> None:
        """Keeps the file descriptors of recently written tags open, closes the oldest.
        Called under the flush lock, the only place besides rewrites where fds are used."""
        opened = self._table.open_states
        for state in touched:
            opened[state] = None
            opened.move_to_end(state)
        while len(opened) > self._table.state_budget:
            state, _ = opened.popitem(last=False)
            for column in state.columns:
                column.close_fd()

    def forget(self, state: TagState) -> None:
        """Stops tracking the descriptors of a tag being rewritten or removed (every lock held)."""
        self._table.open_states.pop(state, None)

    def note_maps(self, snapshots: list[TagSnapshot]) -> None:
        """Keeps the maps of recently read columns, drops the oldest (each map holds a file)."""
        table = self._table
        with table.map_lock:
            mapped = table.mapped
            for snap in snapshots:
                for column in snap.columns:
                    if column.has_map:
                        mapped[column] = None
                        mapped.move_to_end(column)
                for run in snap.runs:
                    if run.perm is not None and run.perm.has_map:
                        mapped[run.perm] = None
                        mapped.move_to_end(run.perm)
            while len(mapped) > table.map_budget:
                column, _ = mapped.popitem(last=False)
                column.drop_map()

    def note_maps_of(self, snapshot: TagSnapshot) -> None:
        """note_maps of one tag, as a query moves past it."""
        self.note_maps([snapshot])

    def unlink(self, paths: Iterable[Path]) -> None:
        """Deletes files no tag refers to any more; their maps go too, or the space would
        stay taken until the map was dropped (a reader still reading keeps its own)."""
        doomed = set(paths)
        table = self._table
        with table.map_lock:
            for column in [c for c in table.mapped if c.path in doomed]:
                del table.mapped[column]
                column.drop_map()
        for path in doomed:
            path.unlink(missing_ok=True)
