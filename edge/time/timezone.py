"""Time zones as numpy can use them: UTC offsets for whole arrays of times.

Python's zoneinfo answers one instant at a time. Offsets change only at rare transitions, so
an array is cut into hour buckets, each distinct bucket asks zoneinfo at its two ends, and
only a bucket with a transition inside it is resolved time by time. `TimeZone` does this
both ways (UTC -> wall clock, wall clock -> UTC); `localize` is the wall clock -> UTC way
for a zoneinfo zone, as the pipeline's timestamp readers hold one.

An ambiguous wall-clock time (the repeated hour when clocks go back) is read as its first
occurrence, a skipped one with the offset before the transition (fold=0, as zoneinfo and most
databases do).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from zoneinfo import ZoneInfo

import numpy as np

from edge.time.civil import EPOCH
from edge.time.units import NS_PER_HOUR, NS_PER_SECOND

_CACHE_LIMIT = 200_000
# Keys of zones whose offset is always zero: their times need no lookup at all.
_UTC_KEYS = frozenset(("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Zulu", "Etc/Zulu"))


class TimeZone:
    """One IANA zone; `local_offsets` and `utc_from_local` work on int64 ns arrays."""

    def __init__(self, name: str, zone: ZoneInfo | None = None):
        self.name = name
        self._zone = zone if zone is not None else ZoneInfo(name)
        self._is_utc = self._zone.key in _UTC_KEYS
        # bucket -> (offset at its start, offset at its end), for UTC and for local buckets.
        self._utc_cache: dict[int, tuple[int, int]] = {}
        self._local_cache: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._offset_text: tuple[int, str] = (-1, "")  # (second, offset_text then)

    def __repr__(self) -> str:
        return f"TimeZone({self.name!r})"

    def offset_text(self, now: dt.datetime | None = None) -> str:
        """The zone's UTC offset now as Machbase prints it: "+0900", "-0330", "+0000"."""
        if now is not None:
            return self._offset_text_at(now)
        if self._is_utc:
            return "+0000"
        # Every answer carries it: worked out once a second (offsets change on whole seconds).
        second = int(time.time())
        cached = self._offset_text  # one tuple, replaced whole: threads share it
        if cached[0] != second:
            instant = dt.datetime.fromtimestamp(second, dt.timezone.utc)
            cached = self._offset_text = (second, self._offset_text_at(instant))
        return cached[1]

    def _offset_text_at(self, now: dt.datetime) -> str:
        seconds = int(now.astimezone(self._zone).utcoffset().total_seconds())
        sign = "-" if seconds < 0 else "+"
        minutes = abs(seconds) // 60
        return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"

    # One instant -------------------------------------------------------------------------

    def _offset_of_utc(self, utc_ns: int) -> int:
        instant = dt.datetime.fromtimestamp(utc_ns // NS_PER_SECOND, dt.timezone.utc)
        return int(instant.astimezone(self._zone).utcoffset().total_seconds()) * NS_PER_SECOND

    def _offset_of_local(self, local_ns: int) -> int:
        naive = EPOCH + dt.timedelta(seconds=local_ns // NS_PER_SECOND)
        return int(naive.replace(tzinfo=self._zone).utcoffset().total_seconds()) * NS_PER_SECOND

    # Whole arrays ------------------------------------------------------------------------

    def local_offsets(self, utc_ns: np.ndarray) -> np.ndarray:
        """Offset (ns) to add to each UTC time to get the wall-clock time in this zone."""
        return self._offsets(np.asarray(utc_ns, dtype=np.int64), self._utc_cache, self._offset_of_utc)

    def utc_from_local(self, local_ns: np.ndarray) -> np.ndarray:
        """UTC ns of each wall-clock time (given as ns since 1970-01-01 00:00 local)."""
        local_ns = np.asarray(local_ns, dtype=np.int64)
        if self._is_utc:
            return local_ns.copy()
        return local_ns - self._offsets(local_ns, self._local_cache, self._offset_of_local)

    def _offsets(self, times: np.ndarray, cache: dict, offset_of) -> np.ndarray:
        if times.size == 0:
            return np.zeros(0, dtype=np.int64)
        if self._is_utc:
            return np.zeros(times.shape, dtype=np.int64)
        buckets = times // NS_PER_HOUR
        low, high = int(buckets.min()), int(buckets.max())
        if high - low < max(4096, times.size):
            # Dense: one table entry per hour of the span, indexed without sorting.
            distinct = np.arange(low, high + 1, dtype=np.int64)
            index = buckets - low
        else:
            distinct, index = np.unique(buckets, return_inverse=True)
        starts, ends = self._bucket_offsets(distinct.tolist(), cache, offset_of)
        offsets = starts[index]
        # A transition inside a bucket: those few times are asked one by one.
        changing = np.flatnonzero(starts != ends)
        if changing.size:
            rows = np.flatnonzero(np.isin(index, changing))
            offsets[rows] = [offset_of(t) for t in times[rows].tolist()]
        return offsets

    def _bucket_offsets(self, buckets: list[int], cache: dict, offset_of) -> tuple[np.ndarray, np.ndarray]:
        starts = np.empty(len(buckets), dtype=np.int64)
        ends = np.empty(len(buckets), dtype=np.int64)
        with self._lock:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            for i, bucket in enumerate(buckets):
                pair = cache.get(bucket)
                if pair is None:
                    first = bucket * NS_PER_HOUR
                    pair = (offset_of(first), offset_of(first + NS_PER_HOUR - 1))
                    cache[bucket] = pair
                starts[i], ends[i] = pair
        return starts, ends


@functools.lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    """ZoneInfo for an IANA name (UTC when None or empty); ValueError when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except Exception:
        raise ValueError(f"unknown IANA time zone {name!r}") from None


def time_zone(name: str) -> TimeZone:
    """The TimeZone of an IANA name, shared per zone; ValueError when unknown."""
    return _time_zone(zone(name))


@functools.lru_cache(maxsize=64)
def _time_zone(tz: ZoneInfo) -> TimeZone:
    # One TimeZone per zone, so its bucket caches serve every batch of every reader.
    return TimeZone(str(tz.key), tz)


def localize(wall_ns: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """UTC ns of wall-clock times `wall_ns` (int64, no NAT) in time zone `tz`."""
    return _time_zone(tz).utc_from_local(wall_ns)
