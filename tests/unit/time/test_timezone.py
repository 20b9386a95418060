"""Wall clock <-> UTC for whole arrays, against zoneinfo one time at a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge.time.timezone import TimeZone, localize, zone

UTC = dt.timezone.utc


def wall_ns(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def zoneinfo_utc_ns(wall: int, tz: ZoneInfo) -> int:
    naive = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=wall // 1000)
    delta = naive.replace(tzinfo=tz) - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000 + wall % 1000


@pytest.mark.parametrize("name, start", [
    ("America/St_Johns", dt.datetime(2010, 3, 13, 23, 30)),  # DST began at 00:01 local
    ("America/St_Johns", dt.datetime(2010, 11, 6, 22, 30)),  # and ended at 00:01 local
    ("Asia/Gaza", dt.datetime(2020, 10, 23, 23, 30)),
    ("Europe/Berlin", dt.datetime(2024, 3, 31, 1, 30)),
    ("Europe/Berlin", dt.datetime(2024, 10, 27, 1, 30)),
    ("America/New_York", dt.datetime(1883, 11, 18, 11, 30)),  # local mean time to EST at 12:03:58
])
def test_wall_clock_to_utc_matches_zoneinfo_to_the_second_around_transitions(name, start):
    tz = ZoneInfo(name)
    first = wall_ns(start)
    wall = first + np.arange(0, 3 * 3600 * 10**9, 7 * 10**9 + 250_000_000, dtype=np.int64)
    expected = [zoneinfo_utc_ns(w, tz) for w in wall.tolist()]
    assert localize(wall, tz).tolist() == expected
    assert TimeZone(name).utc_from_local(wall).tolist() == expected


def test_utc_to_wall_clock_offsets_match_zoneinfo():
    tz = TimeZone("America/St_Johns")
    utc = wall_ns(dt.datetime(2010, 11, 7, 1, 0)) + np.arange(0, 4 * 3600 * 10**9, 60 * 10**9 + 1, dtype=np.int64)
    expected = [int(dt.datetime.fromtimestamp(t // 10**9, UTC).astimezone(ZoneInfo("America/St_Johns"))
                    .utcoffset().total_seconds()) * 10**9 for t in utc.tolist()]
    assert tz.local_offsets(utc).tolist() == expected


def test_utc_zones_and_empty_arrays_need_no_lookup():
    wall = np.array([-(2**62), 0, 2**62], dtype=np.int64)
    assert localize(wall, ZoneInfo("UTC")).tolist() == wall.tolist()
    assert TimeZone("Etc/UTC").local_offsets(wall).tolist() == [0, 0, 0]
    assert localize(np.zeros(0, dtype=np.int64), ZoneInfo("Asia/Seoul")).tolist() == []


def test_times_spread_over_centuries_localize_exactly():
    tz = ZoneInfo("Australia/Lord_Howe")  # half-hour daylight saving
    rng = np.random.default_rng(7)
    wall = rng.integers(wall_ns(dt.datetime(1700, 1, 1)), wall_ns(dt.datetime(2200, 1, 1)), 3000, dtype=np.int64)
    assert localize(wall, tz).tolist() == [zoneinfo_utc_ns(w, tz) for w in wall.tolist()]


def test_zone_names_resolve_and_unknown_names_are_value_errors():
    assert zone(None) is ZoneInfo("UTC") and zone("") is ZoneInfo("UTC")
    assert zone("Asia/Seoul") is ZoneInfo("Asia/Seoul")
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        zone("Mars/Olympus_Mons")
