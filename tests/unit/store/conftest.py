"""Fixtures for the tag store: a real catalog and store on disk in a temp directory, and a
brute-force model of a tag table (every point kept in plain numpy, answers computed the
obvious way) that tests compare the store against."""

from __future__ import annotations

import numpy as np
import pytest

from edge.catalog import Catalog
from edge.store import TagStore


@pytest.fixture
def open_store(tmp_path):
    """Opens (or reopens) the store in tmp_path; everything opened is closed at the end."""
    opened = []

    def open_():
        catalog = Catalog(tmp_path / "catalog.db")
        store = TagStore(catalog, tmp_path / "tags")
        opened.append((store, catalog))
        return store

    yield open_
    for store, catalog in opened:
        store.close()
        catalog.close()


@pytest.fixture
def store(open_store):
    return open_store()


@pytest.fixture
def table(store):
    return store.table("TAG")

SECOND = 1_000_000_000
LEVEL = {"sec": SECOND, "min": 60 * SECOND, "hour": 3600 * SECOND}


class Reference:
    def __init__(self):
        self.names = np.empty(0, dtype=object)
        self.times = np.empty(0, dtype=np.int64)
        self.values = np.empty(0, dtype=np.float64)

    def append(self, names, times, values) -> None:
        self.names = np.concatenate([self.names, np.asarray(names, dtype=object)])
        self.times = np.concatenate([self.times, np.asarray(times, dtype=np.int64)])
        self.values = np.concatenate([self.values, np.asarray(values, dtype=np.float64)])

    def delete_before(self, before: int, tags=None) -> int:
        gone = self.times < before
        if tags is not None:
            gone &= np.isin(self.names, list(tags))
        self.names, self.times, self.values = self.names[~gone], self.times[~gone], self.values[~gone]
        return int(gone.sum())

    def read(self, tags, start, end, direction=0, count=0, offset=0):
        """(names, times, values) as the store must answer them."""
        parts = []
        for tag in tags:
            rows = np.flatnonzero((self.names == tag) & (self.times >= start) & (self.times <= end))
            if direction in (1, 2):
                rows = rows[np.lexsort((rows, self.times[rows]))]
                if direction == 1:
                    rows = rows[::-1]
            parts.append(rows)
        rows = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        rows = rows[offset:offset + count] if count else rows[offset:]
        return self.names[rows].tolist(), self.times[rows].tolist(), self.values[rows].tolist()

    def rollup(self, tags, start, end, level, multiple):
        """{bucket start: dict(count, sum, sumsq, min, max, first, last)} the obvious way.
        First/last ties go to the earlier tag in `tags`, then to the earlier inserted point."""
        unit = LEVEL[level]
        width = unit * multiple
        level_start = (self.times // unit) * unit
        pick = (level_start >= start) & (level_start <= end) & ~np.isnan(self.values)
        rows = np.concatenate([np.flatnonzero(pick & (self.names == tag)) for tag in tags])
        out = {}
        for i in rows:
            key = int((self.times[i] // width) * width)
            t, v = int(self.times[i]), float(self.values[i])
            b = out.setdefault(key, {"count": 0, "sum": 0.0, "sumsq": 0.0, "min": v, "max": v,
                                     "first": (t, v), "last": (t, v)})
            b["count"] += 1
            b["sum"] += v
            b["sumsq"] += v * v
            b["min"] = min(b["min"], v)
            b["max"] = max(b["max"], v)
            if t < b["first"][0]:
                b["first"] = (t, v)
            if t >= b["last"][0]:
                b["last"] = (t, v)
        return dict(sorted(out.items()))

    def stats(self, tag):
        rows = np.flatnonzero(self.names == tag)
        if not len(rows):
            return None
        t, v = self.times[rows], self.values[rows]
        first = int(np.flatnonzero(t == t.min())[0])
        last = int(np.flatnonzero(t == t.max())[-1])
        valid = ~np.isnan(v)
        out = {"count": len(rows), "min_time": int(t.min()), "max_time": int(t.max()),
               "first": (int(t[first]), float(v[first])), "last": (int(t[last]), float(v[last])),
               "recent_row_time": int(t[-1])}
        if valid.any():
            lo = np.where(valid, v, np.inf)
            hi = np.where(valid, v, -np.inf)
            at_min, at_max = int(np.argmin(lo)), int(np.argmax(hi))
            out.update(min_value=float(v[at_min]), min_value_time=int(t[at_min]),
                       max_value=float(v[at_max]), max_value_time=int(t[at_max]))
        else:
            out.update(min_value=None, min_value_time=None, max_value=None, max_value_time=None)
        return out


def _rollup_dict(rollups) -> dict:
    """The store's Rollups in the Reference's shape."""
    out = {}
    for i, key in enumerate(rollups.keys.tolist()):
        out[key] = {"count": int(rollups.count[i]), "sum": float(rollups.sum[i]),
                    "sumsq": float(rollups.sumsq[i]), "min": float(rollups.min[i]),
                    "max": float(rollups.max[i]),
                    "first": (int(rollups.first_time[i]), float(rollups.first_value[i])),
                    "last": (int(rollups.last_time[i]), float(rollups.last_value[i]))}
    return out


def assert_same_rollups(got: dict, want: dict) -> None:
    """Rollup dicts equal; sums only to rounding, since float addition depends on the order
    in which deltas were merged (which background flushes decide)."""
    assert list(got) == list(want)
    for key in want:
        g, w = got[key], want[key]
        assert (g["count"], g["min"], g["max"], g["first"], g["last"]) == \
            (w["count"], w["min"], w["max"], w["first"], w["last"]), key
        assert g["sum"] == pytest.approx(w["sum"], rel=1e-12, abs=1e-9)
        assert g["sumsq"] == pytest.approx(w["sumsq"], rel=1e-12, abs=1e-9)


def _stats_dict(stats) -> dict | None:
    if stats is None:
        return None
    return {"count": stats.count, "min_time": stats.min_time, "max_time": stats.max_time,
            "first": stats.first, "last": stats.last, "recent_row_time": stats.recent_row_time,
            "min_value": stats.min_value, "min_value_time": stats.min_value_time,
            "max_value": stats.max_value, "max_value_time": stats.max_value_time}


@pytest.fixture
def reference():
    return Reference()


@pytest.fixture
def rollup_dict():
    """The store's Rollups in the Reference's shape."""
    return _rollup_dict


@pytest.fixture
def stats_dict():
    """The store's TagStats in the Reference's shape."""
    return _stats_dict
