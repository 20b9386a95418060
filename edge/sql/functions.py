"""Machbase's SQL functions on SQLite: times in, times out, and FIRST/LAST.

Datetimes are int64 nanoseconds since the epoch, UTC, inside SQL as everywhere else; the
client's `f` format and the TIMEZONE apply when results are printed. Calendar units (day,
month, year) follow the TIMEZONE; DATE_BIN and ROLLUP buckets are aligned to the epoch (UTC)
or to the origin given, as the store's rollups are.

    TO_DATE(text [, format])              text -> datetime (format: Machbase tokens; without
                                          one, YYYY-MM-DD[ HH24:MI:SS[ mmm:uuu:nnn]] and ISO forms)
    TO_CHAR(value [, format])             datetime -> text in the format; other values -> text
    DATE_TRUNC(unit, time [, count])      start of the unit (nanosecond ... year), `count` units
    DATE_BIN(unit, size, time [, origin]) start of the size-unit bucket counted from origin
    ROLLUP(unit, size, time [, origin])   the same, as Machbase's rollup grouping key
    FIRST(time, value) / LAST(time, value) value at the earliest / latest time
    NOW(), SYSDATE(), FROM_UNIXTIME(s), UNIX_TIMESTAMP(time), TO_HEX(value)
"""

from __future__ import annotations

import math
import time

import apsw
import numpy as np

from edge.errors import BAD_TIME, SYNTAX_ERROR, EdgeError
from edge.sql import errors
from edge.time.civil import OUT_OF_RANGE, civil_from_days, days_from_civil
from edge.time.dateformat import format_times, out_of_range, parse_times
from edge.time.timezone import TimeZone
from edge.time.units import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_MS, NS_PER_SECOND, NS_PER_US, NS_PER_WEEK

NS = {"nanosecond": 1, "nsec": 1, "ns": 1,
      "microsecond": NS_PER_US, "usec": NS_PER_US, "us": NS_PER_US,
      "millisecond": NS_PER_MS, "msec": NS_PER_MS, "ms": NS_PER_MS,
      "second": NS_PER_SECOND, "sec": NS_PER_SECOND, "s": NS_PER_SECOND,
      "minute": NS_PER_MINUTE, "min": NS_PER_MINUTE,
      "hour": NS_PER_HOUR, "day": NS_PER_DAY, "week": NS_PER_WEEK}
CALENDAR_UNITS = ("month", "year")
# Functions whose result is a datetime: results print them in the `f` format.
DATETIME_FUNCTIONS = ("TO_DATE", "DATE_TRUNC", "DATE_BIN", "ROLLUP", "NOW", "SYSDATE", "FROM_UNIXTIME")
TEXT_FUNCTIONS = ("TO_CHAR", "TO_HEX")
ROLLUP_UNITS = ("nsec", "usec", "msec", "sec", "min", "hour", "day")


def unit_ns(unit, what: str, allowed: tuple[str, ...] | None = None) -> int:
    """Nanoseconds of a fixed-length unit name; EdgeError naming `what` for anything else."""
    key = str(unit).strip().lower() if isinstance(unit, str) else None
    if key in ("minutes", "seconds", "hours", "days"):
        key = key[:-1]
    if key not in NS or (allowed is not None and key not in allowed):
        names = allowed or tuple(k for k in NS if len(k) > 3)
        raise EdgeError(SYNTAX_ERROR, f"{what}: unknown unit {unit!r}; expected one of {', '.join(names)}")
    return NS[key]


def _size(value, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 1:
        raise EdgeError(SYNTAX_ERROR, f"{what}: the bucket size must be a positive integer, got {value!r}")
    return value


# Characters of a text an error message quotes.
_SHOWN_TEXT = 40
# TO_CHAR(value) without a format, told apart from TO_CHAR(value, NULL).
_NO_FORMAT = object()


class Functions:
    """The functions of one TIMEZONE, registered on each connection of the engine."""

    def __init__(self, zone: TimeZone):
        self.zone = zone

    def register(self, conn: apsw.Connection) -> None:
        # Registered once per argument count they take, and once for any other count with a
        # function that says how to call them: SQLite picks the registration whose count fits.
        counted = {
            "TO_DATE": (self.to_date, 1, 2, "TO_DATE takes (text [, format])"),
            "TO_CHAR": (self.to_char, 1, 2, "TO_CHAR takes (value [, format])"),
            "DATE_TRUNC": (self.date_trunc, 2, 3, "DATE_TRUNC takes (unit, time [, count])"),
            "DATE_BIN": (self.date_bin, 3, 4, "DATE_BIN takes (unit, size, time [, origin])"),
            "ROLLUP": (self.rollup, 3, 4,
                       "ROLLUP takes (unit, size, time [, origin]) with unit sec, min, hour or day"),
            "FROM_UNIXTIME": (from_unixtime, 1, 1, "FROM_UNIXTIME takes (seconds since 1970)"),
            "UNIX_TIMESTAMP": (self.unix_timestamp, 1, 1, "UNIX_TIMESTAMP takes (time)"),
            "TO_HEX": (to_hex, 1, 1, "TO_HEX takes (value)"),
        }
        for name, (function, fewest, most, usage) in counted.items():
            for count in range(fewest, most + 1):
                conn.create_scalar_function(name, function, count, deterministic=True)
            conn.create_scalar_function(name, _refusal(usage), -1, deterministic=True)
        conn.create_scalar_function("NOW", now, 0, deterministic=False)
        conn.create_scalar_function("SYSDATE", now, 0, deterministic=False)
        conn.create_aggregate_function("FIRST", First)
        conn.create_aggregate_function("LAST", Last)

    # Scalars -------------------------------------------------------------------------------

    def to_date(self, text, date_format=None):
        if text is None:
            return None
        if isinstance(text, int):
            return text
        if not isinstance(text, str):
            raise EdgeError(BAD_TIME, f"TO_DATE needs text, got {text!r}")
        if date_format is not None and not isinstance(date_format, str):
            raise EdgeError(BAD_TIME, "TO_DATE: the format must be text such as 'YYYY-MM-DD HH24:MI:SS'")
        utc, ok = parse_times([text.strip()], self.zone, date_format)
        if not ok[0] and out_of_range(text, date_format):
            raise EdgeError(BAD_TIME, f"TO_DATE: {text!r} is {OUT_OF_RANGE}")
        if not ok[0]:
            wanted = f"the format {date_format!r}" if date_format else "YYYY-MM-DD[ HH24:MI:SS[ mmm:uuu:nnn]]"
            shown = repr(text) if len(text) <= _SHOWN_TEXT else f"{text[:_SHOWN_TEXT]!r}... ({len(text)} characters)"
            raise EdgeError(BAD_TIME, f"TO_DATE cannot read {shown} as a time: expected {wanted}")
        return int(utc[0])

    def to_char(self, value, date_format=_NO_FORMAT):
        if value is None:
            return None
        if date_format is not _NO_FORMAT:
            if not isinstance(value, (int, float)):
                raise errors.syntax(f"TO_CHAR with a format needs a datetime, got {value!r}")
            if not isinstance(date_format, str) or not date_format:
                raise EdgeError(BAD_TIME, "TO_CHAR: the format must be text such as 'YYYY-MM-DD'")
            value = time_value(value, "TO_CHAR", self)
            return format_times(np.array([value], dtype=np.int64), self.zone, date_format)[0]
        if isinstance(value, bytes):
            return value.hex().upper()
        return str(value)

    def date_trunc(self, unit, value, count=1):
        count = _size(count, "DATE_TRUNC")
        if value is None:
            return None
        value = time_value(value, "DATE_TRUNC", self)
        offset = int(self.zone.local_offsets(np.array([value], dtype=np.int64))[0])
        local = value + offset
        key = str(unit).strip().lower()
        if key in CALENDAR_UNITS:
            day = local // NS["day"]
            year, month, _ = (int(x[0]) for x in civil_from_days(np.array([day], dtype=np.int64)))
            if key == "year":
                year -= (year % count) if count > 1 else 0
                month = 1
            else:
                index = (year * 12 + month - 1)
                index -= index % count
                year, month = divmod(index, 12)
                month += 1
            days = int(days_from_civil(np.array([year]), np.array([month]), np.array([1]))[0])
            truncated = days * NS["day"]
        else:
            width = unit_ns(unit, "DATE_TRUNC") * count
            truncated = (local // width) * width
        # a day of margin: the zone's offset is taken off in int64, which must not wrap around
        _within_int64(truncated - NS_PER_DAY, "DATE_TRUNC")
        _within_int64(truncated + NS_PER_DAY, "DATE_TRUNC")
        return int(self.zone.utc_from_local(np.array([truncated], dtype=np.int64))[0])

    def date_bin(self, unit, size, value, origin=0):
        return _bucket("DATE_BIN", unit_ns(unit, "DATE_BIN") * _size(size, "DATE_BIN"), value, origin, self)

    def unix_timestamp(self, value):
        return None if value is None else time_value(value, "UNIX_TIMESTAMP", self) // NS_PER_SECOND

    def rollup(self, unit, size, value, origin=0):
        width = unit_ns(unit, "ROLLUP", ROLLUP_UNITS) * _size(size, "ROLLUP")
        return _bucket("ROLLUP", width, value, origin, self)


def _refusal(usage: str):
    """A function for SQLite that refuses a call with the wrong number of arguments."""
    def refuse(*args):
        raise errors.syntax(usage)
    return refuse


def _bucket(function: str, width: int, value, origin, functions: Functions):
    if value is None:
        return None
    origin = time_value(origin or 0, function, functions, "the origin")
    value = time_value(value, function, functions)
    return _within_int64(origin + ((value - origin) // width) * width, function)


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def time_value(value, function: str, functions: Functions, what: str = "the time") -> int:
    """A time argument (`what`) of `function` as int64 ns: a datetime (an integer), a finite
    number in range, or text TO_DATE reads; anything else is a clear error naming both."""
    if isinstance(value, str):
        return functions.to_date(value)
    if isinstance(value, float) and math.isfinite(value) and _INT64_MIN <= value < 2.0 ** 63:
        return int(value)
    if isinstance(value, int) and _INT64_MIN <= value <= _INT64_MAX:
        return value
    raise EdgeError(BAD_TIME, f"{function}: {what} must be a datetime (or text such as '2024-01-01 08:00:00'), "
                              f"got {_shown(value)}")


def _within_int64(ns: int, what: str) -> int:
    """A computed time, or EdgeError when it leaves the range of int64 nanoseconds."""
    if not _INT64_MIN <= ns <= _INT64_MAX:
        raise EdgeError(BAD_TIME, f"{what}: the time is beyond the range of int64 nanoseconds (years 1677-2262)")
    return ns


def _shown(value) -> str:
    """A value as an error message shows it (never thousands of digits)."""
    if isinstance(value, bytes):
        return "a binary value"
    if isinstance(value, int):
        return "a number beyond the datetime range (64-bit nanoseconds)"
    if isinstance(value, float) and not math.isfinite(value):
        return "not a number" if math.isnan(value) else "an infinite number"
    if isinstance(value, float):
        return "a number beyond the datetime range (64-bit nanoseconds)"
    return repr(value)


def now() -> int:
    return time.time_ns()


def from_unixtime(seconds):
    if seconds is None:
        return None
    try:
        ns = round(float(seconds) * NS_PER_SECOND) if not isinstance(seconds, bytes) else None
    except (ValueError, OverflowError):  # text that is no number; a whole number beyond a double
        ns = None
    if ns is None or not math.isfinite(ns) or not _INT64_MIN <= ns <= _INT64_MAX:
        shown = repr(seconds) if isinstance(seconds, str) else _shown(seconds)
        raise EdgeError(BAD_TIME, f"FROM_UNIXTIME needs the seconds since 1970 of a time from 1677 to 2262, "
                                  f"got {shown}")
    return int(ns)


def to_hex(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, int):
        return format(value & 0xFFFFFFFFFFFFFFFF, "X")
    return str(value).encode("utf-8").hex().upper()


# Aggregates ----------------------------------------------------------------------------------

class First:
    """FIRST(time, value): the value of the row with the earliest time (ties: the first seen)."""

    def __init__(self):
        self.time = None
        self.value = None

    def step(self, *args):
        if len(args) != 2:
            raise errors.syntax(f"{type(self).__name__.upper()} takes (time, value)")
        moment, value = args
        if moment is not None and self._better(moment):
            self.time, self.value = moment, value

    def _better(self, moment) -> bool:
        return self.time is None or moment < self.time

    def final(self):
        return self.value


class Last(First):
    """LAST(time, value): the value of the row with the latest time (ties: the last seen)."""

    def _better(self, moment) -> bool:
        return self.time is None or moment >= self.time
