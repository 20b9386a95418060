"""Decimal text to float64, vectorised over a right-aligned byte matrix.

The common case in plant data, `[+-]digits[.digits]` with at most 15 digits, is computed
exactly with integer arithmetic. Each 64-bit word of a row holds eight bytes; with the
non-digits (sign, dot, padding) zeroed and the bytes before the dot shifted one place on
over it, the well-known SWAR steps (multiply-shift-mask, eight digits per word at once) turn
a word of eight digit values into the number they spell, so the words make the integer F
that the row's digits form. F < 2^53 and one division by a power of ten give the correctly
rounded double, the same value `float()` returns.

Anything else (exponents, 'inf', surrounding spaces, more digits) goes through `float()` for
just those values, and missing-value words ('NA', 'null' ...) become NaN.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import numpy as np

from edge.time.textfields import ByteFields

_POW10 = 10.0 ** np.arange(19)
_ONE = np.uint64(1)
_EIGHT = np.uint64(8)
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_FAST_WIDTH = 24  # longer fields cannot be <= 15 digits plus sign and dot with padding to spare
# Cell texts read as a missing number (pandas' default NA words).
MISSING_WORDS = frozenset({
    b"", b"NA", b"N/A", b"n/a", b"NaN", b"nan", b"-NaN", b"-nan", b"NULL", b"null", b"None", b"none",
    b"#N/A", b"#N/A N/A", b"#NA", b"-1.#IND", b"1.#IND", b"-1.#QNAN", b"1.#QNAN", b"<NA>",
})


def decimals(mat: np.ndarray, lengths: np.ndarray, columns: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, ok, has_dot) of right-aligned decimal text; `ok` is False where this cannot read.

    `mat` is M x W uint8 (W a multiple of 8, each row's text ending in the last column; the
    M rows are `columns` equal blocks, one per column); it is used up as scratch space. Each
    step is a whole-array operation on bytes or 64-bit words, gathers only for the rare
    signed rows: at these sizes the cost is the number of passes over memory.
    """
    count, width = mat.shape
    nwords = width // 8
    words = mat.view(np.uint64)  # count x nwords
    np.subtract(mat, np.uint8(48), out=mat)  # digits become 0-9; '.' 254, '-' 253, '+' 251
    is_digit = mat < 10
    dot_words = (mat == 254).view(np.uint64)
    minus_words = (mat == 253).view(np.uint64)
    plus_words = (mat == 251).view(np.uint64)
    np.multiply(mat, is_digit.view(np.uint8), out=mat)  # sign, dot and padding become zero digits
    digit_words = is_digit.view(np.uint64)
    ndigits = _bit_count(digit_words)
    ndots = _bit_count(dot_words)
    has_dot = ndots == 1
    negative, signed = _leading_sign(minus_words, plus_words, lengths)
    counted = ndigits + ndots
    counted += signed
    ok = counted == lengths
    ok &= ndots <= 1
    ok &= (ndigits - np.uint8(1)) < 15  # 1 to 15 digits (0 wraps round to 255)

    # Take the dot out: the bytes before it move one place on, over it (a byte shift within
    # and across words), so the digits read as the integer int_part * 10^f + fraction_part
    # where f is the count of digits after the dot.
    fraction = np.zeros(count, dtype=np.uint8)
    if has_dot.any():
        below = [None] * nwords  # per word: the bits of its bytes before the dot
        later = np.zeros(count, dtype=bool)  # the dot is in a later word
        for k in reversed(range(nwords)):
            dot = dot_words[:, k]
            below[k] = dot - np.minimum(dot, _ONE)
            if k < nwords - 1:
                below[k] |= later * _ALL
            if k:
                later |= dot != 0
        before_dot = np.zeros(count, dtype=np.uint8)  # digits
        carry = None
        for k in range(nwords):
            column = words[:, k]
            moving = column & below[k]
            before_dot += np.bitwise_count(digit_words[:, k] & below[k])
            column ^= moving
            column |= moving << _EIGHT
            if carry is not None:
                column |= carry
            carry = moving >> np.uint64(56)
        np.subtract(ndigits, before_dot, out=fraction, where=has_dot)

    eights = eight_digits(words)
    whole = eights[:, 0].copy() if nwords > 1 else eights.reshape(count)
    for k in range(1, nwords):
        whole *= np.uint64(100_000_000)
        whole += eights[:, k]

    values = whole.view(np.int64).astype(np.float64)  # ok rows hold < 10^15: as int64 it converts faster
    _scale(values.reshape(columns, -1), fraction.reshape(columns, -1))
    np.negative(values, out=values, where=negative)
    return values, ok, has_dot


def eight_digits(digits: np.ndarray) -> np.ndarray:
    """The number written by the 8 digit values (0-9) in the bytes of each 64-bit word, its
    first byte the leading digit (SWAR: pairs, then fours, then all eight, each step a
    multiply, shift and mask over the whole word)."""
    value = digits * np.uint64(10 << 8 | 1)
    value >>= _EIGHT
    value &= np.uint64(0x00FF00FF00FF00FF)  # 16-bit lanes of 2 digits
    value *= np.uint64(100 << 16 | 1)
    value >>= np.uint64(16)
    value &= np.uint64(0x0000FFFF0000FFFF)  # 32-bit lanes of 4 digits
    value *= np.uint64(10000 << 32 | 1)
    value >>= np.uint64(32)
    return value


def _bit_count(words: np.ndarray) -> np.ndarray:
    """Per row, the set bits of its words (uint8)."""
    total = np.bitwise_count(words[:, 0])
    for k in range(1, words.shape[1]):
        total += np.bitwise_count(words[:, k])
    return total


def _leading_sign(minus_words: np.ndarray, plus_words: np.ndarray, lengths: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(negative, signed) per row: its first character, byte W - length, is '-' / a sign.

    Signs are rare, so only the rows holding one are looked at; a sign anywhere else is
    left uncounted, which makes the row not `ok`.
    """
    count, nwords = minus_words.shape
    either = (minus_words | plus_words) != 0
    rows = np.flatnonzero(either.any(axis=1) if nwords > 1 else either.reshape(count))
    negative = np.zeros(count, dtype=bool)
    signed = np.zeros(count, dtype=bool)
    if len(rows):
        first = nwords * 8 - lengths[rows].astype(np.int64)
        first_bit = _ONE << ((first % 8) * 8).astype(np.uint64)
        is_minus = is_plus = True
        for k in range(nwords):
            target = np.where(first // 8 == k, first_bit, np.uint64(0))
            is_minus = is_minus & (minus_words[rows, k] == target)
            is_plus = is_plus & (plus_words[rows, k] == target)
        negative[rows] = is_minus
        signed[rows] = is_minus | is_plus
    return negative, signed


def _scale(values: np.ndarray, fraction: np.ndarray) -> None:
    """values /= 10 ** fraction, one division per column when its rows share their count of
    decimals (the usual case: numbers written with a fixed format)."""
    low, high = fraction.min(axis=1), fraction.max(axis=1)
    if np.array_equal(low, high):
        values /= _POW10[np.minimum(low, 18)][:, None]
    else:
        values /= _POW10[np.minimum(fraction, 18)]  # more cannot be `ok`; keeps the lookup in range


class NumberColumn(NamedTuple):
    """A column read as numbers: `values` (NaN where missing or unparsed), `integral` (every
    value present, whole and exact in int64), and `unparsed`, the rows whose text is no number."""
    values: np.ndarray
    integral: bool
    unparsed: np.ndarray


def parse_number_columns(fields: ByteFields, starts: np.ndarray, ends: np.ndarray,
                         established: Collection[int] = ()) -> list[NumberColumn | None]:
    """Per column of the rows x columns field bounds: a NumberColumn, or None when it is text.

    A column is numeric when at least half of its present values (not empty, not a
    missing-value word) are numbers, or when it is in `established` (numeric before, say in
    an earlier chunk of the file): its other values are `unparsed`, NaN in `values`.
    `integral`: every value is present, whole and exact in int64, so the column can be int64
    as pandas would make it. The fast path reads all numeric-looking columns with one
    `decimals` call; only the values it cannot read are looked at one by one.
    """
    rows, columns = starts.shape
    result: list[NumberColumn | None] = [None] * columns
    if not rows:
        return [NumberColumn(np.zeros(0), False, _NONE) if c in established
                or _sample_is_numeric(fields, starts[:, c], ends[:, c]) else None for c in range(columns)]
    # Column after column (transposed), so each column's values come out contiguous; laid
    # out so, each column's longest is a contiguous reduction too.
    lengths = np.empty((columns, rows), dtype=np.int64)
    np.subtract(ends.T, starts.T, out=lengths)
    longest = lengths.max(axis=1)
    candidates = []
    for c in range(columns):
        if (c in established or _sample_is_numeric(fields, starts[:, c], ends[:, c])
                or _mostly_number_like(fields, starts[:, c], ends[:, c])):
            candidates.append(c)
    fast = [c for c in candidates if longest[c] <= _FAST_WIDTH]
    if fast:
        pick = slice(fast[0], fast[-1] + 1) if fast[-1] - fast[0] + 1 == len(fast) else fast
        picked = lengths[pick].astype(np.uint8).ravel()  # <= _FAST_WIDTH
        mat = fields.right_aligned(ends.T[pick].ravel(), picked)
        values, ok, has_dot = (a.reshape(len(fast), rows) for a in decimals(mat, picked, len(fast)))
        for i, c in enumerate(fast):
            result[c] = _finish_column(fields, starts[:, c], ends[:, c], values[i], ok[i], has_dot[i],
                                       c in established)
    for c in candidates:
        if c not in fast:
            result[c] = _finish_column(fields, starts[:, c], ends[:, c], np.full(rows, np.nan),
                                       np.zeros(rows, dtype=bool), np.ones(rows, dtype=bool), c in established)
    return result


_NONE = np.zeros(0, dtype=np.int64)


def _finish_column(fields, starts, ends, values, ok, has_dot, established: bool) -> NumberColumn | None:
    if ok.all():
        return NumberColumn(values, not has_dot.any(), _NONE)
    todo = np.flatnonzero(~ok)
    missing, unparsed = _read_rest(fields, starts[todo], ends[todo], todo, values)
    if len(unparsed) and not established and 2 * len(unparsed) > len(values) - missing:
        return None  # mostly text
    return NumberColumn(values, len(todo) == 0 and not has_dot.any(), unparsed)


def _text(fields: ByteFields, start: int, end: int) -> bytes:
    return fields.padded[fields.pad + start:fields.pad + end].tobytes()


def _sample_is_numeric(fields: ByteFields, starts: np.ndarray, ends: np.ndarray, size: int = 4) -> bool:
    """A cheap look at the first present values, so the usual column, all numbers, skips
    the work of telling a text column from a numeric one with a few bad cells."""
    seen = 0
    for low, high in ((0, 2 * size), (2 * size, 256)):  # rarely more than the first few
        for start, end in zip(starts[low:high].tolist(), ends[low:high].tolist()):
            text = _text(fields, start, end).strip()
            if text in MISSING_WORDS:
                continue
            try:
                float(text)
            except ValueError:
                return False
            seen += 1
            if seen >= size:
                return True
    return True


_MISSING = np.array(sorted(MISSING_WORDS), dtype="S16")


# Bytes a number's text is made of (zero: the padding of a field matrix).
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[np.frombuffer(b"0123456789+-.eE \0", dtype=np.uint8)] = True


def _mostly_number_like(fields: ByteFields, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Whether at least half of the present values are made of a number's characters only: a
    column whose first values are text may still be mostly numbers (a sensor that reported
    errors first), and one that is not is text without reading its values one by one."""
    mat, _ = fields.matrix(starts, ends)
    texts = np.strings.strip(np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel())
    present = ~np.isin(texts, _MISSING)
    number_like = _NUMBER_BYTES[mat].all(axis=1)
    return 2 * int(np.count_nonzero(number_like & present)) >= max(1, int(np.count_nonzero(present)))


def _read_rest(fields: ByteFields, starts, ends, rows, values) -> tuple[int, np.ndarray]:
    """Reads the values the fast path left (numpy's conversion, then float() one by one if
    that fails): (how many are missing-value words, the rows that are no number). Missing
    and unparsed values are NaN."""
    mat, _ = fields.matrix(starts, ends)
    texts = np.strings.strip(np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel())
    missing = np.isin(texts, _MISSING)
    values[rows[missing]] = np.nan
    present = ~missing
    try:
        values[rows[present]] = texts[present].astype(np.float64)
        return int(missing.sum()), _NONE
    except ValueError:
        pass
    unparsed = []
    for row, text in zip(rows[present].tolist(), texts[present].tolist()):
        try:
            values[row] = float(text)
        except ValueError:
            values[row] = np.nan
            unparsed.append(row)
    return int(missing.sum()), np.array(unparsed, dtype=np.int64)
