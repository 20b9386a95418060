"""replicate: adds copies of fields (copy_fields) and constant fields (constant_fields)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.pipeline.batch import TEXT, TIMESTAMP, RecordBatch, field_kind
from edge.pipeline.runtime.streamflow import Warn


def constant_column(value: Any, rows: int) -> np.ndarray:
    """A field holding `value` in every record: text, boolean, int64 or float64 (null: missing text)."""
    if value is None:
        return np.full(rows, "", dtype=TEXT)
    if isinstance(value, bool):
        return np.full(rows, value, dtype=bool)
    if isinstance(value, int):
        return np.full(rows, value, dtype=np.int64 if -2**63 <= value < 2**63 else np.float64)
    if isinstance(value, float):
        return np.full(rows, value, dtype=np.float64)
    return np.full(rows, str(value), dtype=TEXT)


class ReplicateTransform:
    def __init__(self, entry: dict[str, Any]):
        copies = entry.get("copy_fields") or {}
        constants = entry.get("constant_fields") or {}
        if not isinstance(copies, dict) or not isinstance(constants, dict):
            raise ValueError("copy_fields and constant_fields must be objects")
        if not copies and not constants:
            raise ValueError("give copy_fields or constant_fields")
        self.copies = {str(new): str(source) for new, source in copies.items()}
        self.constants = {str(name): value for name, value in constants.items()}

    def apply(self, batch: RecordBatch, warn: Warn) -> RecordBatch:
        fields = dict(batch.fields)
        for new, source in self.copies.items():  # from the record as it came in
            if source in batch.fields:
                fields[new] = batch.fields[source].copy()
        for name, value in self.constants.items():
            fields[name] = constant_column(value, len(batch))
        time_field = batch.time_field
        if time_field is not None and field_kind(fields[time_field]) != TIMESTAMP:
            time_field = None
        return batch.with_fields(fields, time_field)
