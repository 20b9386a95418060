"""Date/time text and epoch numbers to UTC timestamps, a whole column at a time.

Text arrives as a byte matrix (one row per value, left-aligned, zero padded; see
`edge.time.textfields`). A strptime layout of fixed-width fields is read vectorised by
`edge.time.strptime`; values that do not fit the fixed layout (an unpadded month "1/2/2024",
a %B month name ...) fall back to `datetime.strptime` one by one, so only unusual rows pay
the Python price. Wall-clock times without a UTC offset are placed in a time zone by
`edge.time.timezone.localize`.

Missing times are NAT (the least int64).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from zoneinfo import ZoneInfo

import numpy as np

from edge.time.civil import OUT_OF_RANGE, datetime_to_ns, year_out_of_range
from edge.time.strptime import compile_layout, read_layout
from edge.time.timezone import localize
from edge.time.units import NS_PER_MS, NS_PER_SECOND, NS_PER_US

NAT = np.iinfo(np.int64).min
# Units of epoch numbers.
UNIT_NS = {"s": NS_PER_SECOND, "ms": NS_PER_MS, "us": NS_PER_US, "ns": 1}


def check_format(fmt: str) -> str | None:
    """Why `fmt` cannot be a strptime layout, or None when it can."""
    try:
        _dt.datetime.strptime(_dt.datetime(2001, 2, 3, 4, 5, 6, 789, _dt.timezone.utc).strftime(fmt), fmt)
    except ValueError as exc:
        return f"bad timestamp format {fmt!r}: {exc}"
    return None


def _decode(row: np.ndarray, length: int) -> str:
    return row[:length].tobytes().decode("utf-8", errors="replace")


def parse_text(mat: np.ndarray, lengths: np.ndarray, fmt: str, tz: ZoneInfo
               ) -> tuple[np.ndarray, np.ndarray]:
    """UTC ns (NAT where missing or unreadable) and a mask of the unreadable values.

    Empty values are missing, not unreadable. Text without a UTC offset is wall-clock time
    in `tz`.
    """
    layout = compile_layout(fmt)
    count = len(lengths)
    present = lengths > 0
    if layout.fast and count:
        wall, offset, ok = read_layout(layout, mat, lengths)
    else:
        wall, offset, ok = np.zeros(count, np.int64), np.zeros(count, np.int64), np.zeros(count, bool)
    aware = np.full(count, layout.offset)
    for row in np.flatnonzero(present & ~ok):
        try:
            value = _dt.datetime.strptime(_decode(mat[row], int(lengths[row])), fmt)
            wall[row] = datetime_to_ns(value)  # OverflowError: a year whose nanoseconds do not fit in int64
        except (ValueError, OverflowError):
            continue
        offset[row], aware[row], ok[row] = 0, value.tzinfo is not None, True
    return _finish(wall, offset, aware, ok, present, tz)


def out_of_range(text: str, fmt: str | None, dayfirst: bool = False) -> str | None:
    """For a value `parse_text` (`fmt`) or `parse_any` (`fmt` None) found unreadable: the
    reason when it is a well-formed time whose year is out of range, else None."""
    def reads(candidate: str) -> bool:
        raw = candidate.encode("utf-8")
        mat = np.zeros((1, max(8, -(-len(raw) // 8) * 8)), dtype=np.uint8)
        mat[0, :len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        lengths = np.array([len(raw)], dtype=np.int64)
        utc = ZoneInfo("UTC")
        _, unreadable = parse_text(mat, lengths, fmt, utc) if fmt else parse_any(mat, lengths, dayfirst, utc)
        return not unreadable[0]
    return OUT_OF_RANGE if year_out_of_range(text, reads) else None


def _finish(wall, offset, aware, ok, present, tz) -> tuple[np.ndarray, np.ndarray]:
    good = ok & present
    if good.all() and not aware.any():  # the usual chunk: every value read, all wall-clock
        return localize(wall, tz), ~good
    utc = np.full(len(wall), NAT, dtype=np.int64)
    naive = good & ~aware
    utc[naive] = localize(wall[naive], tz)
    with_offset = good & aware
    utc[with_offset] = wall[with_offset] - offset[with_offset]
    return utc, present & ~ok


# Layouts `parse_any` tries, most common first; "D/M" forms swap for dayfirst.
_ANY_LAYOUTS = (
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "M/D/%Y %H:%M:%S.%f", "M/D/%Y %H:%M:%S", "M/D/%Y %H:%M", "M/D/%Y %I:%M:%S %p", "M/D/%Y %I:%M %p", "M/D/%Y",
    "M-D-%Y %H:%M:%S", "M-D-%Y %H:%M", "M-D-%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
)
_LOOSE = re.compile(
    r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?\s*([AaPp][Mm])?)?\s*$")


@functools.lru_cache(maxsize=4)
def _any_layouts(dayfirst: bool) -> tuple[str, ...]:
    first, second = ("%d", "%m") if dayfirst else ("%m", "%d")
    return tuple(f.replace("M", first, 1).replace("D", second, 1) if f[0] == "M" else f for f in _ANY_LAYOUTS)


def parse_any(mat: np.ndarray, lengths: np.ndarray, dayfirst: bool, tz: ZoneInfo
              ) -> tuple[np.ndarray, np.ndarray]:
    """Like `parse_text` for date/time text in any common layout (ISO 8601, 'MM/DD/YYYY' ...).

    Each layout is tried on the values no earlier layout read; what none reads goes through
    `datetime.fromisoformat`, then a loose day/month/year pattern.
    """
    count = len(lengths)
    present = lengths > 0
    wall = np.zeros(count, np.int64)
    offset = np.zeros(count, np.int64)
    aware = np.zeros(count, bool)
    ok = np.zeros(count, bool)
    todo = np.flatnonzero(present)
    for fmt in _any_layouts(dayfirst):
        if not len(todo):
            break
        layout = compile_layout(fmt)
        sub_wall, sub_offset, sub_ok = read_layout(layout, mat[todo], lengths[todo])
        hit = todo[sub_ok]
        wall[hit], offset[hit], aware[hit], ok[hit] = sub_wall[sub_ok], sub_offset[sub_ok], layout.offset, True
        todo = todo[~sub_ok]
    for row in todo:
        text = _decode(mat[row], int(lengths[row]))
        value = _loose_datetime(text, dayfirst)
        if value is None:
            continue
        try:
            wall[row] = datetime_to_ns(value)
        except OverflowError:
            continue
        aware[row], ok[row] = value.tzinfo is not None, True
    return _finish(wall, offset, aware, ok, present, tz)


def _loose_datetime(text: str, dayfirst: bool) -> _dt.datetime | None:
    try:
        return _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    match = _LOOSE.match(text)
    if match is None:
        return None
    a, b, year, hour, minute, second, fraction, ampm = match.groups()
    day, month = (int(a), int(b)) if dayfirst else (int(b), int(a))
    year_number = int(year) + (0 if len(year) == 4 else (2000 if int(year) < 69 else 1900))
    hour_number = int(hour or 0)
    if ampm:
        if not 1 <= hour_number <= 12:
            return None
        hour_number = hour_number % 12 + (12 if ampm.lower() == "pm" else 0)
    micro = int((fraction or "0").ljust(6, "0")[:6])
    try:
        return _dt.datetime(year_number, month, day, hour_number, int(minute or 0), int(second or 0), micro)
    except ValueError:
        return None


def epoch_to_ns(values: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """UTC ns of numbers counting `unit` since 1970-01-01 UTC; NaN -> NAT. Also an out-of-range mask."""
    scale = UNIT_NS[unit]
    if values.dtype.kind in "iu":
        limit = np.iinfo(np.int64).max // scale
        bad = np.abs(values) > limit
        return np.where(bad, NAT, values.astype(np.int64) * scale), bad
    values = values.astype(np.float64)
    missing = np.isnan(values)
    bad = ~missing & ~(np.abs(values) < 9.2e18 / scale)
    usable = ~missing & ~bad
    whole = np.floor(np.where(usable, values, 0.0))
    # Whole units and the fraction apart keep float64's precision for times near today; a
    # double of seconds (or ms) since 1970 holds no more than microseconds, so round there.
    step = NS_PER_US if scale >= NS_PER_MS else 1
    fraction = np.round((np.where(usable, values, 0.0) - whole) * (scale // step)).astype(np.int64) * step
    ns = whole.astype(np.int64) * scale + fraction
    return np.where(usable, ns, NAT), bad
