"""Record batches: the records of one stream as one numpy array per field.

A batch is what a parser produces and what transforms and sinks consume. It is columnar, so
per-record work is done with numpy over whole fields, never with a Python dict per record.
Every field array has one element per record and one of four kinds:

- number: float64 (NaN is a missing value) or int64;
- boolean: bool;
- timestamp: datetime64[ns], UTC (NaT is a missing value);
- text: numpy StringDType (the empty string is a missing value, as an empty CSV cell).

`time_field` names the field holding each record's timestamp (the record time the historian
stores points at); see `record_times`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from edge.time.textfields import TEXT

NUMBER = "number"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"
TEXT_KIND = "text"
_SAME = object()  # with_fields: keep the time field


def field_kind(values: np.ndarray) -> str:
    """number, boolean, timestamp or text, from the array's dtype."""
    kind = values.dtype.kind
    if kind in "iuf":
        return NUMBER
    if kind == "b":
        return BOOLEAN
    if kind == "M":
        return TIMESTAMP
    return TEXT_KIND


def missing_mask(values: np.ndarray) -> np.ndarray:
    """True where a field has no value."""
    kind = values.dtype.kind
    if kind == "f":
        return np.isnan(values)
    if kind == "M":
        return np.isnat(values)
    if kind in "iub":
        return np.zeros(len(values), dtype=bool)
    return values == ""


@dataclasses.dataclass(frozen=True)
class RecordBatch:
    asset: str
    stream_type: str
    fields: Mapping[str, np.ndarray]
    time_field: str | None = None

    def __post_init__(self):
        lengths = {len(v) for v in self.fields.values()}
        if len(lengths) > 1:
            raise ValueError(f"fields of a batch must have one length, got {sorted(lengths)}")

    @property
    def stream_id(self) -> str:
        """`asset:stream_type`, what filter_stream patterns are matched against."""
        return f"{self.asset}:{self.stream_type}"

    def __len__(self) -> int:
        for values in self.fields.values():
            return len(values)
        return 0

    def kind(self, name: str) -> str:
        return field_kind(self.fields[name])

    def with_fields(self, fields: Mapping[str, np.ndarray], time_field: str | None | object = _SAME) -> RecordBatch:
        """A batch with `fields` in place of this one's (and time_field, when given)."""
        chosen = self.time_field if time_field is _SAME else time_field
        if chosen is not None and chosen not in fields:
            chosen = None
        return RecordBatch(self.asset, self.stream_type, dict(fields), chosen)

    def take(self, rows: np.ndarray) -> RecordBatch:
        """The records `rows` selects (a boolean mask or indices), in that order."""
        return self.with_fields({name: values[rows] for name, values in self.fields.items()})

    def record_times(self) -> np.ndarray | None:
        """Each record's time as int64 ns since the epoch (UTC), or None without a time field.

        The record time is the batch's `time_field`: the first parse_timestamps (or parse_dates)
        field of the parser, else the first field a convert_timestamps transform produced.
        Missing times are NaT (the int64 minimum).
        """
        if self.time_field is None:
            return None
        return self.fields[self.time_field].astype("datetime64[ns]").view(np.int64)

    @staticmethod
    def concat(batches: list[RecordBatch]) -> RecordBatch:
        """One batch of the records of `batches` (same stream, same fields) in order."""
        first = batches[0]
        if len(batches) == 1:
            return first
        names = list(first.fields)
        return first.with_fields({n: np.concatenate([b.fields[n] for b in batches]) for n in names})
