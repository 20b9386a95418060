"""A batch of points for one tag table, grouped by tag, and its log record.

`edge.store.ingest` builds batches from whatever the callers hand in; a batch keeps each
tag's points in the order given (their insertion order) and lays the tags out one after
another, so applying it is one write per tag and column. The same layout is the payload of
the batch's write-ahead record:

    u32 new tags, u32 groups, u64 points, u32 JSON length, JSON [[tag id, name], ...]
    int64 tag id per group, int64 length per group, int64 times, float64 values,
    then each extra column's file representation, in the table's column order.

A keyed batch (see batch_keys.py) is a record of its own kind whose payload starts with
`u16 key length, key (UTF-8)` before that layout, so the key is durable with the rows.

When tags of a batch share their times (every field of a pipeline record is a tag at the
record's time), the record is of kind KIND_APPEND_SHARED: it always starts with the key
length and key (length 0: no key), and after the lengths comes an int64 per group naming the
group whose times it repeats (itself if none); only the times of groups naming themselves
follow. For ten fields a record this writes 45% fewer bytes.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import numpy as np

from edge.store.schema import TableSchema
from edge.store.wal import KIND_APPEND, KIND_APPEND_KEYED, KIND_APPEND_SHARED

_COUNTS = struct.Struct("<IIQI")
_KEY_LENGTH = struct.Struct("<H")


@dataclasses.dataclass
class Batch:
    names: list[str]  # per group
    starts: np.ndarray
    lengths: np.ndarray
    times: np.ndarray
    values: np.ndarray
    extras: list[np.ndarray]
    time_sources: np.ndarray | None = None  # per group: the group whose times it repeats (None: all own)
    tag_ids: np.ndarray | None = None  # per group, once the tags are resolved
    new_tags: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    states: list = dataclasses.field(default_factory=list)  # per group, once resolved
    seq: int = 0
    key: str | None = None  # the batch key, and its bytes for the log record
    key_bytes: bytes = b""
    # group commit: the thread that commits a batch sets these for the one that brought it
    done: bool = False
    error: BaseException | None = None
    skipped: bool = False  # its key was applied already: nothing stored

    @property
    def kind(self) -> int:
        """The kind of its log record."""
        if self.time_sources is not None:
            return KIND_APPEND_SHARED
        return KIND_APPEND if self.key is None else KIND_APPEND_KEYED

    @property
    def rows(self) -> int:
        return len(self.times)

    def unsorted_groups(self) -> np.ndarray:
        """Per group: True when its times are not in non-decreasing order."""
        out = np.zeros(len(self.starts), dtype=bool)
        drops = np.flatnonzero(self.times[1:] < self.times[:-1]) + 1
        if len(drops):
            group = np.searchsorted(self.starts, drops, "right") - 1
            inside = drops != self.starts[group]  # a drop at a group's first point is no disorder
            out[group[inside]] = True
        return out

    def payload(self) -> list:
        """The buffers of this batch's log record (tags must be resolved)."""
        new = json.dumps(self.new_tags).encode("utf-8")
        counts = _COUNTS.pack(len(self.new_tags), len(self.starts), len(self.times), len(new))
        if self.time_sources is None:
            keyed = [] if self.key is None else [_KEY_LENGTH.pack(len(self.key_bytes)) + self.key_bytes]
            return [*keyed, counts, new, self.tag_ids.astype(np.int64), self.lengths.astype(np.int64),
                    self.times, self.values, *self.extras]
        own = np.flatnonzero(self.time_sources == np.arange(len(self.starts)))
        own_times = [self.times[s:s + n] for s, n in zip(self.starts[own].tolist(), self.lengths[own].tolist())]
        if len(own_times) > 16:  # keep the record's buffers few
            own_times = [np.concatenate(own_times)]
        return [_KEY_LENGTH.pack(len(self.key_bytes)) + self.key_bytes, counts, new,
                self.tag_ids.astype(np.int64), self.lengths.astype(np.int64), self.time_sources,
                *own_times, self.values, *self.extras]


def decode(payload: bytes, schema: TableSchema, kind: int = KIND_APPEND) -> Batch:
    """The batch of a log record, tags resolved as they were when it was written."""
    offset = 0
    key = None
    if kind in (KIND_APPEND_KEYED, KIND_APPEND_SHARED):
        (key_len,) = _KEY_LENGTH.unpack_from(payload, 0)
        if key_len or kind == KIND_APPEND_KEYED:
            key = bytes(payload[_KEY_LENGTH.size:_KEY_LENGTH.size + key_len]).decode("utf-8")
        offset = _KEY_LENGTH.size + key_len
    _, groups, points, json_len = _COUNTS.unpack_from(payload, offset)
    offset += _COUNTS.size
    new_tags = [(int(i), str(name)) for i, name in json.loads(payload[offset:offset + json_len])]
    offset += json_len

    def take(dtype, count):
        nonlocal offset
        dtype = np.dtype(dtype)
        array = np.frombuffer(payload, dtype=dtype, count=count, offset=offset).copy()
        offset += dtype.itemsize * count
        return array

    tag_ids = take(np.int64, groups)
    lengths = take(np.int64, groups)
    sources = None
    if kind == KIND_APPEND_SHARED:
        sources = take(np.int64, groups)
        own = sources == np.arange(groups)
        own_times = take(np.int64, int(lengths[own].sum()))
        parts, at = [], 0
        for group, (source, length) in enumerate(zip(sources.tolist(), lengths.tolist())):
            if source == group:
                parts.append(own_times[at:at + length])
                at += length
            else:
                parts.append(parts[source])
        times = np.concatenate(parts) if parts else np.empty(0, np.int64)
    else:
        times = take(np.int64, points)
    values = take(np.float64, points)
    extras = [take(c.stored_dtype, points) for c in schema.extras]
    starts = np.zeros(groups, dtype=np.int64)
    if groups:
        starts[1:] = np.cumsum(lengths)[:-1]
    names = [""] * groups  # replay resolves by id
    return Batch(names, starts, lengths, times, values, extras, time_sources=sources, tag_ids=tag_ids,
                 new_tags=new_tags, key=key)
