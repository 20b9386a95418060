"""The civil (proleptic Gregorian) calendar on arrays: dates <-> days since 1970-01-01.

Howard Hinnant's days_from_civil / civil_from_days algorithms, vectorised with numpy, plus
what both date readers check a date against (leap years, month lengths, month names, the
years whose nanoseconds fit in int64) and the one conversion of a `datetime` to ns.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable

import numpy as np

from edge.time.units import NS_PER_SECOND, NS_PER_US, SECONDS_PER_DAY

# Years whose every instant fits int64 nanoseconds (1677-09-21 .. 2262-04-11).
MIN_YEAR, MAX_YEAR = 1678, 2261
# What a well-formed time whose year is outside them is told (after "<the text> is ").
OUT_OF_RANGE = (f"out of range: times are kept as 64-bit nanoseconds since 1970, "
                f"so the year must be from {MIN_YEAR} to {MAX_YEAR}")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Days of each month of a common year; index 0 is no month.
DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = EPOCH.replace(tzinfo=_dt.timezone.utc)


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each date (month 1-12, day 1-31; not checked)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of each count of days since 1970-01-01."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    day_of_era = z - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    mp = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


def is_leap_year(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def month_lengths(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Days in each month (month 0-12; month 0 has none)."""
    return DAYS_IN_MONTH[month] + (is_leap_year(year) & (month == 2))


_MONTH_CODES = np.array([ord(n[0]) << 16 | ord(n[1]) << 8 | ord(n[2]) for n in MONTH_NAMES], dtype=np.int64)
_MONTH_ORDER = np.argsort(_MONTH_CODES)
_SORTED_MONTH_CODES = _MONTH_CODES[_MONTH_ORDER]


def month_from_letters(first: np.ndarray, second: np.ndarray, third: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(month 1-12, found) of three-letter month names given letter by letter (byte arrays)
    in any case; where not found, the month is meaningless."""
    upper = [np.bitwise_and(letter, 0xDF, dtype=np.int64) for letter in (first, second, third)]
    code = upper[0] << 16 | upper[1] << 8 | upper[2]
    position = np.clip(np.searchsorted(_SORTED_MONTH_CODES, code), 0, 11)
    found = _SORTED_MONTH_CODES[position] == code
    return _MONTH_ORDER[position] + 1, found


def datetime_to_ns(value: _dt.datetime) -> int:
    """ns since the epoch of a datetime: UTC for an aware one, wall-clock for a naive one.

    Exact integer arithmetic (a float timestamp would lose the microseconds of today's times).
    """
    delta = value - (_EPOCH_UTC if value.tzinfo is not None else EPOCH)
    return (delta.days * SECONDS_PER_DAY + delta.seconds) * NS_PER_SECOND + delta.microseconds * NS_PER_US


def year_out_of_range(text: str, reads: Callable[[str], bool]) -> bool:
    """Whether `text` is a well-formed time but for its year, outside MIN_YEAR..MAX_YEAR: it
    `reads` once such a four-digit year is put as 2000 (a leap year: 29 February stays a
    date). For the few texts a reader refused, to tell them why."""
    for match in _YEAR.finditer(text):
        if not MIN_YEAR <= int(match.group()) <= MAX_YEAR \
                and reads(text[:match.start()] + "2000" + text[match.end():]):
            return True
    return False
