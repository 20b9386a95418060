"""Records as the outbox keeps them and as the transmits send them: columnar JSON.

A batch is kept as `{"time_field": ..., "kinds": {field: kind}, "fields": {field: [values]}}`,
one list per field with one value per record, so encoding is numpy's and json's C code, never
a Python step per record. Values, by kind (see `edge.pipeline.batch`):

- number: JSON numbers; a missing (NaN) or infinite value is null;
- boolean: true / false;
- timestamp: ISO 8601 UTC text ending in Z, to the microsecond (to the nanosecond when a
  value needs it); a missing time (NaT) is null;
- text: strings; the empty string is a missing value, as in the pipeline.

A piece (what is sent) is a slice of one batch's records:
`{"batch_id", "asset", "stream_type", "time_field", "kinds", "fields"}`. Its batch_id is
`<frame id>:<first record>-<end record>`: the frame id is the batch key the receiver gave the
batch (or a random id fixed when it was queued, for batches without one), so the same records
sent again carry the same id and a receiving side can recognise a retry.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from edge.pipeline.batch import BOOLEAN, NUMBER, TIMESTAMP, RecordBatch, field_kind
from edge.time.timestamps import NAT

COMPACT = (",", ":")


def encode_batch(batch: RecordBatch) -> tuple[dict[str, Any], bytes]:
    """(meta without id/key, data bytes) of `batch`; meta has its stream, count and time range."""
    kinds, fields = {}, {}
    for name, values in batch.fields.items():
        kind = field_kind(values)
        kinds[name] = kind
        fields[name] = field_values(values, kind)
    times = batch.record_times()
    first = last = None
    if times is not None:
        timed = times[times != NAT]
        if len(timed):
            first, last = int(timed.min()), int(timed.max())
    meta = {"asset": batch.asset, "stream_type": batch.stream_type, "n": len(batch), "t0": first, "t1": last}
    data = json.dumps({"time_field": batch.time_field, "kinds": kinds, "fields": fields}, separators=COMPACT,
                      ensure_ascii=False, allow_nan=False).encode("utf-8")
    return meta, data


def field_values(values: np.ndarray, kind: str) -> list[Any]:
    """One field's values as JSON-ready Python values (see the module docstring)."""
    if kind == NUMBER:
        if values.dtype.kind != "f":
            return values.tolist()
        finite = np.isfinite(values)
        if finite.all():
            return values.tolist()
        shown = values.astype(object)
        shown[~finite] = None
        return shown.tolist()
    if kind == BOOLEAN:
        return values.tolist()
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


def piece(frame_id: str, meta: dict[str, Any], data: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    """Records [start, stop) of a queued batch, as sent."""
    whole = start == 0 and stop == meta["n"]
    return {"batch_id": f"{frame_id}:{start}-{stop}", "asset": meta["asset"], "stream_type": meta["stream_type"],
            "time_field": data["time_field"], "kinds": data["kinds"],
            "fields": data["fields"] if whole else {k: v[start:stop] for k, v in data["fields"].items()}}
