"""rename: renames fields of every record, all renames at once (so {"a": "b", "b": "a"} swaps)."""

from __future__ import annotations

from typing import Any

from edge.pipeline.batch import TIMESTAMP, RecordBatch, field_kind
from edge.pipeline.runtime.streamflow import Warn


class RenameTransform:
    def __init__(self, entry: dict[str, Any]):
        renames = entry.get("renames")
        if not isinstance(renames, dict) or not renames:
            raise ValueError("renames must be an object of old name -> new name")
        if len(set(renames.values())) != len(renames):
            raise ValueError("two old names cannot share a new name")
        self.renames = {str(old): str(new) for old, new in renames.items()}

    def apply(self, batch: RecordBatch, warn: Warn) -> RecordBatch:
        moved = {old: new for old, new in self.renames.items() if old in batch.fields}
        if not moved:
            return batch
        targets = set(moved.values())
        fields = {}
        for name, values in batch.fields.items():
            if name in moved:
                fields[moved[name]] = values
            elif name not in targets:  # a field a rename lands on is overwritten
                fields[name] = values
        time_field = batch.time_field
        if time_field in moved:
            time_field = moved[time_field]
        elif time_field in targets and field_kind(fields[time_field]) != TIMESTAMP:
            time_field = None
        return batch.with_fields(fields, time_field)
