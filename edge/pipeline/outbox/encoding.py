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
        if unit == "us" and not missing.any() and len(ns) and ns.min() >= 0:
            return _microsecond_texts(stamps.astype("datetime64[us]"))
        shown = np.datetime_as_string(stamps.astype(f"datetime64[{unit}]"), unit=unit, timezone="UTC").astype(object)
        if missing.any():
            shown[missing] = None
        return shown.tolist()
    return values.tolist()


# numpy's datetime_as_string costs about a microsecond a value, more than the rest of a record's
# JSON; the common case (no missing time, whole microseconds, from 1970 on) is written here
# with whole-array arithmetic instead: the same text for a third of the CPU. (Nanosecond times
# end before 2262, so four year digits always suffice.)
_STAMP = b'"0000-00-00T00:00:00.000000Z",'
_PAIRS = np.array([[48 + n // 10, 48 + n % 10] for n in range(100)], dtype=np.uint8).view(np.uint16).ravel()  # "00"..


def _microsecond_texts(stamps: np.ndarray) -> orjson.Fragment:
    """datetime64[us] values (none missing, from 1970 on) as the JSON list of their ISO 8601
    texts `"YYYY-MM-DDTHH:MM:SS.ffffffZ"`, built as one byte array."""
    days = stamps.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    within = (stamps - days).view(np.int64)  # microseconds into the day
    seconds, micro = np.divmod(within, 1_000_000)
    year = years.view(np.int64) + 1970
    text = np.tile(np.frombuffer(_STAMP, dtype=np.uint8), (len(stamps), 1))
    for column, value in ((1, year // 100), (3, year % 100), (6, (months - years).view(np.int64) + 1),
                          (9, (days - months).view(np.int64) + 1), (12, seconds // 3600),
                          (15, seconds // 60 % 60), (18, seconds % 60), (21, micro // 10_000),
                          (23, micro // 100 % 100), (25, micro % 100)):
        text[:, column:column + 2] = _PAIRS.take(value).view(np.uint8).reshape(-1, 2)
    return orjson.Fragment(b"[" + text.tobytes()[:-1] + b"]")


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
