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

import numpy as np

from edge.pipeline.textfields import ByteFields

_POW10 = 10.0 ** np.arange(19)
_LOW_BYTES = np.uint64(0x0000_00FF_0000_00FF)
_HUNDREDS = np.uint64(100 + (1_000_000 << 32))
_UNITS = np.uint64(1 + (10_000 << 32))
_BYTE_INDEX = np.uint64(0x0001_0203_0405_0607)  # (1 << 8b) * this >> 56 == b
# Row b: the word mask of its first b bytes (the low-order ones, little-endian).
_BYTES_BEFORE = np.array([(1 << (8 * b)) - 1 for b in range(9)], dtype=np.uint64)
_FAST_WIDTH = 24  # longer fields cannot be <= 15 digits plus sign and dot with padding to spare
# Cell texts read as a missing number (pandas' default NA words).
MISSING_WORDS = frozenset({
    b"", b"NA", b"N/A", b"n/a", b"NaN", b"nan", b"-NaN", b"-nan", b"NULL", b"null", b"None", b"none",
    b"#N/A", b"#N/A N/A", b"#NA", b"-1.#IND", b"1.#IND", b"-1.#QNAN", b"1.#QNAN", b"<NA>",
})


def decimals(mat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, ok, has_dot) of right-aligned decimal text; `ok` is False where this cannot read.

    `mat` is M x W uint8 (W a multiple of 8, each row's text ending in the last column); it
    is used up as scratch space. Operations work in place where they can: at these sizes the
    cost is memory traffic, not arithmetic.
    """
    count, width = mat.shape
    words = mat.view(np.uint64)
    is_dot = mat == 46
    dot_words = is_dot.view(np.uint64)
    first = mat.reshape(-1)[np.arange(count) * width + (width - np.clip(lengths, 1, width))]
    negative = first == 45
    signed = negative | (first == 43)
    np.subtract(mat, np.uint8(48), out=mat)
    is_digit = mat < 10
    np.multiply(mat, is_digit, out=mat)  # sign, dot and padding become zero digits
    digit_words = is_digit.view(np.uint64)
    ndigits = np.bitwise_count(digit_words[:, 0]).astype(np.int64)
    ndots = np.bitwise_count(dot_words[:, 0]).astype(np.int64)
    for k in range(1, width // 8):
        ndigits += np.bitwise_count(digit_words[:, k])
        ndots += np.bitwise_count(dot_words[:, k])
    # Counting digits, one dot and a leading sign against the length rules out anything else.
    ok = (ndigits + ndots + signed == lengths) & (ndots <= 1) & (ndigits >= 1) & (ndigits <= 15)

    # Take the dot out: the bytes before it move one place on, over it (a byte shift within
    # and across words), so the digits read as the integer int_part * 10^f + fraction_part.
    has_dot = ndots == 1
    dot_at = np.full(count, -1, dtype=np.int64)  # byte column of the dot
    for k in range(width // 8):
        word = dot_words[:, k]
        byte = ((word * _BYTE_INDEX) >> np.uint64(56)).astype(np.int64)
        np.copyto(dot_at, byte + 8 * k, where=word != 0)
    if has_dot.any():
        carry = None
        for k in range(width // 8):
            before = _BYTES_BEFORE[np.clip(dot_at - 8 * k, 0, 8)]  # this word's bytes left of the dot
            moving = words[:, k] & before
            words[:, k] &= ~before
            words[:, k] |= moving << np.uint64(8)
            if carry is not None:
                words[:, k] |= carry
            carry = moving >> np.uint64(56)

    # SWAR: eight digit bytes (most significant first, little-endian) -> their number.
    pairs = words * np.uint64(10)
    pairs += words >> np.uint64(8)
    high = pairs >> np.uint64(16)
    high &= _LOW_BYTES
    high *= _UNITS
    pairs &= _LOW_BYTES
    pairs *= _HUNDREDS
    pairs += high
    pairs >>= np.uint64(32)
    whole = pairs[:, 0].copy()
    for k in range(1, width // 8):
        whole *= np.uint64(100_000_000)
        whole += pairs[:, k]

    fraction = np.where(has_dot, (width - 1) - dot_at, 0)
    np.minimum(fraction, 18, out=fraction)  # more cannot be `ok` (<= 15 digits); keeps the lookup in range
    values = whole.astype(np.float64)
    values /= _POW10[fraction]
    np.negative(values, out=values, where=negative)
    return values, ok, has_dot


def parse_number_columns(fields: ByteFields, starts: np.ndarray, ends: np.ndarray
                         ) -> list[tuple[np.ndarray, bool] | None]:
    """Per column of the rows x columns field bounds: (values, integral), or None when not numeric.

    A column is numeric when every value is a number or a missing-value word; `integral`:
    every value is present, whole and exact in int64, so the column can be int64 as pandas
    would make it. The fast path reads all numeric-looking columns with one `decimals` call.
    """
    rows, columns = starts.shape
    result: list[tuple[np.ndarray, bool] | None] = [None] * columns
    if not rows:
        return [(np.zeros(0), False) if _sample_is_numeric(fields, starts[:, c], ends[:, c]) else None
                for c in range(columns)]
    # Column after column (transposed), so each column's values come out contiguous.
    lengths = ends.T - starts.T
    longest = lengths.max(axis=1)
    candidates = [c for c in range(columns) if _sample_is_numeric(fields, starts[:, c], ends[:, c])]
    fast = [c for c in candidates if longest[c] <= _FAST_WIDTH]
    if fast:
        pick = slice(fast[0], fast[-1] + 1) if fast[-1] - fast[0] + 1 == len(fast) else fast
        mat = fields.right_aligned(ends.T[pick].ravel(), lengths[pick].ravel())
        values, ok, has_dot = (a.reshape(len(fast), rows) for a in decimals(mat, lengths[pick].ravel()))
        for i, c in enumerate(fast):
            result[c] = _finish_column(fields, starts[:, c], ends[:, c], values[i], ok[i], has_dot[i])
    for c in candidates:
        if c not in fast:
            result[c] = _finish_column(fields, starts[:, c], ends[:, c], np.full(rows, np.nan),
                                       np.zeros(rows, dtype=bool), np.ones(rows, dtype=bool))
    return result


def _finish_column(fields, starts, ends, values, ok, has_dot) -> tuple[np.ndarray, bool] | None:
    if ok.all():
        return values, not has_dot.any()
    todo = np.flatnonzero(~ok)
    if len(todo) and not _read_rest(fields, starts[todo], ends[todo], todo, values):
        return None
    return values, len(todo) == 0 and not has_dot.any()


def _text(fields: ByteFields, start: int, end: int) -> bytes:
    return fields.padded[fields.pad + start:fields.pad + end].tobytes()


def _sample_is_numeric(fields: ByteFields, starts: np.ndarray, ends: np.ndarray, size: int = 4) -> bool:
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


_MISSING = np.array(sorted(MISSING_WORDS), dtype="S16")


def _read_rest(fields: ByteFields, starts, ends, rows, values) -> bool:
    """Reads the values the fast path left (numpy's conversion, then float() one by one if
    that fails); False as soon as one is not a number."""
    mat, _ = fields.matrix(starts, ends)
    texts = np.strings.strip(np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel())
    missing = np.isin(texts, _MISSING)
    values[rows[missing]] = np.nan
    present = ~missing
    try:
        values[rows[present]] = texts[present].astype(np.float64)
        return True
    except ValueError:
        pass
    for row, text in zip(rows[present].tolist(), texts[present].tolist()):
        try:
            values[row] = float(text)
        except ValueError:
            return False
    return True
