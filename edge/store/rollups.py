"""Rollups: per-bucket count, sum, min, max, sumsq, first and last of a tag's values.

A `Rollups` is a set of rows keyed by an int64 (a bucket start, or a tag and hour packed into
one number). Rows combine associatively: combining the rows of a key in insertion order gives
the rollup of all their points, so rollups can be built from points in chunks, kept as deltas
per append, merged with what the catalog holds and regrouped into coarser buckets, all with the
same vectorized `combine`. First/last follow time, ties going to the earlier/later inserted
point, as the raw read's ascending order does. Null values (NaN) are not counted.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.time.units import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

LEVELS = {"sec": NS_PER_SECOND, "min": NS_PER_MINUTE, "hour": NS_PER_HOUR}
FIELDS = ("count", "sum", "sumsq", "min", "max", "first_time", "first_value", "last_time", "last_value")
_INT_FIELDS = ("count", "first_time", "last_time")
_TAG_SHIFT = np.int64(1 << 32)
_HOUR_BIAS = np.int64(1 << 31)


@dataclasses.dataclass
class Rollups:
    keys: np.ndarray
    count: np.ndarray
    sum: np.ndarray
    sumsq: np.ndarray
    min: np.ndarray
    max: np.ndarray
    first_time: np.ndarray
    first_value: np.ndarray
    last_time: np.ndarray
    last_value: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def empty(cls) -> Rollups:
        return _EMPTY

    @classmethod
    def concat(cls, parts: list[Rollups]) -> Rollups:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(np.concatenate([p.keys for p in parts]),
                   *(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))

    @classmethod
    def from_rows(cls, rows: list[tuple]) -> Rollups:
        """From (key, count, sum, sumsq, min, max, first_time, first_value, last_time, last_value)."""
        if not rows:
            return cls.empty()
        table = np.array(rows, dtype=_ROW)  # one conversion, not one per column (None: NaN)
        return cls(table["key"], *(table[f] for f in FIELDS))

    def take(self, index) -> Rollups:
        return Rollups(self.keys[index], *(getattr(self, f)[index] for f in FIELDS))

    def with_keys(self, keys: np.ndarray) -> Rollups:
        return Rollups(keys, *(getattr(self, f) for f in FIELDS))  # dataclasses.replace costs 10x

    def rows(self) -> list[tuple]:
        return list(zip(self.keys.tolist(), *(getattr(self, f).tolist() for f in FIELDS)))


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


# Shared by every empty result: its arrays cannot be written.
_EMPTY = Rollups(_frozen(np.empty(0, np.int64)),
                 *(_frozen(np.empty(0, np.int64 if f in _INT_FIELDS else np.float64)) for f in FIELDS))
_ROW = np.dtype([("key", np.int64)] + [(f, np.int64 if f in _INT_FIELDS else np.float64) for f in FIELDS])


def _segments(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal keys."""
    n = len(sorted_keys)
    starts = np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1))
    return starts, np.diff(np.append(starts, n))


def _first_of_min(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per segment, the index of the first occurrence of its minimum."""
    mins = np.minimum.reduceat(values, starts)
    hits = np.flatnonzero(values == np.repeat(mins, lengths))
    return hits[np.searchsorted(hits, starts)]


def _last_of_max(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per segment, the index of the last occurrence of its maximum."""
    maxs = np.maximum.reduceat(values, starts)
    hits = np.flatnonzero(values == np.repeat(maxs, lengths))
    return hits[np.searchsorted(hits, starts + lengths) - 1]


def _sorted_by_key(keys: np.ndarray) -> np.ndarray | None:
    """A stable order sorting `keys`, or None when they already are sorted."""
    if len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1])):
        return None
    return np.argsort(keys, kind="stable")


def from_points(keys: np.ndarray, times: np.ndarray, values: np.ndarray, grouped: bool = False,
                times_sorted: bool = False) -> Rollups:
    """Rollups of points (in insertion order) grouped by `keys`; null values are skipped.

    `grouped`: equal keys are known to be adjacent (one row per key without sorting; the rows
    then come in the points' order rather than sorted by key). `times_sorted`: within each
    key the times are non-decreasing, so first and last are the key's first and last point."""
    valid = ~np.isnan(values)
    if not valid.all():
        keys, times, values = keys[valid], times[valid], values[valid]
    if not len(keys):
        return Rollups.empty()
    order = None if grouped else _sorted_by_key(keys)
    if order is not None:
        keys, times, values = keys[order], times[order], values[order]
    starts, lengths = _segments(keys)
    if times_sorted:
        first, last = starts, starts + lengths - 1
    else:
        first = _first_of_min(times, starts, lengths)
        last = _last_of_max(times, starts, lengths)
    return Rollups(
        keys[starts], lengths.astype(np.int64),
        np.add.reduceat(values, starts), np.add.reduceat(values * values, starts),
        np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts),
        times[first], values[first], times[last], values[last])


def combine(rollups: Rollups) -> Rollups:
    """One row per key (sorted by key) from rows given in insertion order."""
    keys = rollups.keys
    if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):  # one row per key already, in order
        return rollups
    order = _sorted_by_key(keys)
    r = rollups.take(order) if order is not None else rollups
    starts, lengths = _segments(r.keys)
    if len(starts) == len(r.keys):
        return r
    first = _first_of_min(r.first_time, starts, lengths)
    last = _last_of_max(r.last_time, starts, lengths)
    return Rollups(
        r.keys[starts], np.add.reduceat(r.count, starts),
        np.add.reduceat(r.sum, starts), np.add.reduceat(r.sumsq, starts),
        np.minimum.reduceat(r.min, starts), np.maximum.reduceat(r.max, starts),
        r.first_time[first], r.first_value[first], r.last_time[last], r.last_value[last])


def bucket_floor(times: np.ndarray | int, width: int):
    """Start of the epoch-aligned bucket of `width` ns holding each time."""
    return (times // width) * width


def ceil_to(time_ns: int, width: int) -> int:
    return -((-time_ns) // width) * width


# ---- tag + hour packed keys (the hour level kept per tag) ------------------------------------

def tag_hour_keys(tag_ids: np.ndarray, times: np.ndarray) -> np.ndarray:
    hours = times // LEVELS["hour"]
    return tag_ids.astype(np.int64) * _TAG_SHIFT + (hours + _HOUR_BIAS)


def split_tag_hour(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return keys // _TAG_SHIFT, keys % _TAG_SHIFT - _HOUR_BIAS


def pack_tag_hour(tag_id: int, hours: np.ndarray) -> np.ndarray:
    return np.int64(tag_id) * _TAG_SHIFT + (hours.astype(np.int64) + _HOUR_BIAS)
