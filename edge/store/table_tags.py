"""Tag metadata of a tag table, as the Machbase tags/list API needs it.

A part of `TagTable` (see edge/store/table.py for the state and locks it relies on). The
metadata lives in the catalog (one JSON object per tag); registering and removing tags runs
under the commit lock, so it never races an append registering the same name.
"""

from __future__ import annotations

from edge.store import errors, tag_catalog
from edge.store.schema import check_metadata_value, check_tag_name, metadata_row


class TableTags:
    def tag_names(self) -> list[str]:
        with self._state_lock:
            return list(self._by_name)

    def add_tags(self, rows: list[dict]) -> tuple[int, int]:
        """Registers tags with their metadata: (registered, failed). A row whose name exists
        already or came earlier in `rows`, or whose values do not fit, fails alone."""
        name_column = self.schema.name_column.name
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
                check_tag_name(self.schema, name)
                metadata = metadata_row(self.schema, upper)
            except errors.EdgeError:
                failed += 1
                continue
            if name in accepted:
                failed += 1
                continue
            accepted[name] = metadata
        with self._commit_lock:
            self._check_open()
            fresh = [(name, meta) for name, meta in accepted.items() if name not in self._by_name]
            failed += len(accepted) - len(fresh)
            states = [(self._new_state(self._next_tag_id + i, name, 0), meta) for i, (name, meta) in enumerate(fresh)]
            conn = self._catalog.connection()
            with conn:
                tag_catalog.insert_tags(conn, self.table_id, [(s.tag_id, s.name, meta) for s, meta in states])
            for state, _ in states:
                self._make_room(state.tag_id)
                self._register(state)
        return len(states), failed

    def tag_info(self, tag: str) -> dict | None:
        """{name column: tag, metadata column: value...}, or None for an unknown tag."""
        with self._state_lock:
            state = self._by_name.get(tag)
        if state is None:
            return None
        metadata = tag_catalog.tag_metadata(self._catalog.connection(), self.table_id, state.tag_id) or {}
        info = {self.schema.name_column.name: state.name}
        info.update({c.name: metadata.get(c.name) for c in self.schema.metadata})
        return info

    def update_tag(self, tag: str, values: dict) -> int:
        """Sets metadata columns of a tag; returns 1. Unknown tag or column: EdgeError."""
        with self._state_lock:
            state = self._by_name.get(tag)
        if state is None:
            raise errors.tag_not_found(self.name, tag)
        if not isinstance(values, dict) or not values:
            raise errors.invalid_value("Expected an object of metadata columns to set.")
        changes = {}
        for key, value in values.items():
            column = self.schema.metadata_column(key)
            changes[column.name] = check_metadata_value(column, value)
        conn = self._catalog.connection()
        with self._commit_lock:
            self._check_open()
            if self._by_name.get(tag) is not state:
                raise errors.tag_not_found(self.name, tag)
            with conn:
                tag_catalog.insert_tags(conn, self.table_id, [(state.tag_id, state.name, {})])
                current = tag_catalog.tag_metadata(conn, self.table_id, state.tag_id) or {}
                current.update(changes)
                tag_catalog.set_tag_metadata(conn, self.table_id, state.tag_id, current)
        return 1

    def delete_tag(self, tag: str) -> int:
        """Removes a tag without data; returns 1. EdgeError 2324 while it has data."""
        with self._checkpoint_lock, self._commit_lock, self._flush_lock:
            self._check_open()
            state = self._by_name.get(tag)
            if state is None:
                raise errors.tag_not_found(self.name, tag)
            if state.rows or self._stats.row(state.tag_id)["count"]:
                raise errors.tag_has_data()
            self._checkpoint_locked()
            conn = self._catalog.connection()
            with conn:
                tag_catalog.delete_tag(conn, self.table_id, state.tag_id)
            with self._state_lock:
                del self._by_name[state.name]
                del self._by_id[state.tag_id]
                self._stats.reset(state.tag_id)
            self._open_states.pop(state, None)
            for column in state.columns:
                column.close_fd()
            self._unlink(state.files())
            return 1
