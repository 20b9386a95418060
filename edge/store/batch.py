"""A batch of points for one tag table: grouped by tag with numpy, encoded as one log record.

The caller hands points in any order of tags; the batch keeps each tag's points in the order
given (their insertion order) and lays the tags out one after another, so applying it is one
write per tag and column. The same layout is the payload of the batch's write-ahead record:

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
from collections.abc import Sequence

import numpy as np

from edge.store import errors
from edge.store.schema import TableSchema, check_tag_name, encode_extra
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


def _group(names, n: int) -> tuple[list, np.ndarray | None, np.ndarray, np.ndarray]:
    """(name per group, order putting the points group by group or None, starts, lengths)."""
    if isinstance(names, np.ndarray) and names.dtype.kind in "US" and names.ndim == 1:
        heads = _run_starts(names)
        run_names = names[heads].tolist()
        run_lengths = np.diff(np.append(heads, n))
        if len(set(run_names)) == len(run_names):
            return run_names, None, heads.astype(np.int64), run_lengths.astype(np.int64)
        index = {name: i for i, name in enumerate(dict.fromkeys(run_names))}
        gids = np.repeat(np.fromiter(map(index.__getitem__, run_names), np.int64, len(run_names)), run_lengths)
    else:
        seq = names if isinstance(names, (list, tuple)) else list(names)
        if len(seq) != n:
            raise errors.invalid_value(f"Expected {n} tag names, got {len(seq)}.")
        try:
            index = {name: i for i, name in enumerate(dict.fromkeys(seq))}
        except TypeError:
            raise errors.invalid_value("Tag names must be text.") from None
        gids = np.fromiter(map(index.__getitem__, seq), np.int64, n)
    group_names = list(index)
    if n and bool(np.all(gids[1:] >= gids[:-1])):
        order = None
        sorted_ids = gids
    else:
        order = np.argsort(gids, kind="stable")
        sorted_ids = gids[order]
    starts = _run_starts(sorted_ids)
    lengths = np.diff(np.append(starts, n))
    return group_names, order, starts, lengths.astype(np.int64)


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Indexes where a run of equal keys begins."""
    if not len(keys):
        return np.empty(0, np.int64)
    changes = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate(([0], changes)).astype(np.int64)


def prepare(schema: TableSchema, names: Sequence[str] | np.ndarray, times_ns, values,
            extras: dict | None, known_names: dict | None = None) -> Batch:
    """Checks and groups one append; EdgeError (and nothing stored) for anything malformed.
    Names that are keys of `known_names` (registered tags) were checked before."""
    times = np.asarray(times_ns)
    if times.dtype.kind not in "iu" or times.ndim != 1:
        raise errors.invalid_value("Times must be a 1-D array of int64 nanoseconds.")
    times = np.ascontiguousarray(times, dtype=np.int64)
    n = len(times)
    try:
        vals = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise errors.invalid_value("Values must be numbers.") from None
    if vals.ndim != 1 or len(vals) != n:
        raise errors.invalid_value(f"Expected {n} values, got {vals.size}.")
    if len(names) != n:
        raise errors.invalid_value(f"Expected {n} tag names, got {len(names)}.")
    given = {}
    for key, column_values in (extras or {}).items():
        upper = str(key).strip().upper()
        if upper not in {c.name for c in schema.extras}:
            raise errors.column_not_found(schema.name, upper)
        given[upper] = column_values
    encoded = [encode_extra(column, given.get(column.name), n) for column in schema.extras]

    group_names, order, starts, lengths = _group(names, n)
    if known_names is None or not known_names.keys() >= set(group_names):
        for name in group_names:
            check_tag_name(schema, name)
    if order is not None:
        times = times[order]
        vals = vals[order]
        encoded = [e[order] for e in encoded]
    return Batch(group_names, starts, lengths, times, vals, encoded)


def prepare_by_tag(schema: TableSchema, tags: Sequence[str], times: Sequence, values: Sequence,
                   known_names: dict | None = None) -> Batch:
    """Checks one append whose points come grouped by tag (`tags[i]` owns `times[i]`,
    `values[i]`); extra columns get nulls. Nothing is grouped point by point: this is the
    cheap way in for callers that hold each tag's points together, like the pipeline. Tags
    given the very same times array share it in the log record."""
    groups = len(tags)
    if not groups == len(times) == len(values):
        raise errors.invalid_value(f"Expected as many time and value arrays as tags ({groups}).")
    if not groups:
        return Batch([], *(np.empty(0, np.int64) for _ in range(3)), np.empty(0, np.float64),
                     [encode_extra(column, None, 0) for column in schema.extras])
    try:
        lengths = np.fromiter(map(len, times), np.int64, groups)
        value_lengths = np.fromiter(map(len, values), np.int64, groups)
        all_times = np.concatenate(times)
        all_values = np.concatenate(values).astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise errors.invalid_value("Expected a 1-D array of int64 times and one of numbers per tag.") from None
    if all_times.dtype.kind not in "iu" or all_times.ndim != 1 or len(all_times) != int(lengths.sum()):
        raise errors.invalid_value("Times must be 1-D arrays of int64 nanoseconds.")
    if all_values.ndim != 1 or not np.array_equal(lengths, value_lengths):
        bad = int(np.flatnonzero(lengths != value_lengths)[0]) if len(all_values.shape) == 1 else 0
        raise errors.invalid_value(f"Tag {tags[bad]!r}: expected {lengths[bad]} values, got {value_lengths[bad]}.")
    all_times = all_times.astype(np.int64, copy=False)
    names = list(tags)
    sources = None
    if len(set(map(id, times))) < groups:  # the very same array for several tags: written once
        first_of: dict[int, int] = {}
        sources = np.fromiter((first_of.setdefault(id(t), g) for g, t in enumerate(times)), np.int64, groups)
    if len(set(names)) < groups or not lengths.all():
        names, lengths, all_times, all_values, sources = _merged(names, lengths, all_times, all_values, sources)
    if known_names is None or not known_names.keys() >= set(names):
        for name in names:
            check_tag_name(schema, name)
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    if sources is not None and not bool((sources != np.arange(len(sources))).any()):
        sources = None
    encoded = [encode_extra(column, None, len(all_times)) for column in schema.extras]
    return Batch(names, starts, lengths, all_times, all_values, encoded, time_sources=sources)


def _merged(names: list, lengths: np.ndarray, times: np.ndarray, values: np.ndarray, sources):
    """The groups again with a tag named twice as one group (its parts in the order given,
    its own times) and empty groups left out."""
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    parts: dict[str, list[int]] = {}
    for group, name in enumerate(names):  # per group, not per point
        if lengths[group]:
            parts.setdefault(name, []).append(group)
    merged = list(parts.values())
    pieces = [np.arange(bounds[g], bounds[g + 1]) for groups in merged for g in groups]
    rows = np.concatenate(pieces) if pieces else np.empty(0, np.int64)
    new_lengths = np.array([sum(int(lengths[g]) for g in groups) for groups in merged], dtype=np.int64)
    shared = None
    if sources is not None:  # a group of one part still shares its array with the first such group
        first_of: dict[int, int] = {}
        shared = np.array([first_of.setdefault(int(sources[groups[0]]), index) if len(groups) == 1 else index
                           for index, groups in enumerate(merged)], dtype=np.int64)
    return list(parts), new_lengths, times[rows], values[rows], shared
