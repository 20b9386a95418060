"""Records as the outbox keeps them (binary columns) and as the transmits send them (JSON).

Queued, a batch is its columns as they are in memory, so queuing costs a copy and no
conversion: a little-endian uint32 header length, a JSON header
`{"time_field", "columns": [[name, kind, dtype, bytes], ...]}`, then each column's bytes
(numbers, booleans and times as their numpy array, times as datetime64[ns]; text as a JSON
list of strings). The conversion to JSON happens on the transmit's own thread, for the
records being sent, never on the receiver's.

Sent, a piece (a slice of one batch's records) is columnar JSON:
`{"batch_id", "asset", "stream_type", "time_field", "kinds": {field: kind},
"fields": {field: [values]}}`, one list per field with one value per record, written by
orjson straight from the numpy arrays (`dumps`), never a Python step per record. Values, by kind (see
`edge.pipeline.batch`):

- number: JSON numbers; a missing (NaN) or infinite value is null;
- boolean: true / false;
- timestamp: ISO 8601 UTC text ending in Z, to the microsecond (to the nanosecond when a
  value needs it); a missing time (NaT) is null;
- text: strings; the empty string is a missing value, as in the pipeline.

A piece's batch_id is `<frame id>:<first record>-<end record>`: the frame id is the batch key
the receiver gave the batch (or a random id fixed when it was queued, for batches without
one), so the same records sent again carry the same id and a receiving side can recognise a
retry.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import orjson

from edge.pipeline.batch import BOOLEAN, NUMBER, TEXT_KIND, TIMESTAMP, RecordBatch, field_kind
from edge.time.timestamps import NAT

COMPACT = (",", ":")
_HEADER_LENGTH = struct.Struct("<I")
_JSON_COLUMN = "json"


def encode_batch(batch: RecordBatch) -> tuple[dict[str, Any], bytes]:
    """(meta without id/key, data bytes) of `batch`; meta has its stream, count and time range."""
    columns, buffers = [], []
    for name, values in batch.fields.items():
        kind = field_kind(values)
        if kind == TEXT_KIND:
            raw, dtype = orjson.dumps(values.tolist()), _JSON_COLUMN
        else:
            array = np.ascontiguousarray(values.astype("datetime64[ns]") if kind == TIMESTAMP else values)
            raw, dtype = array.tobytes(), array.dtype.str
        columns.append([name, kind, dtype, len(raw)])
        buffers.append(raw)
    times = batch.record_times()
    first = last = None
    if times is not None:
        timed = times[times != NAT]
        if len(timed):
            first, last = int(timed.min()), int(timed.max())
    meta = {"asset": batch.asset, "stream_type": batch.stream_type, "n": len(batch), "t0": first, "t1": last}
    head = json.dumps({"time_field": batch.time_field, "columns": columns}, separators=COMPACT,
                      ensure_ascii=False).encode("utf-8")
    return meta, b"".join([_HEADER_LENGTH.pack(len(head)), head, *buffers])


def decode_batch(data: bytes) -> dict[str, Any]:
    """{"time_field", "kinds", "fields"} of queued data; fields are numpy arrays (text: lists)."""
    (length,) = _HEADER_LENGTH.unpack_from(data)
    head = json.loads(data[_HEADER_LENGTH.size:_HEADER_LENGTH.size + length])
    view = memoryview(data)
    offset = _HEADER_LENGTH.size + length
    kinds, fields = {}, {}
    for name, kind, dtype, size in head["columns"]:
        raw = view[offset:offset + size]
        offset += size
        kinds[name] = kind
        fields[name] = orjson.loads(raw) if dtype == _JSON_COLUMN else np.frombuffer(raw, dtype=dtype)
    if offset != len(data):
        raise ValueError("queued batch does not match its header")
    return {"time_field": head["time_field"], "kinds": kinds, "fields": fields}


def field_values(values: np.ndarray, kind: str) -> Any:
    """One field's values ready for `dumps` (see the module docstring): numbers and booleans as
    numpy arrays (orjson writes them, NaN and infinities as null), times and text as lists."""
    if kind == NUMBER:
        dtype = {"f": np.float64, "i": np.int64, "u": np.uint64}[values.dtype.kind]
        return np.ascontiguousarray(values, dtype=dtype)
    if kind == BOOLEAN:
        return np.ascontiguousarray(values, dtype=bool)
    if kind == TIMESTAMP:
        stamps = values.astype("datetime64[ns]")
        missing = np.isnat(stamps)
        ns = stamps.view(np.int64)[~missing]
        unit = "us" if not len(ns) or not (ns % 1000).any() else "ns"
        shown = np.datetime_as_string(stamps.astype(f"datetime64[{unit}]"), unit=unit, timezone="UTC").astype(object)
        if missing.any():
            shown[missing] = None
        return shown.tolist()
    return values.tolist()


def dumps(document: Any) -> bytes:
    """`document` (pieces and what holds them) as compact UTF-8 JSON."""
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


def piece(frame_id: str, meta: dict[str, Any], data: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    """Records [start, stop) of a queued batch (`decode_batch`), as sent."""
    kinds = data["kinds"]
    fields = {name: values[start:stop] if isinstance(values, list) else field_values(values[start:stop], kinds[name])
              for name, values in data["fields"].items()}
    return {"batch_id": f"{frame_id}:{start}-{stop}", "asset": meta["asset"], "stream_type": meta["stream_type"],
            "time_field": data["time_field"], "kinds": kinds, "fields": fields}
