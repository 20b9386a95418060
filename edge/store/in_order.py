"""Stats and hour-rollup deltas of the common batch: each tag's points in time order, no nulls.

The general path (`stats.of_groups`, `rollups.from_points`) computes a tag-and-hour key for
every point and finds first/last, minimum and maximum with several passes over the points.
When every group is in time order and no value is null, the hours a group covers are known
from its first and last time, so the rollup rows are cut at the first point of each new hour
(a binary search per hour boundary, not a key per point), and the minimum and maximum with
the first row holding each come from one argmin/argmax pass when the groups are equally
long (every field of a pipeline record is a tag). The answers are the very same numbers as
the general path's: the same reductions over the same segments.
"""

from __future__ import annotations

import numpy as np

from edge.store import rollups as rollup_math
from edge.store.rollups import Rollups, _first_of_min

_HOUR = rollup_math.LEVELS["hour"]


def summarise(tag_ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray, times: np.ndarray,
              values: np.ndarray) -> tuple[dict, Rollups] | None:
    """(stats for `StatsColumns.apply`, hour-rollup deltas) of groups whose times are each
    non-decreasing; None when this shortcut does not apply (nulls, or points spread thinly
    over many hours), and the caller takes the general path."""
    n = len(times)
    ends = starts + lengths
    first_hour = times[starts] // _HOUR
    last_hour = times[ends - 1] // _HOUR
    crossing = np.flatnonzero(last_hour > first_hour)
    if len(crossing) and int((last_hour - first_hour)[crossing].sum()) > n // 16 + 16:
        return None  # more hours than points are worth searching: keys per point are cheaper
    at_min, at_max = _extremes(values, starts, lengths)
    low, high = values[at_min], values[at_max]
    if np.isnan(low).any() or np.isnan(high).any():  # argmin/argmax stop at a NaN
        return None
    stats = {
        "tag_id": tag_ids, "count": lengths.astype(np.int64),
        "first_time": times[starts], "first_value": values[starts],
        "last_time": times[ends - 1], "last_value": values[ends - 1],
        "min_value": low, "min_value_time": times[at_min],
        "max_value": high, "max_value_time": times[at_max],
        "recent_time": times[ends - 1],
    }
    if not len(crossing):
        segments, group_of, seg_low, seg_high = starts, np.arange(len(starts)), low, high
    else:
        cuts = [starts[g] + np.searchsorted(times[starts[g]:ends[g]],
                                            np.arange(first_hour[g] + 1, last_hour[g] + 1) * _HOUR)
                for g in crossing.tolist()]  # per group crossing an hour, not per point
        segments = np.union1d(starts, np.concatenate(cuts))  # an empty hour repeats a cut
        group_of = np.searchsorted(starts, segments, "right") - 1
        seg_low = np.minimum.reduceat(values, segments)
        seg_high = np.maximum.reduceat(values, segments)
    seg_ends = np.append(segments[1:], n)
    keys = rollup_math.tag_hour_keys(tag_ids[group_of], times[segments])
    deltas = Rollups(keys, (seg_ends - segments).astype(np.int64),
                     np.add.reduceat(values, segments), np.add.reduceat(values * values, segments),
                     seg_low, seg_high, times[segments], values[segments],
                     times[seg_ends - 1], values[seg_ends - 1])
    return stats, deltas


def _extremes(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the index of the first occurrence of its minimum and of its maximum (the
    first NaN instead, if the group holds one)."""
    size = int(lengths[0])
    if bool((lengths == size).all()):  # groups lie back to back from 0: a table of rows
        table = values[:size * len(lengths)].reshape(len(lengths), size)
        return starts + table.argmin(axis=1), starts + table.argmax(axis=1)
    nulls = np.flatnonzero(np.isnan(values))
    if len(nulls):
        at = nulls[:1].repeat(len(starts))
        return at, at
    return _first_of_min(values, starts, lengths), _first_of_min(-values, starts, lengths)
