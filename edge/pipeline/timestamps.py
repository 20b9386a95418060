"""Date/time text and epoch numbers to UTC timestamps, a whole column at a time.

Text arrives as a byte matrix (one row per value, left-aligned, zero padded; see
`edge.pipeline.textfields`). A strptime layout made of fixed-width directives
(%Y %m %d %H %M %S %y %j %I %p %b %a and literals, then optionally %f and %z) is read with
numpy arithmetic over the matrix columns. Values that do not fit the fixed layout (an
unpadded month "1/2/2024", a %B month name ...) fall back to `datetime.strptime` one by one,
so only unusual rows pay the Python price.

Wall-clock times without a UTC offset are placed in a time zone by `localize`, which asks
zoneinfo once per distinct quarter hour of the data rather than once per value. An ambiguous
wall time (the repeated hour when clocks go back) is read as its first occurrence.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import re
from zoneinfo import ZoneInfo

import numpy as np

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
NAT = np.iinfo(np.int64).min
UNIT_NS = {"s": NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}
_QUARTER_HOUR_NS = 900 * NS_PER_S
_EPOCH = _dt.datetime(1970, 1, 1)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_FIXED_WIDTH = {"Y": 4, "m": 2, "d": 2, "H": 2, "I": 2, "M": 2, "S": 2, "y": 2, "j": 3, "p": 2, "b": 3, "a": 3}
_DIGITS = "YmdHIMSyj"
# Years whose nanoseconds fit in int64.
_MIN_YEAR, _MAX_YEAR = 1678, 2261


@dataclasses.dataclass(frozen=True)
class Layout:
    """A compiled strptime format."""
    fmt: str
    tokens: tuple[tuple[str, str | int], ...]  # ("lit", char) or (directive, width)
    fraction: bool  # %f follows the fixed-width part
    offset: bool  # %z ends the format
    fast: bool  # False: every value goes through datetime.strptime

    @property
    def fixed_width(self) -> int:
        return sum(1 if kind == "lit" else int(width) for kind, width in self.tokens)


@functools.lru_cache(maxsize=256)
def compile_layout(fmt: str) -> Layout:
    tokens: list[tuple[str, str | int]] = []
    fraction = offset = False
    fast = True
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            i += 2
        else:
            directive = None
            i += 1
        if fraction or offset:
            # Only %z may follow %f, and nothing may follow %z, for the vectorised path.
            if directive == "z" and not offset:
                offset = True
            else:
                fast = False
            continue
        if directive is None or directive == "%":
            tokens.append(("lit", char if directive is None else "%"))
        elif directive == "f":
            fraction = True
        elif directive == "z":
            offset = True
        elif directive in _FIXED_WIDTH:
            tokens.append((directive, _FIXED_WIDTH[directive]))
        else:
            fast = False
    return Layout(fmt, tuple(tokens), fraction, offset, fast)


def check_format(fmt: str) -> str | None:
    """Why `fmt` cannot be a strptime layout, or None when it can."""
    try:
        _dt.datetime.strptime(_dt.datetime(2001, 2, 3, 4, 5, 6, 789, _dt.timezone.utc).strftime(fmt), fmt)
    except ValueError as exc:
        return f"bad timestamp format {fmt!r}: {exc}"
    return None


# -- vectorised layout reading --------------------------------------------------------------


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    # Howard Hinnant's days_from_civil, vectorised.
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = np.where(month > 2, month - 3, month + 9)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _is_leap(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _leading_digits(is_digit: np.ndarray, pos: int) -> np.ndarray:
    """Per row, how many digits follow one another from column `pos` (at most 9)."""
    ended = np.zeros((len(is_digit), 10), dtype=bool)
    ended[:, :9] = is_digit[:, pos:pos + 9]
    return ended.argmin(axis=1).astype(np.int64)  # the first column that is not a digit


def _read_layout(layout: Layout, mat: np.ndarray, lengths: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ns, offset_ns, ok): wall-clock ns, the text's UTC offset (0 without %z), fit mask.

    The fixed part is checked a 64-bit word at a time against the layout's digit and literal
    bytes; each directive's number is then a few column operations on the digit matrix.
    """
    count = len(mat)
    need = layout.fixed_width + (9 if layout.fraction else 0) + (6 if layout.offset else 0)
    width = max(8, -(-max(need, mat.shape[1]) // 8) * 8)
    if mat.shape[1] < width or not mat.flags.c_contiguous:
        wide = np.zeros((count, width), dtype=np.uint8)
        wide[:, :mat.shape[1]] = mat
        mat = wide
    digit = mat - np.uint8(48)
    is_digit = digit < 10
    digit *= is_digit

    want_digit = np.zeros(width, dtype=np.uint8)
    literal_mask = np.zeros(width, dtype=np.uint8)
    literal = np.zeros(width, dtype=np.uint8)
    numeric: list[tuple[str, int, int]] = []  # (directive, first column, width)
    pm = month_by_name = None
    ok = np.ones(count, dtype=bool)
    pos = 0
    for kind, size in layout.tokens:
        if kind == "lit":
            literal_mask[pos], literal[pos] = 0xFF, ord(str(size))
            pos += 1
            continue
        size = int(size)
        if kind in _DIGITS:
            want_digit[pos:pos + size] = 1
            numeric.append((kind, pos, size))
        elif kind == "p":
            first = mat[:, pos] | np.uint8(0x20)
            ok &= ((first == ord("a")) | (first == ord("p"))) & ((mat[:, pos + 1] | np.uint8(0x20)) == ord("m"))
            pm = first == ord("p")
        elif kind == "b":
            lower = mat[:, pos:pos + 3].astype(np.int64) | 0x20
            code = (lower[:, 0] << 16) | (lower[:, 1] << 8) | lower[:, 2]
            month = np.zeros(count, dtype=np.int64)
            for number, name in enumerate(_MONTHS, start=1):
                month[code == (ord(name[0]) << 16 | ord(name[1]) << 8 | ord(name[2]))] = number
            ok &= month > 0
            month_by_name = month
        elif kind == "a":
            letters = mat[:, pos:pos + 3] | np.uint8(0x20)
            ok &= ((letters >= ord("a")) & (letters <= ord("z"))).all(axis=1)
        pos += size
    digit_words = is_digit.view(np.uint64)
    text_words = mat.view(np.uint64)
    for k, (want, mask, value) in enumerate(zip(want_digit.view(np.uint64), literal_mask.view(np.uint64),
                                                literal.view(np.uint64))):
        if want:
            ok &= (digit_words[:, k] & want) == want
        if mask:
            ok &= (text_words[:, k] & mask) == value

    # Each directive's number from its digit columns (a BLAS product would be no faster at
    # these sizes, and its threads cost more than they save on a busy box).
    digits = digit[:, :pos + (9 if layout.fraction else 0)].astype(np.int32)
    parts: dict[str, np.ndarray] = {}
    for kind, first_column, size in numeric:
        value = digits[:, first_column].astype(np.int64)
        for k in range(1, size):
            value *= 10
            value += digits[:, first_column + k]
        parts[kind] = value
    if month_by_name is not None:
        parts["m"] = month_by_name
    if "y" in parts:
        parts["Y"] = np.where(parts["y"] < 69, parts["y"] + 2000, parts["y"] + 1900)

    fraction_ns = np.zeros(count, dtype=np.int64)
    end = np.full(count, pos, dtype=np.int64)
    if layout.fraction:
        ndigits = _leading_digits(is_digit, pos)
        ok &= ndigits >= 1
        run = digits[:, pos:pos + 9]
        if layout.offset:  # digits of the offset may follow the fraction's
            run = run * (np.arange(9, dtype=np.int32) < ndigits[:, None])
        for k in range(9):
            fraction_ns += run[:, k] * (10 ** (8 - k))
        end = end + ndigits
    offset_ns = np.zeros(count, dtype=np.int64)
    if layout.offset:
        offset_ns, zlen, fits = _read_offsets(mat, end, lengths)
        ok &= fits
        end = end + zlen
    ok &= lengths == end

    def part(name: str, default: int) -> np.ndarray:
        return parts[name] if name in parts else np.full(count, default, dtype=np.int64)

    year, month, day = part("Y", 1900), part("m", 1), part("d", 1)
    hour, minute, second = part("H", 0), part("M", 0), part("S", 0)
    if "I" in parts:
        twelve = parts["I"]
        ok &= (twelve >= 1) & (twelve <= 12)
        hour = np.where(pm if pm is not None else False, twelve % 12 + 12, twelve % 12)

    ok &= (year >= _MIN_YEAR) & (year <= _MAX_YEAR)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    year = np.where(ok, year, 1970)
    leap = _is_leap(year)
    if "j" in parts:
        yday = parts["j"]
        ok &= (yday >= 1) & (yday <= 365 + leap)
        days = _days_from_civil(year, np.ones(count, np.int64), np.ones(count, np.int64)) + yday - 1
    else:
        ok &= (month >= 1) & (month <= 12)
        month = np.where(ok, month, 1)
        ok &= (day >= 1) & (day <= _DAYS_IN_MONTH[month] + (leap & (month == 2)))
        days = _days_from_civil(year, month, np.where(ok, day, 1))
    ns = days * NS_PER_DAY + ((hour * 60 + minute) * 60 + second) * NS_PER_S + fraction_ns
    return ns, offset_ns, ok


def _read_offsets(mat: np.ndarray, start: np.ndarray, lengths: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC offsets 'Z', '+HH', '+HHMM' or '+HH:MM' starting at `start` (per row)."""
    rows = np.arange(len(mat))
    width = mat.shape[1]

    def at(shift: int) -> np.ndarray:
        return mat[rows, np.minimum(start + shift, width - 1)].astype(np.int64)

    remaining = lengths - start
    sign_char = at(0)
    is_z = (sign_char == ord("Z")) & (remaining == 1)
    sign = np.where(sign_char == ord("-"), -1, 1)
    signed = (sign_char == ord("+")) | (sign_char == ord("-"))
    digit = [at(k) - 48 for k in range(1, 6)]
    hh = digit[0] * 10 + digit[1]
    hh_ok = (digit[0] >= 0) & (digit[0] <= 9) & (digit[1] >= 0) & (digit[1] <= 9)
    colon = at(3) == ord(":")
    m_first = np.where(colon, digit[3], digit[2])
    m_second = np.where(colon, digit[4], digit[3])
    mm_ok = (m_first >= 0) & (m_first <= 5) & (m_second >= 0) & (m_second <= 9)
    mm = m_first * 10 + m_second
    hours_only = signed & hh_ok & (remaining == 3)
    with_minutes = signed & hh_ok & mm_ok & (remaining == np.where(colon, 6, 5))
    fits = is_z | hours_only | with_minutes
    minutes = np.where(with_minutes, hh * 60 + mm, hh * 60)
    offset_ns = np.where(is_z | ~fits, 0, sign * minutes * 60 * NS_PER_S)
    zlen = np.where(is_z, 1, np.where(hours_only, 3, np.where(with_minutes, remaining, 0)))
    return offset_ns.astype(np.int64), zlen.astype(np.int64), fits & (hh < 24)


# -- public: text, numbers -> UTC ns ---------------------------------------------------------


def _decode(row: np.ndarray, length: int) -> str:
    return row[:length].tobytes().decode("utf-8", errors="replace")


def _from_datetime(value: _dt.datetime) -> tuple[int, bool]:
    """(ns, aware): wall-clock ns for a naive value, UTC ns for an aware one."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        aware = True
    else:
        aware = False
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000, aware


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
        wall, offset, ok = _read_layout(layout, mat, lengths)
    else:
        wall, offset, ok = np.zeros(count, np.int64), np.zeros(count, np.int64), np.zeros(count, bool)
    aware = np.full(count, layout.offset)
    for row in np.flatnonzero(present & ~ok):
        try:
            value = _dt.datetime.strptime(_decode(mat[row], int(lengths[row])), fmt)
            ns, is_aware = _from_datetime(value)
        except (ValueError, OverflowError):
            continue
        wall[row], offset[row], aware[row], ok[row] = ns, 0, is_aware, True
    return _finish(wall, offset, aware, ok, present, tz)


def _finish(wall, offset, aware, ok, present, tz) -> tuple[np.ndarray, np.ndarray]:
    utc = np.full(len(wall), NAT, dtype=np.int64)
    good = ok & present
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
        sub_wall, sub_offset, sub_ok = _read_layout(layout, mat[todo], lengths[todo])
        hit = todo[sub_ok]
        wall[hit], offset[hit], aware[hit], ok[hit] = sub_wall[sub_ok], sub_offset[sub_ok], layout.offset, True
        todo = todo[~sub_ok]
    for row in todo:
        text = _decode(mat[row], int(lengths[row]))
        value = _loose_datetime(text, dayfirst)
        if value is None:
            continue
        try:
            wall[row], is_aware = _from_datetime(value)
        except OverflowError:
            continue
        aware[row], ok[row] = is_aware, True
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


def localize(wall_ns: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """UTC ns of wall-clock times `wall_ns` (int64, no NAT) in time zone `tz`."""
    if not len(wall_ns) or tz.key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Zulu", "Etc/Zulu"):
        return wall_ns.copy()
    quarters, inverse = np.unique(np.floor_divide(wall_ns, _QUARTER_HOUR_NS), return_inverse=True)
    offsets = np.empty(len(quarters), dtype=np.int64)
    for i, quarter in enumerate(quarters.tolist()):
        moment = _EPOCH + _dt.timedelta(seconds=quarter * 900)
        offset = moment.replace(tzinfo=tz).utcoffset() or _dt.timedelta(0)
        offsets[i] = int(offset.total_seconds()) * NS_PER_S
    return wall_ns - offsets[inverse.ravel()]


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
    step = 1_000 if scale >= 1_000_000 else 1
    fraction = np.round((np.where(usable, values, 0.0) - whole) * (scale // step)).astype(np.int64) * step
    ns = whole.astype(np.int64) * scale + fraction
    return np.where(usable, ns, NAT), bad


@functools.lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    """ZoneInfo for an IANA name (UTC when None or empty); ValueError when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except Exception:
        raise ValueError(f"unknown IANA time zone {name!r}") from None
