"""Vectorised date/time reading against datetime.strptime, time zones included."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge.pipeline import timestamps
from edge.pipeline.textfields import from_text

UTC = dt.timezone.utc


def ns(moment: dt.datetime) -> int:
    delta = moment.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def parse(texts, fmt, tz="UTC"):
    mat, lengths = from_text(np.array(texts, dtype=np.dtypes.StringDType()))
    return timestamps.parse_text(mat, lengths, fmt, ZoneInfo(tz))


@pytest.mark.parametrize("fmt, text", [
    ("%Y-%m-%d %H:%M:%S.%f", "2024-02-29 23:59:59.123456"),
    ("%Y-%m-%d %H:%M:%S.%f", "2024-02-29 23:59:59.5"),
    ("%Y-%m-%dT%H:%M:%S", "1999-12-31T00:00:01"),
    ("%d/%m/%Y %H:%M", "07/02/2018 00:46"),
    ("%m/%d/%y %I:%M:%S %p", "12/31/99 12:05:00 AM"),
    ("%m/%d/%y %I:%M:%S %p", "01/01/05 12:05:00 pm"),
    ("%d-%b-%Y %H:%M", "03-Mar-2021 14:15"),
    ("%Y%j", "2020366"),
    ("%Y%m%d%H%M%S", "20240101120000"),
    ("%a %d %b %Y", "Tue 05 Mar 2024"),
])
def test_fixed_layouts_read_like_strptime(fmt, text):
    utc, unreadable = parse([text], fmt)
    assert not unreadable[0]
    assert utc[0] == ns(dt.datetime.strptime(text, fmt).replace(tzinfo=UTC))


def test_offsets_in_the_text_win_over_the_time_zone():
    texts = ["2024-01-01T10:00:00+0200", "2024-01-01T10:00:00-05:30", "2024-01-01T10:00:00Z",
             "2024-01-01T10:00:00.25+01"]
    utc, unreadable = parse(texts, "%Y-%m-%dT%H:%M:%S%z", tz="Asia/Tokyo")
    assert unreadable.tolist() == [False, False, False, True]  # %f is not in the layout
    assert utc[:3].tolist() == [ns(dt.datetime(2024, 1, 1, 8, tzinfo=UTC)),
                                ns(dt.datetime(2024, 1, 1, 15, 30, tzinfo=UTC)),
                                ns(dt.datetime(2024, 1, 1, 10, tzinfo=UTC))]
    utc, unreadable = parse(["2024-01-01T10:00:00.25+01"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert utc[0] == ns(dt.datetime(2024, 1, 1, 9, 0, 0, 250000, tzinfo=UTC))


def test_unpadded_values_fall_back_to_strptime():
    utc, unreadable = parse(["1/2/2024 3:04", "12/25/2023 13:30"], "%m/%d/%Y %H:%M")
    assert not unreadable.any()
    assert utc.tolist() == [ns(dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC)), ns(dt.datetime(2023, 12, 25, 13, 30, tzinfo=UTC))]


def test_impossible_dates_and_garbage_are_unreadable_and_empty_is_missing():
    utc, unreadable = parse(["2023-02-29 00:00:00", "2024-13-01 00:00:00", "2024-01-01 24:00:00", "nonsense", ""],
                            "%Y-%m-%d %H:%M:%S")
    assert unreadable.tolist() == [True, True, True, True, False]
    assert (utc == timestamps.NAT).all()


def test_wall_clock_times_are_placed_in_the_time_zone_across_daylight_saving():
    zone = "America/New_York"
    texts = ["2024-03-10 01:59:59", "2024-03-10 03:00:00", "2024-11-03 00:30:00", "2024-11-03 01:30:00",
             "2024-11-03 02:30:00", "2024-07-01 12:00:00"]
    utc, _ = parse(texts, "%Y-%m-%d %H:%M:%S", tz=zone)
    expected = [ns(dt.datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone))) for t in texts]
    assert utc.tolist() == expected
    # The repeated hour is read as its first occurrence (daylight time, UTC-4).
    assert utc[3] == ns(dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC))


def test_many_values_across_months_localize_exactly():
    zone = ZoneInfo("Europe/Berlin")
    start = dt.datetime(2023, 1, 1)
    moments = [start + dt.timedelta(minutes=17 * k) for k in range(40000)]
    texts = [m.strftime("%Y-%m-%d %H:%M:%S") for m in moments]
    utc, unreadable = parse(texts, "%Y-%m-%d %H:%M:%S", tz="Europe/Berlin")
    assert not unreadable.any()
    assert utc.tolist() == [ns(m.replace(tzinfo=zone)) for m in moments]


@pytest.mark.parametrize("text, dayfirst, expected", [
    ("2024-05-06 07:08:09.5", False, dt.datetime(2024, 5, 6, 7, 8, 9, 500000)),
    ("2024-05-06T07:08:09Z", False, dt.datetime(2024, 5, 6, 7, 8, 9)),
    ("2024-05-06", False, dt.datetime(2024, 5, 6)),
    ("05/06/2024 07:08", False, dt.datetime(2024, 5, 6, 7, 8)),
    ("05/06/2024 07:08", True, dt.datetime(2024, 6, 5, 7, 8)),
    ("5/6/2024 7:08:09 PM", False, dt.datetime(2024, 5, 6, 19, 8, 9)),
    ("06.05.2024 07:08", False, dt.datetime(2024, 5, 6, 7, 8)),
    ("2024-05-06T09:08:09+02:00", False, dt.datetime(2024, 5, 6, 7, 8, 9)),
])
def test_any_common_layout_is_understood(text, dayfirst, expected):
    mat, lengths = from_text(np.array([text], dtype=np.dtypes.StringDType()))
    utc, unreadable = timestamps.parse_any(mat, lengths, dayfirst, ZoneInfo("UTC"))
    assert not unreadable[0]
    assert utc[0] == ns(expected.replace(tzinfo=UTC))


def test_epoch_numbers_keep_their_precision():
    values = np.array([1700000000.123456, 0.5, np.nan, -1.25])
    utc, bad = timestamps.epoch_to_ns(values, "s")
    assert utc.tolist() == [1700000000123456000, 500000000, timestamps.NAT, -1250000000]
    assert not bad.any()
    utc, bad = timestamps.epoch_to_ns(np.array([1700000000123, 10**19 // 1000]), "ms")
    assert utc[0] == 1700000000123000000 and bad.tolist() == [False, True]


def test_check_format_names_bad_layouts():
    assert timestamps.check_format("%Y-%m-%d") is None
    assert "bad timestamp format" in timestamps.check_format("%Y-%Q")
