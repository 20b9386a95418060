"""OPC UA values as the pipeline takes them: samples from DataValues, record batches, batch keys.

A sample's time is its source timestamp, or the server timestamp when the source gives none
(or the time it was received, when neither is there). Its quality comes from the top two bits
of the status code: Good, Uncertain or Bad. Values keep their Python kind (numbers, booleans,
text; arrays and structures as their text), so numbers and booleans reach the historian and
the rest stays in the records for the transmits.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from edge.pipeline.batch import RecordBatch
from edge.pipeline.receivers.opcua.options import TIME_FIELD, Tag
from edge.pipeline.runtime.records import column_array
from edge.time.civil import datetime_to_ns

GOOD, UNCERTAIN, BAD = "good", "uncertain", "bad"


@dataclasses.dataclass(frozen=True)
class Sample:
    value: Any
    time_ns: int
    quality: str  # GOOD, UNCERTAIN or BAD
    status: str  # the status code's name, e.g. "Good", "BadSensorFailure"


def sample_of(data_value: Any, received_ns: int) -> Sample:
    """The sample an asyncua DataValue holds."""
    status = data_value.StatusCode
    code = 0 if status is None else int(status.value)
    quality = (GOOD, UNCERTAIN, BAD, BAD)[(code >> 30) & 3]
    stamp = data_value.SourceTimestamp or data_value.ServerTimestamp
    variant = data_value.Value
    value = None if variant is None else plain_value(variant.Value)
    return Sample(value, received_ns if stamp is None else _ns(stamp), quality,
                  "Good" if status is None else status.name)


def plain_value(value: Any) -> Any:
    """A value the record batch takes: numbers, booleans, text, datetimes as they are; OPC UA
    texts and names as their text; arrays and structures as text."""
    if value is None or isinstance(value, (bool, int, float, str, datetime.datetime)):
        return value
    text = getattr(value, "Text", None)  # LocalizedText
    if isinstance(text, str):
        return text
    if hasattr(value, "to_string"):  # NodeId, QualifiedName
        return value.to_string()
    if isinstance(value, (list, tuple)):
        return str([plain_value(v) for v in value])
    return value  # bytes become hex, anything else its str(), in column_array


def _ns(stamp: datetime.datetime) -> int:
    return datetime_to_ns(stamp)  # naive ones are UTC, as asyncua gives them


def changes_batch(asset: str, stream_type: str, tags: Sequence[Tag], samples: Sequence[tuple[int, Sample]]
                  ) -> RecordBatch:
    """The changes (tag index, sample), in order, as records at their source times: changes of
    different tags at one time share a record (a server that scans its tags together stamps
    them alike), a tag changing twice at one time makes a second record. A record holds only
    the fields of the tags that changed at its time."""
    times: list[int] = []
    row_tags: list[set[int]] = []
    rows_at: dict[int, list[int]] = {}
    by_tag: dict[int, tuple[list[int], list[Any]]] = {}
    for tag, sample in samples:
        rows = rows_at.setdefault(sample.time_ns, [])
        row = next((r for r in rows if tag not in row_tags[r]), None)
        if row is None:
            row = len(times)
            times.append(sample.time_ns)
            row_tags.append(set())
            rows.append(row)
        row_tags[row].add(tag)
        placed = by_tag.setdefault(tag, ([], []))
        placed[0].append(row)
        placed[1].append(sample.value)
    count = len(times)
    fields: dict[str, np.ndarray] = {TIME_FIELD: np.array(times, dtype=np.int64).view("datetime64[ns]")}
    for tag in sorted(by_tag):
        rows, values = by_tag[tag]
        fields[tags[tag].exportname] = _sparse_column(count, rows, values)
    return RecordBatch(asset, stream_type, fields, TIME_FIELD)


def _sparse_column(count: int, rows: list[int], values: list[Any]) -> np.ndarray:
    """A field of `count` records holding `values` at `rows` and nothing elsewhere."""
    if len(rows) < count and all(isinstance(v, (int, float)) for v in values):  # bools are ints
        column = np.full(count, np.nan)
        column[rows] = values
        return column
    full: list[Any] = [None] * count
    for row, value in zip(rows, values):
        full[row] = value
    return column_array(full)


def read_batch(asset: str, stream_type: str, tags: Sequence[Tag], samples: Sequence[Sample | None]
               ) -> RecordBatch | None:
    """One record of a read: every usable tag's value, at the newest time among them; None
    when no tag gave a value."""
    usable = [(tag, s) for tag, s in zip(tags, samples) if s is not None and s.quality != BAD]
    if not usable:
        return None
    fields: dict[str, np.ndarray] = {
        TIME_FIELD: np.array([max(s.time_ns for _, s in usable)], dtype=np.int64).view("datetime64[ns]")}
    for tag, sample in usable:
        fields[tag.exportname] = column_array([sample.value])
    return RecordBatch(asset, stream_type, fields, TIME_FIELD)


def content_digest(batch: RecordBatch) -> str:
    """A digest of what a batch holds (times and values of every field): the same samples
    give the same digest, so the same batch stored again is a no-op in the historian."""
    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(batch.fields):
        values = batch.fields[name]
        digest.update(name.encode("utf-8") + b"\0" + values.dtype.str.encode("ascii") + b"\0")
        if values.dtype.kind in "biufM":
            digest.update(np.ascontiguousarray(values).tobytes())
        else:
            digest.update("\x1f".join(str(v) for v in values).encode("utf-8"))
    return digest.hexdigest()
