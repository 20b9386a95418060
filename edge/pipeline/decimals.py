"""Decimal text to float64, vectorised over a right-aligned byte matrix.

The common case in plant data, `[+-]digits[.digits]` with at most 15 digits, is computed
exactly with integer arithmetic. Each 64-bit word of a row holds eight bytes; with the
non-digits (sign, dot, padding) zeroed, the well-known SWAR steps turn a word of eight digit
values into the number they spell. The words make the integer F the row's digits form with
the dot read as a zero digit; taking that zero out of F and one division by a power of ten
give the correctly rounded double, the same value `float()` returns.

Anything else (exponents, 'inf', surrounding spaces, more digits) goes through `float()` for
just those values, and missing-value words ('NA', 'null' ...) become NaN.
"""

from __future__ import annotations

import numpy as np

from edge.pipeline.textfields import ByteFields

_POW10_INT = 10 ** np.arange(19, dtype=np.uint64)
_POW10 = 10.0 ** np.arange(19)
_LOW_BYTES = np.uint64(0x0000_00FF_0000_00FF)
_HUNDREDS = np.uint64(100 + (1_000_000 << 32))
_UNITS = np.uint64(1 + (10_000 << 32))
_BYTE_INDEX = np.uint64(0x0001_0203_0405_0607)  # (1 << 8b) * this >> 56 == b
_FAST_WIDTH = 24  # longer fields cannot be <= 15 digits plus sign and dot with padding to spare
# Cell texts read as a missing number (pandas' default NA words).
MISSING_WORDS = frozenset({
    b"", b"NA", b"N/A", b"n/a", b"NaN", b"nan", b"-NaN", b"-nan", b"NULL", b"null", b"None", b"none",
    b"#N/A", b"#N/A N/A", b"#NA", b"-1.#IND", b"1.#IND", b"-1.#QNAN", b"1.#QNAN", b"<NA>",
})


def _count_per_row(mask: np.ndarray) -> np.ndarray:
    words = mask.view(np.uint64)
    counts = np.bitwise_count(words[:, 0]).astype(np.int64)
    for k in range(1, words.shape[1]):
        counts += np.bitwise_count(words[:, k])
    return counts


def decimals(mat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, ok, has_dot) of right-aligned decimal text; `ok` is False where this cannot read.

    `mat` is M x W uint8, W a multiple of 8, each row's text ending in the last column.
    """
    count, width = mat.shape
    digit = mat - np.uint8(48)
    is_digit = digit < 10
    digit *= is_digit
    is_dot = mat == 46
    ndigits = _count_per_row(is_digit)
    ndots = _count_per_row(is_dot)
    first = mat.reshape(-1)[np.arange(count) * width + (width - np.clip(lengths, 1, width))]
    negative = first == 45
    signed = negative | (first == 43)
    # Counting digits, one dot and a leading sign against the length rules out anything else.
    ok = (ndigits + ndots + signed == lengths) & (ndots <= 1) & (ndigits >= 1) & (ndigits <= 15)

    words = digit.view(np.uint64)
    pairs = words * np.uint64(10) + (words >> np.uint64(8))
    eights = ((pairs & _LOW_BYTES) * _HUNDREDS + ((pairs >> np.uint64(16)) & _LOW_BYTES) * _UNITS) >> np.uint64(32)
    whole = eights[:, 0].copy()
    for k in range(1, eights.shape[1]):
        whole *= np.uint64(100_000_000)
        whole += eights[:, k]

    has_dot = ndots == 1
    dot_words = is_dot.view(np.uint64)
    if count and (dot_words == dot_words[0]).all():
        # Every value has its dot in the same column (a fixed number of decimals): scalars.
        fraction = _fraction_digits(dot_words[:1], width)[0]
        if has_dot[0]:
            below = whole % _POW10_INT[fraction]
            whole = (whole - below) // np.uint64(10) + below
        values = whole.astype(np.float64) / _POW10[fraction]
    else:
        fraction = _fraction_digits(dot_words, width)
        below = whole % _POW10_INT[fraction]  # the digits right of the dot
        mantissa = np.where(has_dot, (whole - below) // np.uint64(10) + below, whole)
        values = mantissa.astype(np.float64) / _POW10[fraction]
    np.negative(values, out=values, where=negative)
    return values, ok, has_dot


def _fraction_digits(dot_words: np.ndarray, width: int) -> np.ndarray:
    """Per row, the number of bytes right of the dot (0 without one)."""
    fraction = np.zeros(len(dot_words), dtype=np.int64)
    for k in range(dot_words.shape[1]):
        word = dot_words[:, k]
        byte = ((word * _BYTE_INDEX) >> np.uint64(56)).astype(np.int64)
        fraction = np.where(word != 0, width - 1 - (8 * k + byte), fraction)
    return fraction


def parse_numbers(fields: ByteFields, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """(values, integral) of fields that are all numbers or missing, or None when one is not.

    `integral`: every value is present, whole and exact in int64, so the column can be int64
    as pandas would make it.
    """
    count = len(starts)
    lengths = ends - starts
    if not _sample_is_numeric(fields, starts, ends):
        return None
    if count and int(lengths.max()) <= _FAST_WIDTH:
        mat, _ = fields.matrix(starts, ends, right=True)
        values, ok, has_dot = decimals(mat, lengths)
    else:
        values = np.full(count, np.nan)
        ok = np.zeros(count, dtype=bool)
        has_dot = np.ones(count, dtype=bool)
    todo = np.flatnonzero(~ok)
    if len(todo) and not _read_rest(fields, starts[todo], ends[todo], todo, values):
        return None
    integral = len(todo) == 0 and not has_dot.any()
    return values, integral


def _text(fields: ByteFields, start: int, end: int) -> bytes:
    return fields.padded[fields.pad + start:fields.pad + end].tobytes()


def _sample_is_numeric(fields: ByteFields, starts: np.ndarray, ends: np.ndarray, size: int = 16) -> bool:
    """A cheap look at the first present values, so text columns skip the matrix work."""
    seen = 0
    for start, end in zip(starts[:256].tolist(), ends[:256].tolist()):
        text = _text(fields, start, end).strip()
        if text in MISSING_WORDS:
            continue
        try:
            float(text)
        except ValueError:
            return False
        seen += 1
        if seen >= size:
            break
    return True


def _read_rest(fields: ByteFields, starts, ends, rows, values) -> bool:
    """Reads the values the fast path left; False as soon as one is not a number."""
    for row, start, end in zip(rows.tolist(), starts.tolist(), ends.tolist()):
        text = _text(fields, start, end).strip()
        if text in MISSING_WORDS:
            values[row] = np.nan
            continue
        try:
            values[row] = float(text)
        except ValueError:
            return False
    return True
