"""Date/time text and epoch numbers to UTC timestamps, a whole column at a time.

Text arrives as a byte matrix (one row per value, left-aligned, zero padded; see
`edge.time.textfields`). A strptime layout made of fixed-width directives
(%Y %m %d %H %M %S %y %j %I %p %b %a and literals, then optionally %f and %z) is read with
numpy arithmetic on the matrix's 64-bit words, eight bytes of every row at once. Values that
do not fit the fixed layout (an unpadded month "1/2/2024", a %B month name ...) fall back to
`datetime.strptime` one by one, so only unusual rows pay the Python price.

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

from edge.time.decimals import eight_digits

NS_PER_S = 1_000_000_000
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
            if not char.isascii():  # the fast path compares one byte per literal; UTF-8 may take more
                fast = False
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
#
# A row is read as 64-bit little-endian words (byte 0 of the row is the low byte of its first
# word). Constants built once per layout check every digit and literal byte of a word at once
# and turn its digits into two-digit numbers (SWAR: SIMD within a register), so a value costs
# a few operations per word rather than several per byte. Every temporary holds one number
# per row: wider blocks are slower to allocate than to compute.

_LANES = 0x0101010101010101  # a byte value times this: that value in every byte of a word
_HIGH_BITS = np.uint64(0x80 * _LANES)


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


def _month_table() -> np.ndarray:
    """Per (year - _MIN_YEAR) * 100 + month: (seconds from 1970-01-01 to day 0 of the month) * 32
    + the month's length in days. Months 0 and 13-99 have no days, nor has the last entry,
    which stands for every year out of range."""
    year, month = np.meshgrid(np.arange(_MIN_YEAR, _MAX_YEAR + 1), np.arange(100), indexing="ij")
    real = (month >= 1) & (month <= 12)
    month = np.where(real, month, 1)
    length = np.where(real, _DAYS_IN_MONTH[month] + (_is_leap(year) & (month == 2)), 0)
    day_zero = _days_from_civil(year, month, np.ones_like(year)) - 1
    return np.append((day_zero * 86_400) * 32 + length, 0).astype(np.int64)


_MONTHS_TABLE = _month_table()


@dataclasses.dataclass(frozen=True)
class _WordPlan:
    """A layout's fixed part as constants per 64-bit word."""
    width: int  # bytes of the fixed part
    expect: tuple[np.uint64, ...]  # '0' at digits, the literal at literals: text ^ expect is a
    # digit's value, or 0 for a matching literal
    slack: tuple[np.uint64, ...]  # added to text ^ expect: sets bit 7 of a digit above 9 or a wrong literal
    digits: tuple[np.uint64, ...]  # 0x0F at digits
    limits: tuple[np.uint64, ...]  # 127 - largest value, at the first byte of a bounded two-digit field
    straddles: frozenset[int]  # words whose last byte starts a two-digit number ending in the next word
    fields: dict[str, int]  # directive -> first byte of its last occurrence (the one that is read)
    names: tuple[tuple[str, int], ...]  # (%p, %b or %a, first byte): checked at every occurrence


@functools.lru_cache(maxsize=256)
def _word_plan(layout: Layout) -> _WordPlan:
    words = -(-layout.fixed_width // 8)
    expect, slack, digits, limits = (np.zeros(8 * words, dtype=np.uint8) for _ in range(4))
    fields: dict[str, int] = {}
    names: list[tuple[str, int]] = []
    pos = 0
    for kind, size in layout.tokens:
        if kind == "lit":
            expect[pos], slack[pos] = ord(str(size)), 0x7F
            pos += 1
            continue
        size = int(size)
        if kind in _DIGITS:
            expect[pos:pos + size], slack[pos:pos + size], digits[pos:pos + size] = 0x30, 0x76, 0x0F
            fields[kind] = pos
        else:
            names.append((kind, pos))
        pos += size
    # Bounded here: the clock fields. %I, %j and the date have checks of their own.
    for kind, largest in {"H": 23, "M": 59, "S": 59}.items():
        if kind in fields and not (kind == "H" and "I" in fields):
            limits[fields[kind]] = 127 - largest
    pair_starts = list(fields.values()) + ([fields["Y"] + 2] if "Y" in fields else [])
    straddles = frozenset(first // 8 for first in pair_starts if first % 8 == 7)

    def per_word(column: np.ndarray) -> tuple[np.uint64, ...]:
        return tuple(column.view(np.uint64))

    return _WordPlan(pos, per_word(expect), per_word(slack), per_word(digits), per_word(limits), straddles,
                     fields, tuple(names))


def _check_fixed(plan: _WordPlan, words: np.ndarray) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """(fits, pairs) of the fixed part of `words` (the matrix viewed as uint64, a row of words
    per value). Byte b of pairs[k] is the two-digit number that starts at byte b of word k
    (meaningful only where the row fits)."""
    bad = np.zeros(len(words), dtype=np.uint64)
    pairs: list[np.ndarray | None] = []
    for k, (expect, slack, digits) in enumerate(zip(plan.expect, plan.slack, plan.digits)):
        text = words[:, k] ^ expect
        flags = text + slack
        bad |= flags
        bad |= text  # a byte of 0x80 or more may wrap round when slack is added: flag it as it is
        if not digits:
            pairs.append(None)
            continue
        text &= digits
        # Ten times each digit plus the next one: at most 99, so no byte carries into the next.
        pair = np.multiply(text, np.uint64(10), out=flags)
        if k - 1 in plan.straddles:
            pairs[k - 1] += text << np.uint64(56)
        text >>= np.uint64(8)
        pair += text
        pairs.append(pair)
    for pair, limit in zip(pairs, plan.limits):
        if limit:
            bad |= pair + limit
    bad &= _HIGH_BITS
    return bad == 0, pairs


def _read_fraction(words: np.ndarray, pos: int) -> tuple[np.ndarray, np.ndarray]:
    """(ns, count): the up to 9 digits from byte `pos` of each row as a fraction of a second,
    and how many digits there are. Bytes past the rows' `words` count as zero."""
    first, shift = divmod(pos, 8)
    available = words.shape[1]
    if first >= available:
        return np.zeros(len(words), np.int64), np.zeros(len(words), np.uint8)
    window = words[:, first] >> np.uint64(8 * shift)
    if shift and first + 1 < available:
        window |= words[:, first + 1] << np.uint64(64 - 8 * shift)
    text = np.bitwise_xor(window, np.uint64(0x30 * _LANES), out=window)
    flags = text + np.uint64(0x76 * _LANES)
    flags |= text
    flags &= _HIGH_BITS  # bit 7 of every byte that is not a digit (right up to the first: a
    # carry out of it may reach later bytes, but they are not read)
    flags &= np.uint64(0) - flags  # only the lowest: the first byte that is not a digit
    leading = np.subtract(flags >> np.uint64(7), np.uint64(1), out=flags)  # the bytes before it
    text &= leading
    count = np.bitwise_count(leading)
    count >>= np.uint8(3)
    ns = eight_digits(text)
    ns *= np.uint64(10)  # the 8 digits count tens of ns; places without a digit are zero
    if first + 1 < available:
        ninth = words.view(np.uint8)[:, pos + 8] ^ np.uint8(0x30)
        more = (ninth < 10) & (count == 8)
        ns += ninth * more
        count += more
    return ns.view(np.int64), count


def _read_layout(layout: Layout, mat: np.ndarray, lengths: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ns, offset_ns, ok): wall-clock ns, the text's UTC offset (0 without %z), fit mask.

    The fixed part is checked and its numbers read a word at a time (`_check_fixed`); year and
    month then look up the month's start and length in a table.
    """
    plan = _word_plan(layout)
    count = len(mat)
    pos = plan.width
    width = max(8, -(-max(pos, mat.shape[1]) // 8) * 8)
    if mat.shape[1] < width or not mat.flags.c_contiguous:
        wide = np.zeros((count, width), dtype=np.uint8)
        wide[:, :mat.shape[1]] = mat
        mat = wide
    words = mat.view(np.uint64)
    ok, pairs = _check_fixed(plan, words)
    fields = plan.fields

    def number(first: int) -> np.ndarray:
        """The two-digit number at byte `first`, as int64."""
        value = pairs[first >> 3] >> np.uint64(8 * (first & 7))
        if first & 7 != 7:
            value &= np.uint64(0xFF)
        return value.view(np.int64)

    pm = month_by_name = None
    for kind, first in plan.names:
        if kind == "p":
            letter = mat[:, first] | np.uint8(0x20)
            ok &= ((letter == ord("a")) | (letter == ord("p"))) & ((mat[:, first + 1] | np.uint8(0x20)) == ord("m"))
            pm = letter == ord("p")
        elif kind == "b":
            lower = mat[:, first:first + 3].astype(np.int64) | 0x20
            code = (lower[:, 0] << 16) | (lower[:, 1] << 8) | lower[:, 2]
            month_by_name = np.zeros(count, dtype=np.int64)
            for month, name in enumerate(_MONTHS, start=1):
                month_by_name[code == (ord(name[0]) << 16 | ord(name[1]) << 8 | ord(name[2]))] = month
            ok &= month_by_name > 0
        elif kind == "a":
            letters = mat[:, first:first + 3] | np.uint8(0x20)
            ok &= ((letters >= ord("a")) & (letters <= ord("z"))).all(axis=1)

    if "y" in fields:
        short = number(fields["y"])
        year = short + np.where(short < 69, 2000, 1900)
    elif "Y" in fields:
        year = number(fields["Y"])
        year *= 100
        year += number(fields["Y"] + 2)
    else:
        year = np.full(count, 1900, dtype=np.int64)
    if "j" in fields or ("m" not in fields and month_by_name is None):
        month = 1
    else:
        month = month_by_name if month_by_name is not None else number(fields["m"])
    index = year * 100
    index += month - _MIN_YEAR * 100
    # Years out of range (negative here, huge as unsigned) read the empty last entry.
    np.minimum(index.view(np.uint64), np.uint64(len(_MONTHS_TABLE) - 1), out=index.view(np.uint64))
    entry = _MONTHS_TABLE[index]
    month_days = entry & 31
    seconds = np.right_shift(entry, 5, out=entry)  # to day 0 of the month
    if "j" in fields:
        first = fields["j"]
        day = number(first) * 10
        day += mat[:, first + 2] ^ np.uint8(0x30)
        ok &= (month_days > 0) & (day >= 1) & (day <= 365 + _is_leap(year))
    elif "d" in fields:
        day = number(fields["d"])
        ok &= (day - 1).view(np.uint64) < month_days.view(np.uint64)  # day 0 wraps round
    else:
        day = np.ones(count, dtype=np.int64)
        ok &= month_days > 0

    # day, hour, minute, second -> seconds since day 0 of the month
    clock = day
    clock *= 24
    if "I" in fields:
        twelve = number(fields["I"])
        ok &= (twelve >= 1) & (twelve <= 12)
        clock += twelve % 12
        if pm is not None:
            clock += 12 * pm
    elif "H" in fields:
        clock += number(fields["H"])
    clock *= 60
    if "M" in fields:
        clock += number(fields["M"])
    clock *= 60
    if "S" in fields:
        clock += number(fields["S"])
    seconds += clock
    ns = np.multiply(seconds, NS_PER_S, out=seconds)

    if layout.fraction:
        fraction_ns, ndigits = _read_fraction(words, pos)
        ok &= ndigits > 0
        ns += fraction_ns
    else:
        ndigits = 0
    if layout.offset:
        offset_ns, fits = _read_offsets(mat, np.add(ndigits, pos, dtype=np.int64), lengths)
        ok &= fits
    else:
        offset_ns = np.zeros(count, dtype=np.int64)
        ok &= (lengths - pos) == ndigits
    return ns, offset_ns, ok


def _read_offsets(mat: np.ndarray, start: np.ndarray, lengths: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(offset_ns, fits): UTC offsets 'Z', '+HH', '+HHMM' or '+HH:MM' from `start` to the end.

    Only bytes before a row's end decide whether it fits, so the 8 bytes read from `start` may
    run into the next row.
    """
    count, width = mat.shape
    if count and int(start.max()) + 8 > width:  # the last row's 8 bytes must lie inside the matrix
        mat = np.pad(mat, ((0, 0), (0, 8)))
        width += 8
    # Item i of `spans` is bytes i .. i + 7 of the matrix: one gather takes every row's 8 bytes.
    spans = np.ndarray((mat.size - 7,), dtype=np.uint64, buffer=mat, strides=(1,))
    chars = spans[np.arange(count) * width + start].view(np.uint8).reshape(count, 8)
    remaining = lengths - start
    sign = chars[:, 0]
    d1, d2, d3, d4, d5 = (chars[:, k] - np.uint8(48) for k in range(1, 6))  # above 9: not a digit
    is_z = (sign == ord("Z")) & (remaining == 1)
    signed_hours = ((sign == ord("+")) | (sign == ord("-"))) & (d1 <= 9) & (d2 <= 9)
    compact = (remaining == 5) & (d3 <= 5) & (d4 <= 9)  # +HHMM
    extended = (remaining == 6) & (chars[:, 3] == ord(":")) & (d4 <= 5) & (d5 <= 9)  # +HH:MM
    with_minutes = signed_hours & (compact | extended)
    hours = d1 * np.uint8(10) + d2
    fits = is_z | ((signed_hours & (remaining == 3) | with_minutes) & (hours < 24))
    minutes = hours * np.int64(60)
    minutes += np.where(extended, d4 * np.uint8(10) + d5, d3 * np.uint8(10) + d4) * with_minutes
    minutes *= np.where(sign == ord("-"), -60 * NS_PER_S, 60 * NS_PER_S)
    offset_ns = np.where(fits & ~is_z, minutes, 0)
    return offset_ns, fits


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
            wall[row] = ns  # OverflowError: a year whose nanoseconds do not fit in int64
        except (ValueError, OverflowError):
            continue
        offset[row], aware[row], ok[row] = 0, is_aware, True
    return _finish(wall, offset, aware, ok, present, tz)


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
