"""Exact aggregates of tag values over a time range, from the store's rollups and stats.

The store keeps rollups per second, minute and hour, aligned to the epoch, each over whole
units. A range [first, last] rarely starts and ends on unit boundaries, so `range_rollups`
takes the whole units inside the range from the coarsest fitting rollup level and the ragged
edges from the raw points; the result is exactly what aggregating the raw points would give,
at the cost of at most two units of raw points.

Rollups leave NULL values out. Whether a range holds any (more rows than the rollups count,
`has_rows_beyond`) decides whether COUNT(*), MIN(time), FIRST ... and the existence of a group can
be read from them; when it does hold NULLs the caller lets SQLite aggregate the raw rows.
"""

from __future__ import annotations

import numpy as np

from edge.store import Rollups
from edge.store.rollups import LEVELS, bucket_floor, ceil_to, combine, from_points

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
READ_CHUNK = 1 << 20


def _level_for(width: int | None) -> tuple[str, int] | None:
    """The coarsest rollup level whose units tile buckets of `width` ns (None: one bucket)."""
    for level in ("hour", "min", "sec"):
        unit = LEVELS[level]
        if width is None or width % unit == 0:
            return level, unit
    return None


def _keys(times: np.ndarray, width: int | None) -> np.ndarray:
    if width is None:
        return np.zeros(len(times), dtype=np.int64)
    return bucket_floor(times, width)


def _raw(table, tags: list[str], first: int, last: int, width: int | None, check_deadline) -> list[Rollups]:
    """Rollups of the raw points of [first, last], read in chunks."""
    parts = []
    if first > last:
        return parts
    for tag in tags:
        offset = 0
        while True:
            check_deadline()
            chunk = table.read([tag], first, last, 0, count=READ_CHUNK, offset=offset)
            got = len(chunk.times)
            if got:
                parts.append(from_points(_keys(chunk.times, width), chunk.times, chunk.values))
            if got < READ_CHUNK:
                break
            offset += got
    return parts


def range_rollups(table, tags: list[str], first: int, last: int, width: int | None, check_deadline) -> Rollups:
    """Rollups of the tags' points with first <= time <= last, combined over the tags, in
    epoch-aligned buckets of `width` ns (None: one bucket keyed 0), sorted by key."""
    if first > last or not tags:
        return Rollups.empty()
    fitting = _level_for(width)
    if fitting is None:
        return combine(Rollups.concat(_raw(table, tags, first, last, width, check_deadline)))
    level, unit = fitting
    # Whole units inside [first, last]: [inner_first, inner_end).
    inner_first = ceil_to(first, unit) if first > INT64_MIN + unit else first
    inner_end = bucket_floor(last + 1, unit) if last < INT64_MAX - unit else last + 1
    if inner_first >= inner_end:
        return combine(Rollups.concat(_raw(table, tags, first, last, width, check_deadline)))
    parts = _raw(table, tags, first, inner_first - 1, width, check_deadline)
    parts += _raw(table, tags, inner_end, last, width, check_deadline)
    check_deadline()
    multiple = 1 if width is None else width // unit
    middle = table.rollup(tags, inner_first, inner_end - 1, level, multiple)
    if width is None and len(middle):
        middle = middle.with_keys(np.zeros(len(middle), dtype=np.int64))
    parts.append(middle)
    return combine(Rollups.concat(parts))


def has_rows_beyond(table, tags: list[str], first: int, last: int, rows: int) -> bool:
    """Whether the tags hold more than `rows` rows (NULL values included) with first <= time
    <= last: one read of one row at offset `rows`, a binary search in the store."""
    if first > last or not tags:
        return False
    return len(table.read(tags, first, last, 0, count=1, offset=rows).times) > 0


def whole_tag_stats(table, tags: list[str]) -> dict:
    """COUNT(*), MIN/MAX(time), MIN/MAX(value), FIRST/LAST over every row of the tags, from
    the per-tag stats alone (no data read). Values are None where no row has one."""
    count = 0
    min_time = max_time = min_value = max_value = None
    first = last = None
    for tag in tags:
        stats = table.stats(tag)
        if stats is None or stats.count == 0:
            continue
        count += stats.count
        if min_time is None or stats.min_time < min_time:
            min_time = stats.min_time
        if max_time is None or stats.max_time > max_time:
            max_time = stats.max_time
        if stats.min_value is not None and (min_value is None or stats.min_value < min_value):
            min_value = stats.min_value
        if stats.max_value is not None and (max_value is None or stats.max_value > max_value):
            max_value = stats.max_value
        if first is None or stats.first[0] < first[0]:
            first = stats.first
        if last is None or stats.last[0] >= last[0]:
            last = stats.last
    return {"count": count, "min_time": min_time, "max_time": max_time, "min_value": min_value,
            "max_value": max_value, "first": None if first is None else first[1],
            "last": None if last is None else last[1]}
