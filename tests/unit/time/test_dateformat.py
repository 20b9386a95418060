"""Machbase date formats: parsing and printing whole arrays, in a time zone."""

import datetime as dt

import numpy as np
import pytest

from edge.errors import EdgeError
from edge.time import dateformat
from edge.time.dateformat import (DEFAULT_FORMAT, DateFormat, format_time, format_times, parse_time,
                                 parse_times)
from edge.time.timezone import TimeZone

SEOUL = TimeZone("Asia/Seoul")
UTC = TimeZone("UTC")
NEW_YORK = TimeZone("America/New_York")


def utc_ns(*fields) -> int:
    return int(dt.datetime(*fields, tzinfo=dt.timezone.utc).timestamp()) * 10**9


@pytest.mark.parametrize("text, printed", [
    ("2020-12-12", "2020-12-12 00:00:00 000:000:000"),
    ("2020-12-12 03:22:22", "2020-12-12 03:22:22 000:000:000"),
    ("2020-12-12 03:22:22 222:333:444", "2020-12-12 03:22:22 222:333:444"),
    ("2020-12-12T03:22:22", "2020-12-12 03:22:22 000:000:000"),
    ("2020-12-12T03:22:22,234", "2020-12-12 03:22:22 234:000:000"),
    ("2020-12-12 03:22:22, 234", "2020-12-12 03:22:22 234:000:000"),
    ("2020-12-12 03:22:22,5", "2020-12-12 03:22:22 500:000:000"),
    ("2020-12-12 03:22:22.123456789", "2020-12-12 03:22:22 123:456:789"),
    ("2020-12-12 03:22:22 7:8", "2020-12-12 03:22:22 007:008:000"),
    ("2020-12-12 03:22", "2020-12-12 03:22:00 000:000:000"),
])
def test_every_spec_form_parses_to_the_same_wall_clock_time(text, printed):
    assert format_time(parse_time(text, SEOUL), SEOUL) == printed


def test_times_are_read_in_the_zone_and_kept_in_utc():
    assert parse_time("2001-09-09 10:46:40", SEOUL) == 1_000_000_000 * 10**9
    assert parse_time("2001-09-09 01:46:40", UTC) == 1_000_000_000 * 10**9
    assert format_time(1_000_000_000 * 10**9, SEOUL) == "2001-09-09 10:46:40 000:000:000"


@pytest.mark.parametrize("text", ["", "x", "2020-13-01", "2021-02-29", "1900-02-29", "2020-04-31",
                                  "2020-12-12 24:00:00", "2020-12-12 03:60:00", "2020-12-12 03:22:61",
                                  "1500-01-01", "2020/12/12", "2020-12-12 03:22:22 1234", "2020-12-12X03:22:22"])
def test_impossible_or_malformed_times_are_refused(text):
    _, ok = parse_times([text], SEOUL)
    assert not ok[0]
    with pytest.raises(EdgeError) as err:
        parse_time(text, SEOUL, what="Start")
    assert "Start" in err.value.text


def test_leap_days_and_month_ends_parse():
    _, ok = parse_times(["2020-02-29", "2000-02-29", "2021-01-31", "2021-04-30"], UTC)
    assert ok.all()


def test_a_batch_mixes_forms_and_marks_only_the_bad_rows():
    texts = ["2001-09-09 01:00:01 000:000:000", "bad", "2001-09-09 01:00:02", "2001-09-09T01:00:03,500", "2001-09-31"]
    utc, ok = parse_times(texts, UTC)
    assert ok.tolist() == [True, False, True, True, False]
    assert utc[0] == utc_ns(2001, 9, 9, 1, 0, 1)
    assert utc[3] == utc_ns(2001, 9, 9, 1, 0, 3) + 500_000_000


def test_a_custom_format_parses_before_the_standard_forms():
    utc, ok = parse_times(["09/09/2001 01-00-01", "2001-09-09 01:00:02"], UTC, "DD/MM/YYYY HH24-MI-SS")
    assert ok.all()
    assert utc.tolist() == [utc_ns(2001, 9, 9, 1, 0, 1), utc_ns(2001, 9, 9, 1, 0, 2)]


def test_date_only_format_still_accepts_full_times_as_machbase_append_does():
    utc, ok = parse_times(["1999-01-01 00:00:01"], UTC, "YYYY-MM-DD")
    assert ok[0] and utc[0] == utc_ns(1999, 1, 1, 0, 0, 1)


def test_every_token_prints_and_parses_back():
    fmt = "YYYY YY MM MON DD HH24 HH12 AM MI SS mmm uuu nnn"
    t = utc_ns(2001, 9, 9, 13, 4, 5) + 123_456_789
    text = format_time(t, UTC, fmt)
    assert text == "2001 01 09 SEP 09 13 01 PM 04 05 123 456 789"
    back, ok = parse_times([text], UTC, fmt)
    assert ok[0] and back[0] == t


def test_twelve_hour_clock_and_month_names_parse_in_any_case():
    utc, ok = parse_times(["2001-sep-09 12:00 am", "2001-Sep-09 12:00 pm", "2001-SEP-09 01:30 PM"], UTC,
                          "YYYY-MON-DD HH12:MI AM")
    assert ok.all()
    assert utc.tolist() == [utc_ns(2001, 9, 9, 0, 0), utc_ns(2001, 9, 9, 12, 0), utc_ns(2001, 9, 9, 13, 30)]


def test_literal_text_in_a_format_is_kept():
    assert format_time(utc_ns(2021, 3, 4), UTC, "YYYY년 MM월 DD일") == "2021년 03월 04일"
    utc, ok = parse_times(["2021년 03월 04일"], UTC, "YYYY년 MM월 DD일")
    assert ok[0] and utc[0] == utc_ns(2021, 3, 4)


def test_daylight_saving_transitions_resolve_per_time():
    utc, ok = parse_times(["2021-03-14 01:59:59", "2021-03-14 03:00:00", "2021-11-07 00:59:59",
                           "2021-11-07 02:00:00"], NEW_YORK)
    assert ok.all()
    assert utc.tolist() == [utc_ns(2021, 3, 14, 6, 59, 59), utc_ns(2021, 3, 14, 7), utc_ns(2021, 11, 7, 4, 59, 59),
                            utc_ns(2021, 11, 7, 7)]
    assert format_times(utc, NEW_YORK, "YYYY-MM-DD HH24:MI:SS") == [
        "2021-03-14 01:59:59", "2021-03-14 03:00:00", "2021-11-07 00:59:59", "2021-11-07 02:00:00"]


def test_printing_matches_python_datetime_over_a_wide_spread():
    rng = np.random.default_rng(7)
    times = rng.integers(-2 * 10**18, 7 * 10**18, 2000)
    printed = format_times(times, NEW_YORK, "YYYY-MM-DD HH24:MI:SS nnn")
    zone = NEW_YORK._zone
    for t, text in zip(times.tolist(), printed):
        local = dt.datetime.fromtimestamp(t // 10**9, dt.timezone.utc).astimezone(zone)
        assert text == local.strftime("%Y-%m-%d %H:%M:%S ") + f"{t % 1000:03d}"


def test_parse_and_print_round_trip_for_many_times():
    times = np.arange(0, 10_000, dtype=np.int64) * 3_600_123_456_789 + 10**18
    texts = format_times(times, SEOUL)
    back, ok = parse_times(texts, SEOUL)
    assert ok.all() and (back == times).all()


def test_offset_text_is_machbase_style():
    assert SEOUL.offset_text() == "+0900"
    assert UTC.offset_text() == "+0000"
    assert TimeZone("Asia/Kolkata").offset_text() == "+0530"
    assert TimeZone("America/St_Johns").offset_text(dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)) == "-0330"


def test_a_format_prints_fixed_width_bytes():
    printed = DateFormat(DEFAULT_FORMAT).format(np.array([0, 1], dtype=np.int64), UTC)
    assert printed.dtype == np.dtype("S31")
    assert printed.tolist() == [b"1970-01-01 00:00:00 000:000:000", b"1970-01-01 00:00:00 000:000:001"]


def test_non_string_time_is_refused_with_its_type():
    with pytest.raises(EdgeError, match="must be a string"):
        parse_time(12, UTC)


def test_over_long_format_is_refused():
    with pytest.raises(EdgeError):
        DateFormat("Y" * 1000)


@pytest.mark.parametrize("text", ["1500-01-01 00:00:00", "2300-02-29", "9999-12-31T23:59:59",
                                  "1677-12-31 10:00:00 000:000:000"])
def test_a_well_formed_time_with_a_year_out_of_range_says_so(text):
    with pytest.raises(EdgeError) as caught:
        parse_time(text, UTC, what="start")
    assert caught.value.text == (f"start {text!r} is out of range: times are kept as 64-bit nanoseconds since "
                                 "1970, so the year must be from 1678 to 2261")
    assert dateformat.why_not_a_time(text) == caught.value.text[len(f"start {text!r} "):]
    assert dateformat.why_not_a_time("1500/01/31", "YYYY/MM/DD").startswith("is out of range")


@pytest.mark.parametrize("text", ["2024-13-01", "1500-02-30", "junk", "15000-01-01"])
def test_a_malformed_time_is_not_called_out_of_range(text):
    with pytest.raises(EdgeError) as caught:
        parse_time(text, UTC, what="start")
    assert caught.value.text.startswith(f"Cannot parse start {text!r}: expected ")
    assert dateformat.why_not_a_time(text) == "is not a time in the date format"


def strftime_reference(t: int, zone: TimeZone) -> str:
    """Every token of EVERY_TOKEN for one time, from Python's datetime."""
    local = dt.datetime.fromtimestamp(t // 10**9, dt.timezone.utc).astimezone(zone._zone)
    fraction = t % 10**9
    return (local.strftime("%Y|%y|%m|") + local.strftime("%b").upper() + local.strftime("|%d|%H|%I|%p|%M|%S")
            + f"|{fraction // 10**6:03d}.{fraction // 1000 % 1000:03d}.{fraction % 1000:03d}|ü")


EVERY_TOKEN = "YYYY|YY|MM|MON|DD|HH24|HH12|AM|MI|SS|mmm.uuu.nnn|ü"


@pytest.mark.parametrize("count", [1, 2, dateformat.FEW_TIMES, dateformat.FEW_TIMES + 1, 500])
@pytest.mark.parametrize("spread", ["one day", "a few days", "many days", "centuries"])
@pytest.mark.parametrize("whole_seconds", [False, True])
def test_printing_one_by_one_and_by_tables_match_python_datetime(count, spread, whole_seconds):
    # Few times print one by one in Python, more through tables of span texts (days present,
    # seconds of the day, fractions); days print in Python up to FEW_DAYS apart; a span the
    # same for every time (one day, whole seconds) is printed once into the template: all agree.
    rng = np.random.default_rng(count)
    reach = {"one day": 86_399 * 10**9, "a few days": 20 * 86_400 * 10**9, "many days": 10**16,
             "centuries": 9 * 10**18}[spread]
    start = 0 if spread == "centuries" else utc_ns(2001, 9, 9, 0, 0) + (10**9 if spread == "one day" else 0)
    times = rng.integers(0 if spread == "one day" else -reach // 2, reach // 2, count) + start
    if whole_seconds:
        times -= times % 10**9
    for zone in (UTC, SEOUL, NEW_YORK):
        printed = format_times(times, zone, EVERY_TOKEN)
        assert printed == [strftime_reference(t, zone) for t in times.tolist()]


def test_formats_sharing_a_span_print_their_own_literals():
    t = utc_ns(2001, 9, 9, 13, 4, 5) + 7_008_009
    assert format_time(t, UTC, "HH24:MI:SS") == "13:04:05"
    assert format_time(t, UTC, "[HH24:MI:SS]") == "[13:04:05]"
    assert format_time(t, UTC, "HH24.MI.SS mmm") == "13.04.05 007"
    assert format_time(t, UTC, "SS:MI:HH24 nnn uuu") == "05:04:13 009 008"
    assert format_time(t, UTC, "literal only") == "literal only"
    many = format_times(np.full(40, t), UTC, "DD/MM HH12 PM")
    assert many == ["09/09 01 PM"] * 40
