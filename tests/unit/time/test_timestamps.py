"""Vectorised date/time reading against datetime.strptime, time zones included."""

from __future__ import annotations

import datetime as dt
import random
import re
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge.time import strptime, timestamps
from edge.time.textfields import from_text

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


def test_fractions_of_one_to_nine_digits_keep_every_digit():
    digits = "123456789"
    texts = [f"2024-03-01T12:00:01.{digits[:k]}" for k in range(1, 10)] + ["2024-03-01T12:00:01.1234567890"]
    second = ns(dt.datetime(2024, 3, 1, 12, 0, 1, tzinfo=UTC))
    expected = [second + int(digits[:k].ljust(9, "0")) for k in range(1, 10)]
    utc, unreadable = parse(texts, "%Y-%m-%dT%H:%M:%S.%f")
    assert utc[:9].tolist() == expected
    assert unreadable.tolist() == [False] * 9 + [True]
    utc, unreadable = parse([t + "-01:30" for t in texts], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert utc[:9].tolist() == [value + 90 * 60 * 10**9 for value in expected]
    assert unreadable.tolist() == [False] * 9 + [True]


def test_fixed_reader_leaves_years_out_of_range_and_impossible_times_to_strptime():
    fmt = "%Y-%m-%d %H:%M:%S"
    texts = ["1677-12-31 23:59:59", "2262-01-01 00:00:00", "2023-02-29 00:00:00", "2024-02-30 00:00:00",
             "2024-04-31 00:00:00", "2024-00-10 00:00:00", "2024-01-00 00:00:00", "2024-01-01 24:00:00",
             "2024-01-01 00:60:00", "2024-01-01 00:00:60",
             "1678-01-01 00:00:00", "2261-12-31 23:59:59", "2024-02-29 00:00:00", "2000-02-29 23:59:59"]
    mat, lengths = from_text(np.array(texts, dtype=np.dtypes.StringDType()))
    _, _, fits = strptime.read_layout(strptime.compile_layout(fmt), mat, lengths)
    assert fits.tolist() == [False] * 10 + [True] * 4
    # strptime still reads the years the fixed reader leaves alone, while they fit in int64 ns.
    utc, unreadable = parse(texts, fmt)
    assert unreadable.tolist() == [False, False] + [True] * 8 + [False] * 4
    readable = [0, 1, 10, 11, 12, 13]
    assert utc[readable].tolist() == [ns(dt.datetime.strptime(texts[i], fmt).replace(tzinfo=UTC)) for i in readable]


@pytest.mark.parametrize("fmt, text", [
    ("%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-01T10:00:00.123456+05:30"),
    ("%d.%m.%Y %H:%M", "31.12.1999 23:59"),
    ("%Y%m%d%H%M%S%f", "20240101120000123"),
])
def test_matrix_width_and_padding_do_not_change_the_reading(fmt, text):
    mat, lengths = from_text(np.array([text, "", text[:-1]], dtype=np.dtypes.StringDType()))
    expected = timestamps.parse_text(mat, lengths, fmt, ZoneInfo("UTC"))
    for other in (np.pad(mat, ((0, 0), (0, 16))), mat[:, :len(text)], np.asfortranarray(mat)):
        utc, unreadable = timestamps.parse_text(other, lengths, fmt, ZoneInfo("UTC"))
        assert utc.tolist() == expected[0].tolist() and unreadable.tolist() == expected[1].tolist()


# -- random text: the vectorised reader against datetime.strptime -----------------------------

PROPERTY_LAYOUTS = [
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z",
    "%d.%m.%Y %H:%M", "%m/%d/%y %I:%M:%S %p", "%Y%j", "%d-%b-%Y %H:%M", "%Y%m%d%H%M%S%f", "%H:%M:%S",
]
_SHAPES = {"Y": r"\d{4}", "j": r"\d{3}", "b": "[A-Za-z]{3}", "p": "[AaPp][Mm]", "f": r"(?P<f>\d{1,9})",
           "z": r"(?P<z>Z|[+-]\d\d(?::?\d\d)?)"}
_NOISE = "0123456789" * 3 + ":-./T Z+aPm\x7fé٣"
_INT64_NS = (ns(dt.datetime(1677, 9, 22, tzinfo=UTC)), ns(dt.datetime(2262, 4, 11, tzinfo=UTC)))


def fixed_shape(fmt: str) -> re.Pattern:
    """The text the vectorised reader can read: every field at its full width, ASCII digits."""
    pattern = re.sub(r"%(.)|([^%]+)", lambda m: _SHAPES.get(m[1], r"\d\d") if m[1] else re.escape(m[2]), fmt)
    return re.compile(pattern, re.ASCII)


def strptime_reading(text: str, fmt: str) -> int | None:
    """UTC ns of `text` as datetime.strptime reads it, None when it cannot. Text in the fixed
    layout is read a little further: 7 to 9 fraction digits, '+HH' offsets (years 1678-2261)."""
    candidates = [(text, 0, False)]
    match = fixed_shape(fmt).fullmatch(text)
    if match:
        groups = match.groupdict()
        widened, extra = text, 0
        if groups.get("f") and len(groups["f"]) > 6:
            widened = text[:match.start("f") + 6] + text[match.end("f"):]
            extra = int(groups["f"][6:].ljust(3, "0"))
        if groups.get("z") and len(groups["z"]) == 3:
            widened += "00"
        if widened != text:
            candidates.append((widened, extra, True))
    for candidate, extra, widened in candidates:
        try:
            value = dt.datetime.strptime(candidate, fmt)
        except ValueError:
            continue
        if widened and not 1678 <= value.year <= 2261:
            return None
        return ns(value if value.tzinfo else value.replace(tzinfo=UTC)) + extra
    return None


# Per directive: (usual values, edge values, width) for random text.
_VALUES = {"Y": ((1678, 2261), (1670, 2270), 4), "m": ((1, 12), (0, 13), 2), "d": ((1, 28), (0, 32), 2),
           "H": ((0, 23), (0, 24), 2), "I": ((1, 12), (0, 13), 2), "M": ((0, 59), (0, 60), 2),
           "S": ((0, 59), (0, 61), 2), "y": ((0, 99), (0, 99), 2), "j": ((1, 365), (0, 367), 3)}
_WORDS = {"b": ["Jan", "Feb", "Sep", "Dec", "jan", "SEP", "Xyz"], "p": ["AM", "PM", "am", "pM", "XM"],
          "z": ["Z", "+05", "-0330", "+09:30", "-00:00", "+23:59", "+24:00", "+01:60", "+0175", "+1", "+01:3", "z"]}


def random_text(rng: random.Random, fmt: str) -> str:
    def field(match: re.Match) -> str:
        directive = match[1]
        if directive in _VALUES:
            usual, edge, width = _VALUES[directive]
            return f"{rng.randint(*(usual if rng.random() < 0.9 else edge)):0{width}d}"
        if directive == "f":
            return "".join(rng.choices("0123456789", k=rng.choice([1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10])))
        return rng.choice(_WORDS[directive])

    text = re.sub("%(.)", field, fmt)
    if rng.random() < 0.5:
        return text
    chars = list(text)
    for _ in range(rng.randint(1, 3)):  # garbage in digit places, short and long text
        k = rng.randrange(len(chars) + 1)
        action = rng.random()
        if action < 0.6 and k < len(chars):
            chars[k] = rng.choice(_NOISE)
        elif action < 0.75 and k < len(chars):
            del chars[k]
        elif action < 0.9:
            chars.insert(k, rng.choice(_NOISE))
        else:
            del chars[k:]
    return "".join(chars)


@pytest.mark.parametrize("fmt", PROPERTY_LAYOUTS)
def test_random_text_is_read_as_strptime_reads_it(fmt):
    rng = random.Random(fmt)
    texts = [random_text(rng, fmt) for _ in range(400)] + ["", "2", "2024-", "2024-01-01T"]
    want = [strptime_reading(text, fmt) if text else timestamps.NAT for text in texts]
    # Beyond int64 ns strptime's reading overflows parse_text's fallback: not what this checks.
    kept = [i for i, value in enumerate(want) if value is None or _INT64_NS[0] <= value <= _INT64_NS[1]
            or value == timestamps.NAT]
    texts, want = [texts[i] for i in kept], [want[i] for i in kept]
    utc, unreadable = parse(texts, fmt)
    got = [None if bad else int(value) for value, bad in zip(utc.tolist(), unreadable.tolist())]
    wrong = [(text, g, w) for text, g, w in zip(texts, got, want) if g != w]
    assert not wrong[:10]
    assert sum(value is not None for value in want) > len(want) // 5  # not only garbage


def test_years_beyond_nanosecond_range_and_non_ascii_literals_are_unreadable_not_errors():
    utc, unreadable = parse(["1024-01-01 00:00", "2024-01-01 00:00"], "%Y-%m-%d %H:%M")
    assert unreadable.tolist() == [True, False]
    utc, unreadable = parse(["2024年03月05日", "2024Ã°03"], "%Y年%m月%d日")
    assert unreadable.tolist() == [False, True]
    assert utc[0] == ns(dt.datetime(2024, 3, 5, tzinfo=UTC))


def test_out_of_range_tells_a_year_outside_int64_from_a_malformed_time():
    out_of_range = timestamps.out_of_range
    assert out_of_range("1500-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").endswith("the year must be from 1678 to 2261")
    assert out_of_range("01/02/3000 10:00", None).startswith("out of range")
    assert out_of_range("1500-13-01 00:00:00", "%Y-%m-%d %H:%M:%S") is None
    assert out_of_range("2024-01-01 00:00:00", "%Y/%m/%d %H:%M:%S") is None
    assert out_of_range("yesterday", None) is None
