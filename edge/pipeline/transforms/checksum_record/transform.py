"""checksum_record: stores in field_name the hex digest of each record's JSON text.

The JSON text is what `json.dumps(record, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)` gives, UTF-8 encoded, without field_name itself; numbers as Python
writes them, booleans as true/false, missing values (NaN, no time, empty text) as null, and
timestamps as the ISO 8601 text of the UTC time (Python's isoformat: microseconds when not
zero, '+00:00'). The text of every record is built with numpy string operations a field at
a time; only the hashing is done record by record (hashlib has no vectorised form).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from edge.pipeline.batch import BOOLEAN, NUMBER, TEXT, TIMESTAMP, RecordBatch, field_kind, missing_mask
from edge.pipeline.runtime.streamflow import Warn

ALGORITHMS = ("sha256", "sha1", "md5")
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\b", "\\b"),
            ("\f", "\\f"))


def json_values(values: np.ndarray) -> np.ndarray:
    """Each value's JSON text (StringDType)."""
    kind = field_kind(values)
    missing = missing_mask(values)
    if kind == BOOLEAN:
        text = np.where(values, "true", "false").astype(TEXT)
    elif kind == NUMBER:
        text = values.astype(TEXT)  # numpy writes floats exactly as Python's repr does
    elif kind == TIMESTAMP:
        micro = values.astype("datetime64[us]")
        whole = np.datetime_as_string(micro, unit="s").astype(TEXT)
        fine = np.datetime_as_string(micro, unit="us").astype(TEXT)
        has_fraction = micro.view(np.int64) % 1_000_000 != 0
        text = np.strings.add(np.strings.add('"', np.where(has_fraction, fine, whole)), '+00:00"')
    else:
        text = _json_strings(values.astype(TEXT))
    text[missing] = "null"
    return text


def _json_strings(values: np.ndarray) -> np.ndarray:
    escaped = values
    for raw, replacement in _ESCAPES:
        escaped = np.strings.replace(escaped, raw, replacement)
    encoded = np.strings.encode(escaped, "utf-8")
    if len(encoded) and encoded.dtype.itemsize:
        mat = encoded.view(np.uint8).reshape(len(encoded), encoded.dtype.itemsize)
        odd = np.flatnonzero(((mat > 0) & (mat < 32)).any(axis=1))
        for row in odd.tolist():  # other control characters: \u00XX, as json writes them
            escaped[row] = json.dumps(str(values[row]), ensure_ascii=False)[1:-1]
    return np.strings.add(np.strings.add('"', escaped), '"')


class ChecksumRecordTransform:
    def __init__(self, entry: dict[str, Any]):
        self.field_name = entry.get("field_name")
        if not isinstance(self.field_name, str) or not self.field_name:
            raise ValueError("field_name must name the field that receives the checksum")
        self.algorithm = entry.get("algorithm", "sha256")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
        fields = entry.get("fields")
        if fields is not None and (not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)):
            raise ValueError("fields must be a list of field names")
        self.fields = fields

    def apply(self, batch: RecordBatch, warn: Warn) -> RecordBatch:
        rows = len(batch)
        names = self.fields if self.fields is not None else list(batch.fields)
        names = sorted({n for n in names if n != self.field_name})
        text = np.full(rows, "{", dtype=TEXT)
        for index, name in enumerate(names):
            key = ("," if index else "") + json.dumps(name, ensure_ascii=False) + ":"
            values = batch.fields.get(name)
            piece = json_values(values) if values is not None else np.full(rows, "null", dtype=TEXT)
            text = np.strings.add(np.strings.add(text, key), piece)
        text = np.strings.add(text, "}")
        new = getattr(hashlib, self.algorithm)
        digests = [new(record.encode("utf-8")).hexdigest() for record in text.tolist()]
        fields = dict(batch.fields)
        fields[self.field_name] = np.array(digests, dtype=TEXT)
        return batch.with_fields(fields)
