"""The tags of a tag table: the registry the write path resolves names in, and tag metadata
as the Machbase tags/list API needs it.

A part of `TagTable` over its `TableState` (see state.py for the locks). A tag is a
`TagState` in `by_name`/`by_id` plus its slots in the per-tag-id arrays (`stats`,
`tail_max`). The metadata lives in the catalog (one JSON object per tag); registering and
removing tags runs under the commit lock, so it never races an append registering the same
name.
"""

from __future__ import annotations

import numpy as np

from edge.errors import EdgeError
from edge.store import errors, tag_catalog
from edge.store.runs import EMPTY_TAIL
from edge.store.schema import check_metadata_value, check_tag_name, metadata_row
from edge.store.table.checkpoint import Checkpointer
from edge.store.table.files import OpenFiles
from edge.store.table.state import TableState
from edge.store.table.tag_state import TagState, column_files


class TagRegistry:
    def __init__(self, table: TableState, checkpointer: Checkpointer, files: OpenFiles):
        self._table = table
        self._checkpointer = checkpointer
        self._files = files

    # ---- the registry ------------------------------------------------------------------------

    def new_state(self, tag_id: int, name: str, gen: int) -> TagState:
        table = self._table
        return TagState(tag_id, name, gen, column_files(table.directory, table.schema, tag_id, gen))

    def make_room(self, tag_id: int) -> None:
        """Grows the per-tag arrays to hold `tag_id`, which starts as a tag without rows."""
        table = self._table
        table.stats.ensure(tag_id)
        tail_max = table.tail_max
        if tag_id >= len(tail_max):
            grown = np.full(max(tag_id + 1, 2 * len(tail_max)), EMPTY_TAIL, dtype=np.int64)
            grown[:len(tail_max)] = tail_max
            table.tail_max = tail_max = grown
        tail_max[tag_id] = EMPTY_TAIL

    def register(self, state: TagState) -> None:
        table = self._table
        with table.state_lock:
            table.by_name[state.name] = state
            table.by_id[state.tag_id] = state
        table.next_tag_id = max(table.next_tag_id, state.tag_id + 1)

    # ---- tags and their metadata -------------------------------------------------------------

    def tag_names(self) -> list[str]:
        with self._table.state_lock:
            return list(self._table.by_name)

    def add_tags(self, rows: list[dict]) -> tuple[int, int]:
        """Registers tags with their metadata: (registered, failed). A row whose name exists
        already or came earlier in `rows`, or whose values do not fit, fails alone."""
        table = self._table
        schema = table.schema
        name_column = schema.name_column.name
        accepted: dict[str, dict] = {}
        failed = 0
        for row in rows:
            try:
                if not isinstance(row, dict):
                    raise errors.invalid_value("A tag row must be an object.")
                upper = {str(k).strip().upper(): v for k, v in row.items()}
                name = upper.pop(name_column, None)
                if name is None:
                    name = upper.pop("NAME", None)
                check_tag_name(schema, name)
                metadata = metadata_row(schema, upper)
            except EdgeError:
                failed += 1
                continue
            if name in accepted:
                failed += 1
                continue
            accepted[name] = metadata
        with table.commit_lock:
            table.check_open()
            fresh = [(name, meta) for name, meta in accepted.items() if name not in table.by_name]
            failed += len(accepted) - len(fresh)
            states = [(self.new_state(table.next_tag_id + i, name, 0), meta) for i, (name, meta) in enumerate(fresh)]
            conn = table.catalog.connection()
            with conn:
                tag_catalog.insert_tags(conn, table.table_id, [(s.tag_id, s.name, meta) for s, meta in states])
            for state, _ in states:
                self.make_room(state.tag_id)
                self.register(state)
        return len(states), failed

    def tag_info(self, tag: str) -> dict | None:
        """{name column: tag, metadata column: value...}, or None for an unknown tag."""
        table = self._table
        with table.state_lock:
            state = table.by_name.get(tag)
        if state is None:
            return None
        metadata = tag_catalog.tag_metadata(table.catalog.connection(), table.table_id, state.tag_id) or {}
        info = {table.schema.name_column.name: state.name}
        info.update({c.name: metadata.get(c.name) for c in table.schema.metadata})
        return info

    def update_tag(self, tag: str, values: dict) -> int:
        """Sets metadata columns of a tag; returns 1. Unknown tag or column: EdgeError."""
        table = self._table
        with table.state_lock:
            state = table.by_name.get(tag)
        if state is None:
            raise errors.tag_not_found(table.name, tag)
        if not isinstance(values, dict) or not values:
            raise errors.invalid_value("Expected an object of metadata columns to set.")
        changes = {}
        for key, value in values.items():
            column = table.schema.metadata_column(key)
            changes[column.name] = check_metadata_value(column, value)
        conn = table.catalog.connection()
        with table.commit_lock:
            table.check_open()
            if table.by_name.get(tag) is not state:
                raise errors.tag_not_found(table.name, tag)
            with conn:
                tag_catalog.insert_tags(conn, table.table_id, [(state.tag_id, state.name, {})])
                current = tag_catalog.tag_metadata(conn, table.table_id, state.tag_id) or {}
                current.update(changes)
                tag_catalog.set_tag_metadata(conn, table.table_id, state.tag_id, current)
        return 1

    def delete_tag(self, tag: str) -> int:
        """Removes a tag without data; returns 1. EdgeError 2324 while it has data."""
        table = self._table
        with table.checkpoint_lock, table.commit_lock, table.flush_lock:
            table.check_open()
            state = table.by_name.get(tag)
            if state is None:
                raise errors.tag_not_found(table.name, tag)
            if state.rows or table.stats.row(state.tag_id)["count"]:
                raise errors.tag_has_data()
            self._checkpointer.checkpoint_locked()
            conn = table.catalog.connection()
            with conn:
                tag_catalog.delete_tag(conn, table.table_id, state.tag_id)
            with table.state_lock:
                del table.by_name[state.name]
                del table.by_id[state.tag_id]
                table.stats.reset(state.tag_id)
            self._files.forget(state)
            for column in state.columns:
                column.close_fd()
            self._files.unlink(state.files())
            return 1
