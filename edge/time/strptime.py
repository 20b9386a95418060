"""strptime layouts read from byte matrices with numpy, eight bytes of every row at once.

A layout made of fixed-width directives (%Y %m %d %H %M %S %y %j %I %p %b %a and literals,
then optionally %f and %z) is compiled once (`compile_layout`) into constants per 64-bit word
of a row; `read_layout` then checks and reads a whole matrix of text (one left-aligned, zero
padded row per value, see `edge.time.textfields`) with a few word operations per row. What a
layout cannot read this way is the caller's to read otherwise (`edge.time.timestamps` falls
back to `datetime.strptime`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from edge.time.civil import MAX_YEAR, MIN_YEAR, days_from_civil, is_leap_year, month_from_letters, month_lengths
from edge.time.decimals import eight_digits
from edge.time.units import NS_PER_MINUTE, NS_PER_SECOND, SECONDS_PER_DAY

_FIXED_WIDTH = {"Y": 4, "m": 2, "d": 2, "H": 2, "I": 2, "M": 2, "S": 2, "y": 2, "j": 3, "p": 2, "b": 3, "a": 3}
_DIGITS = "YmdHIMSyj"


@dataclasses.dataclass(frozen=True)
class Layout:
    """A compiled strptime format."""
    fmt: str
    tokens: tuple[tuple[str, str | int], ...]  # ("lit", char) or (directive, width)
    fraction: bool  # %f follows the fixed-width part
    offset: bool  # %z ends the format
    fast: bool  # False: `read_layout` cannot read this format; every value needs datetime.strptime

    @property
    def fixed_width(self) -> int:
        return sum(1 if kind == "lit" else int(width) for kind, width in self.tokens)


@functools.lru_cache(maxsize=256)
def compile_layout(fmt: str) -> Layout:
    """The layout of strptime format `fmt`, cached: a reader uses the same few formats."""
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


# -- vectorised layout reading --------------------------------------------------------------
#
# A row is read as 64-bit little-endian words (byte 0 of the row is the low byte of its first
# word). Constants built once per layout check every digit and literal byte of a word at once
# and turn its digits into two-digit numbers (SWAR: SIMD within a register), so a value costs
# a few operations per word rather than several per byte. Every temporary holds one number
# per row: wider blocks are slower to allocate than to compute.

_LANES = 0x0101010101010101  # a byte value times this: that value in every byte of a word
_HIGH_BITS = np.uint64(0x80 * _LANES)


def _month_table() -> np.ndarray:
    """Per (year - MIN_YEAR) * 100 + month: (seconds from 1970-01-01 to day 0 of the month) * 32
    + the month's length in days. Months 0 and 13-99 have no days, nor has the last entry,
    which stands for every year out of range."""
    year, month = np.meshgrid(np.arange(MIN_YEAR, MAX_YEAR + 1), np.arange(100), indexing="ij")
    real = (month >= 1) & (month <= 12)
    month = np.where(real, month, 1)
    length = np.where(real, month_lengths(year, month), 0)
    day_zero = days_from_civil(year, month, np.ones_like(year)) - 1
    return np.append((day_zero * SECONDS_PER_DAY) * 32 + length, 0).astype(np.int64)


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


def read_layout(layout: Layout, mat: np.ndarray, lengths: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ns, offset_ns, ok): wall-clock ns, the text's UTC offset (0 without %z), fit mask.

    `mat` holds one left-aligned, zero padded row of text per value, `lengths` their bytes.

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
            month, found = month_from_letters(mat[:, first], mat[:, first + 1], mat[:, first + 2])
            month_by_name = np.where(found, month, 0)
            ok &= found
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
    index += month - MIN_YEAR * 100
    # Years out of range (negative here, huge as unsigned) read the empty last entry.
    np.minimum(index.view(np.uint64), np.uint64(len(_MONTHS_TABLE) - 1), out=index.view(np.uint64))
    entry = _MONTHS_TABLE[index]
    month_days = entry & 31
    seconds = np.right_shift(entry, 5, out=entry)  # to day 0 of the month
    if "j" in fields:
        first = fields["j"]
        day = number(first) * 10
        day += mat[:, first + 2] ^ np.uint8(0x30)
        ok &= (month_days > 0) & (day >= 1) & (day <= 365 + is_leap_year(year))
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
    ns = np.multiply(seconds, NS_PER_SECOND, out=seconds)

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
    minutes *= np.where(sign == ord("-"), -NS_PER_MINUTE, NS_PER_MINUTE)
    offset_ns = np.where(fits & ~is_z, minutes, 0)
    return offset_ns, fits
