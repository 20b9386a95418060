"""Decimal text to float64, vectorised over a right-aligned byte matrix.

The common case in plant data, `[+-]digits[.digits]` with at most 15 digits, is computed
exactly with integer arithmetic: digits are combined pairwise (two, four, eight at a time)
into the integer F they form with the dot read as a zero, the dot is taken out of F with an
exact fmod, and one division by a power of ten gives the correctly rounded double, the same
value `float()` returns. Anything else (exponents, 'inf', surrounding spaces, more digits)
goes through numpy's own string conversion for just those values, and missing-value words
('NA', 'null' ...) become NaN.
"""

from __future__ import annotations

import numpy as np

from edge.pipeline.textfields import gather

_POW10 = 10.0 ** np.arange(23)
# Cell texts read as a missing number (pandas' default NA words).
MISSING_WORDS = frozenset({
    b"", b"NA", b"N/A", b"n/a", b"NaN", b"nan", b"-NaN", b"-nan", b"NULL", b"null", b"None", b"none",
    b"#N/A", b"#N/A N/A", b"#NA", b"-1.#IND", b"1.#IND", b"-1.#QNAN", b"1.#QNAN", b"<NA>",
})


def _popcount_rows(mask: np.ndarray) -> np.ndarray:
    words = mask.view(np.uint64)
    counts = np.bitwise_count(words[:, 0]).astype(np.int64)
    for k in range(1, words.shape[1]):
        counts += np.bitwise_count(words[:, k])
    return counts


def decimals(mat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, ok, has_dot) of right-aligned decimal text; `ok` False where the fast path cannot read.

    `mat` is M x W uint8 with W a multiple of 8, each row's text ending at the last column.
    """
    count, width = mat.shape
    digit = mat - np.uint8(48)
    is_digit = digit < 10
    is_dot = mat == 46
    is_sign = (mat == 45) | (mat == 43)
    ndigits = _popcount_rows(is_digit)
    ndots = _popcount_rows(is_dot)
    nsigns = _popcount_rows(is_sign)
    first = mat[np.arange(count), width - np.clip(lengths, 1, width)]
    negative = first == 45
    ok = (ndigits + ndots + nsigns == lengths) & (ndots <= 1) & (ndigits >= 1) & (ndigits <= 15)
    ok &= (nsigns == 0) | ((nsigns == 1) & (negative | (first == 43)))

    digit *= is_digit
    pairs = digit[:, 0::2].astype(np.uint16) * np.uint16(10)
    pairs += digit[:, 1::2]
    quads = pairs[:, 0::2].astype(np.uint32) * np.uint32(100)
    quads += pairs[:, 1::2]
    octs = quads[:, 0::2].astype(np.uint64) * np.uint64(10_000)
    octs += quads[:, 1::2]
    whole = octs[:, 0].astype(np.float64)
    for k in range(1, octs.shape[1]):
        whole = whole * 1e8 + octs[:, k]

    has_dot = ndots == 1
    dot_words = is_dot.view(np.uint64)
    dot_at = np.full(count, width - 1, dtype=np.int64)
    for k in range(dot_words.shape[1]):
        word = dot_words[:, k]
        found = word != 0
        # The dot's byte is the only set bit: its index is log2 / 8 (little-endian words).
        byte = (np.log2(np.maximum(word, 1).astype(np.float64)) / 8).astype(np.int64)
        dot_at = np.where(found, k * 8 + byte, dot_at)
    scale = _POW10[width - 1 - dot_at]
    below = np.fmod(whole, scale * 10)  # the digits right of the dot, exactly
    values = np.where(has_dot, (below + (whole - below) / 10) / scale, whole)
    np.negative(values, out=values, where=negative)
    return values, ok, has_dot


def parse_numbers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray
                  ) -> tuple[np.ndarray, bool] | None:
    """(values, integral) of fields that are all numbers or missing, or None when one is not.

    `integral`: every value is present and whole and fits int64 exactly, so the column can
    be int64 like pandas would make it.
    """
    count = len(starts)
    lengths = ends - starts
    if not _sample_is_numeric(buf, starts, ends):
        return None
    if count and int(lengths.max()) > 24:
        values = np.full(count, np.nan)
        ok = np.zeros(count, dtype=bool)
        has_dot = np.ones(count, dtype=bool)
    else:
        mat, _ = gather(buf, starts, ends, right=True, multiple=8)
        values, ok, has_dot = decimals(mat, lengths)
    todo = np.flatnonzero(~ok)
    missing = np.zeros(count, dtype=bool)
    if len(todo):
        if not _read_rest(buf, starts[todo], ends[todo], todo, values, missing):
            return None
    integral = (not missing.any() and not has_dot[~missing].any() and not np.isnan(values).any()
                and bool((np.abs(values) < 2.0 ** 53).all()) and len(todo) == 0)
    return values, integral


def _sample_is_numeric(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, size: int = 16) -> bool:
    """A cheap look at the first present values, so text columns skip the matrix work."""
    seen = 0
    for start, end in zip(starts[:256].tolist(), ends[:256].tolist()):
        text = buf[start:end].tobytes()
        if text.strip() in MISSING_WORDS:
            continue
        try:
            float(text)
        except ValueError:
            return False
        seen += 1
        if seen >= size:
            break
    return True


def _read_rest(buf, starts, ends, rows, values, missing) -> bool:
    """Reads the values the fast path left; False as soon as one is not a number."""
    texts = [buf[s:e].tobytes() for s, e in zip(starts.tolist(), ends.tolist())]
    for row, text in zip(rows.tolist(), texts):
        stripped = text.strip()
        if stripped in MISSING_WORDS:
            values[row] = np.nan
            missing[row] = True
            continue
        try:
            values[row] = float(stripped)
        except ValueError:
            return False
    return True
