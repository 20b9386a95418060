"""A batch of points for one tag table: grouped by tag with numpy, encoded as one log record.

The caller hands points in any order of tags; the batch keeps each tag's points in the order
given (their insertion order) and lays the tags out one after another, so applying it is one
write per tag and column. The same layout is the payload of the batch's write-ahead record:

    u32 new tags, u32 groups, u64 points, u32 JSON length, JSON [[tag id, name], ...]
    int64 tag id per group, int64 length per group, int64 times, float64 values,
    then each extra column's file representation, in the table's column order.

A keyed batch (see batch_keys.py) is a record of its own kind whose payload starts with
`u16 key length, key (UTF-8)` before that layout, so the key is durable with the rows.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Sequence

import numpy as np

from edge.store import errors
from edge.store.schema import TableSchema, check_tag_name, encode_extra
from edge.store.wal import KIND_APPEND, KIND_APPEND_KEYED

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
        keyed = [] if self.key is None else [_KEY_LENGTH.pack(len(self.key_bytes)) + self.key_bytes]
        return [*keyed, _COUNTS.pack(len(self.new_tags), len(self.starts), len(self.times), len(new)), new,
                self.tag_ids.astype(np.int64), self.lengths.astype(np.int64),
                self.times, self.values, *self.extras]


def decode(payload: bytes, schema: TableSchema, kind: int = KIND_APPEND) -> Batch:
    """The batch of a log record, tags resolved as they were when it was written."""
    offset = 0
    key = None
    if kind == KIND_APPEND_KEYED:
        (key_len,) = _KEY_LENGTH.unpack_from(payload, 0)
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
    times = take(np.int64, points)
    values = take(np.float64, points)
    extras = [take(c.stored_dtype, points) for c in schema.extras]
    starts = np.zeros(groups, dtype=np.int64)
    if groups:
        starts[1:] = np.cumsum(lengths)[:-1]
    names = [""] * groups  # replay resolves by id
    return Batch(names, starts, lengths, times, values, extras, tag_ids=tag_ids, new_tags=new_tags, key=key)


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
