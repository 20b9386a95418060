"""Calendar arithmetic on arrays against datetime.date, and datetime -> ns."""

from __future__ import annotations

import ast
import datetime as dt
import pathlib
import sys

import numpy as np
import pytest

import edge.time
from edge.time.civil import (MAX_YEAR, MIN_YEAR, civil_from_days, datetime_to_ns, days_from_civil, is_leap_year,
                             month_from_letters, month_lengths)

UTC = dt.timezone.utc


def test_days_and_dates_convert_both_ways_over_the_nanosecond_range():
    first, last = dt.date(MIN_YEAR - 1, 1, 1), dt.date(MAX_YEAR + 1, 12, 31)
    days = np.arange(first.toordinal(), last.toordinal() + 1, 97, dtype=np.int64) - dt.date(1970, 1, 1).toordinal()
    year, month, day = civil_from_days(days)
    dates = [dt.date.fromordinal(d + dt.date(1970, 1, 1).toordinal()) for d in days.tolist()]
    assert year.tolist() == [d.year for d in dates]
    assert month.tolist() == [d.month for d in dates]
    assert day.tolist() == [d.day for d in dates]
    assert days_from_civil(year, month, day).tolist() == days.tolist()
    narrow = (part.astype(np.int32) for part in (year, month, day))
    assert days_from_civil(*narrow).tolist() == days.tolist()


def test_month_lengths_know_leap_years():
    year = np.array([2023, 2024, 1900, 2000, 2024, 2024])
    month = np.array([2, 2, 2, 2, 4, 0])
    assert month_lengths(year, month).tolist() == [28, 29, 28, 29, 30, 0]
    assert is_leap_year(year).tolist() == [False, True, False, True, True, True]


def test_month_names_are_read_in_any_case():
    names = np.frombuffer(b"janFEBsEpDecxyzMA@", dtype=np.uint8).reshape(-1, 3)
    month, found = month_from_letters(names[:, 0], names[:, 1], names[:, 2])
    assert found.tolist() == [True, True, True, True, False, False]
    assert month[found].tolist() == [1, 2, 9, 12]


@pytest.mark.parametrize("moment, expected", [
    (dt.datetime(1970, 1, 1), 0),
    (dt.datetime(2024, 5, 6, 7, 8, 9, 123456), 1714979289123456000),
    (dt.datetime(1969, 12, 31, 23, 59, 59, 999999), -1000),
    (dt.datetime(2024, 5, 6, 9, 8, 9, 123456, dt.timezone(dt.timedelta(hours=2))), 1714979289123456000),
    # past the end of year 9999 in UTC
    (dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), (253402214400 + 28 * 3600) * 10**9),
])
def test_datetimes_become_exact_nanoseconds_naive_as_wall_clock_aware_as_utc(moment, expected):
    assert datetime_to_ns(moment) == expected


def test_the_time_package_is_a_leaf():
    """edge.time imports only numpy, the standard library, edge.errors and itself."""
    allowed = set(sys.stdlib_module_names) | {"numpy", "edge"}
    for path in pathlib.Path(edge.time.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, (path.name, name)
                if name.startswith("edge"):
                    assert name == "edge.errors" or name.startswith("edge.time"), (path.name, name)
