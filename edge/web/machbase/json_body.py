"""JSON text of Machbase result sets, built with numpy instead of one value at a time.

Machbase prints doubles with exactly `scale` decimals (`8001.000`), which `json.dumps` cannot
do, and result sets can hold millions of rows. So each column becomes text for every row at
once, in one of two forms:

  - a fixed-width bytes array (numpy 'S', shorter values padded with NULs, which JSON text
    never holds): times, numbers, and text of short values. Rows of such columns are joined
    as the fields of one structured array (a record per row), whose padding is then dropped
    in one pass: a handful of C loops, whatever the row count (a few rows are joined in
    Python, cheaper than numpy's set-up there);
  - `Ragged` text (one byte buffer, each row's start and length), for text with long values,
    where padding every row to the longest would cost too much. A result with such a column
    is gathered into one output buffer at offsets computed with cumsum.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Sequence

import numpy as np

# Rows joined per pass: bounds the arrays of one pass to a few tens of MB.
CHUNK_ROWS = 65536
# Up to this many values, doubles print through printf one by one, and up to this many rows
# are joined one by one (numpy's per-call cost is more than Python's per-value cost there).
FEW_ROWS = 32
# Text values longer than this (as JSON) are kept as Ragged text, not padded; and so is a
# column whose padding would more than double it, once it is over PADDED_BYTES.
MAX_PADDED_TEXT = 256
PADDED_BYTES = 1 << 20
# Bytes of text one pass of join_rows builds at most (fewer rows per pass for wide rows).
PASS_BYTES = 16 << 20
_POW10 = 10 ** np.arange(20, dtype=np.uint64)
# Numbers below 10**TABLE_DIGITS print by looking their text up (a 40 KB table).
TABLE_DIGITS = 4
# Scaled magnitudes from here on print through printf: below it a double's product with
# 10**scale is off by less than half a unit, which `_rounded_units` corrects exactly.
_EXACT_LIMIT = 2.0 ** 52


class Ragged:
    """Text of one piece of every row: row i is `lengths[i]` bytes of `data` from `starts[i]`.

    Without `starts`, rows lie one after the other in `data`. With them rows may share bytes:
    a tag name repeated on every row, or a constant, is in `data` once.
    """

    __slots__ = ("data", "lengths", "_starts")

    def __init__(self, data: np.ndarray, lengths: np.ndarray, starts: np.ndarray | None = None):
        self.data = data
        self.lengths = lengths.astype(np.int64, copy=False)
        self._starts = starts

    def __len__(self) -> int:
        return self.lengths.size

    def starts(self) -> np.ndarray:
        if self._starts is None:
            self._starts = np.cumsum(self.lengths) - self.lengths
        return self._starts

    def take(self, rows: np.ndarray) -> "Ragged":
        """The text of `rows` (indices, in order); the bytes are not copied."""
        return Ragged(self.data, self.lengths[rows], self.starts()[rows])


def _gather_index(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices of bytes start[i] .. start[i]+length[i]-1 for every i, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    # int32 halves the memory traffic, which is most of the cost, whenever it can hold them.
    kind = np.int32 if max(total, int(starts.max(initial=0)) + total) < 2**31 else np.int64
    row_starts_out = np.cumsum(lengths) - lengths
    index = np.repeat((starts - row_starts_out).astype(kind), lengths)
    index += np.arange(total, dtype=kind)
    return index


def _bytes(text: bytes) -> np.ndarray:
    return np.frombuffer(text, dtype=np.uint8)


def fixed_width(texts: np.ndarray, quote: bool = False) -> np.ndarray:
    """A fixed-width bytes array ('S', e.g. formatted times), optionally in double quotes."""
    return np.strings.add(np.strings.add(b'"', texts), b'"') if quote else texts


def with_nulls(texts: np.ndarray, null: np.ndarray | None) -> np.ndarray:
    """`texts` with `null` in the rows where `null` is true."""
    if null is None or not null.any():
        return texts
    return np.where(null, b"null", texts)


def strings(values: Sequence) -> np.ndarray | Ragged:
    """JSON strings (None -> null); each distinct value is encoded once."""
    values = np.asarray(values, dtype=object)
    if values.size == 0:
        return np.zeros(0, dtype="S1")
    is_null = np.equal(values, None)
    if not is_null.any():
        is_null = None
    keys = values if is_null is None else np.where(is_null, "", values)
    distinct, inverse = np.unique(keys.astype(str), return_inverse=True)
    texts: list = distinct.tolist()
    if is_null is not None:
        texts.append(None)
        inverse = np.where(is_null, len(texts) - 1, inverse)
    return coded_strings(texts, inverse.reshape(-1))


def coded_strings(distinct: Sequence[str | None], codes: np.ndarray) -> np.ndarray | Ragged:
    """JSON strings of `distinct[code]` for each code (None -> null), each encoded once.

    Fixed-width when padding costs little: values up to MAX_PADDED_TEXT long and the padded
    rows at most PADDED_BYTES or twice the text itself; else Ragged."""
    encoded = [b"null" if v is None else json.dumps(v, ensure_ascii=False).encode("utf-8") for v in distinct]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int64)
    width = int(lengths.max(initial=1))
    if width <= MAX_PADDED_TEXT and (width * codes.size <= PADDED_BYTES
                                     or width * codes.size <= 2 * int(lengths[codes].sum())):
        return np.array(encoded, dtype=f"S{width}").take(codes)
    return Ragged(_bytes(b"".join(encoded)), lengths).take(codes)


def integers(values: np.ndarray, null: np.ndarray | None = None) -> list[np.ndarray]:
    """Text of int64 values, null where `null` is true."""
    values = np.asarray(values, dtype=np.int64)
    magnitude = np.abs(values).astype(np.uint64)  # -2**63 wraps to 2**63, as it should
    text = np.strings.add(np.where(values < 0, b"-", b""), _digits(magnitude))
    return [with_nulls(text, null)]


def decimals(values: np.ndarray, scale: int) -> list[np.ndarray]:
    """Text of doubles with exactly `scale` decimals, digit for digit as printf's "%.*f";
    NaN and infinities print null."""
    values = np.asarray(values, dtype=np.float64)
    if values.size <= FEW_ROWS:  # printf itself, cheaper than the vector set-up for a few values
        # (+ 0.0: negative zero prints as zero, as the vector path prints it)
        return [np.array([b"%.*f" % (scale, v + 0.0) if math.isfinite(v) else b"null" for v in values.tolist()],
                         dtype="S")]
    null = ~np.isfinite(values)
    any_null = bool(null.any())
    magnitude = np.abs(np.where(null, 0.0, values) if any_null else values)
    units = _rounded_units(magnitude, scale)  # 0 where null
    largest = units.max()
    any_huge = not largest < _EXACT_LIMIT
    huge = ~null & ~(units < _EXACT_LIMIT) if any_huge else None
    units = (np.where(null | huge, 0, units) if any_huge else units).astype(np.uint64)
    whole = units // _POW10[scale]
    negative = values < 0
    # Sign, digits and fraction as pieces of the row (a positive value's sign is a NUL, which
    # join_rows drops): no string concatenation per value.
    pieces = [np.where(negative, b"-", b"")] if negative.any() else []
    pieces.append(_digits(whole, None if any_huge else int(largest) // 10 ** scale))
    if scale:
        pieces.append(_fraction(units % _POW10[scale], scale))
    if not (any_null or any_huge):
        return pieces
    text = functools.reduce(np.strings.add, pieces)
    text = with_nulls(text, null)
    if any_huge:
        text = _printf(text, values, scale, huge)
    return [text]


def _rounded_units(magnitude: np.ndarray, scale: int) -> np.ndarray:
    """magnitude * 10**scale rounded to the nearest integer (ties to even) from the exact
    product, as printf rounds: the product is carried as a double-double (Dekker's
    two-product), so the rounding of the double product itself cannot flip a digit."""
    factor = 10.0 ** scale  # exact for scale <= 22
    with np.errstate(invalid="ignore", over="ignore"):
        product = magnitude * factor
        nearest = np.rint(product)  # ties to even, as printf; right unless it was a tie
        halfway = np.abs(product - nearest) == 0.5
    # At a tie of the double product the exact product may lie beyond it: `error` decides.
    if halfway.any():
        with np.errstate(invalid="ignore", over="ignore"):
            a_hi, a_lo = _split(magnitude)
            b_hi, b_lo = _split(np.float64(factor))
            error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
        toward = np.sign(product - nearest)
        beyond = halfway & (error * toward > 0)
        nearest = np.where(beyond, nearest + toward, nearest)
    return nearest


def _split(a):
    c = 134217729.0 * a  # 2**27 + 1: Veltkamp's split into two 26-bit halves
    high = c - (c - a)
    return high, a - high


@functools.cache
def _number_texts(width: int, padded: bool) -> np.ndarray:
    """The text of every number below 10**width, zero-padded to `width` digits or not."""
    numbers = np.arange(10 ** width)
    digits = np.stack([48 + numbers // 10 ** (width - 1 - k) % 10 for k in range(width)], axis=1).astype(np.uint8)
    if not padded:  # shift each number's digits to the left, NULs after them
        count = np.searchsorted(_POW10[1:width], numbers, side="right") + 1
        shift = (width - count)[:, None] + np.arange(width)
        digits = np.where(shift < width, np.take_along_axis(digits, np.minimum(shift, width - 1), axis=1), 0)
        digits = digits.astype(np.uint8)
    return digits.reshape(-1).view(f"S{width}")


@functools.cache
def _fraction_texts(scale: int) -> np.ndarray:
    """"." and the `scale` zero-padded digits of every number below 10**scale."""
    return np.strings.add(b".", _number_texts(scale, padded=True))


def _digits(magnitude: np.ndarray, largest: int | None = None) -> np.ndarray:
    """Decimal digits of unsigned values, left-aligned in a fixed-width bytes array
    (`largest`: their maximum, when the caller knows it)."""
    n = magnitude.size
    if n == 0:
        return np.zeros(0, dtype="S1")
    if (int(magnitude.max()) if largest is None else largest) < 10 ** TABLE_DIGITS:  # one look-up each
        return _number_texts(TABLE_DIGITS, padded=False).take(magnitude)
    count = np.searchsorted(_POW10[1:], magnitude, side="right") + 1
    width = int(count.max())
    exponent = count[:, None] - 1 - np.arange(width)
    digit = magnitude[:, None] // _POW10[np.maximum(exponent, 0)] % np.uint64(10)
    matrix = np.where(exponent >= 0, digit + np.uint64(48), 0).astype(np.uint8)
    return matrix.reshape(-1).view(f"S{width}")


def _fraction(fraction: np.ndarray, scale: int) -> np.ndarray:
    """"." and `scale` zero-padded digits of each value, a fixed-width bytes array."""
    if scale <= TABLE_DIGITS:
        return _fraction_texts(scale).take(fraction)
    matrix = np.empty((fraction.size, scale + 1), dtype=np.uint8)
    matrix[:, 0] = ord(".")
    matrix[:, 1:] = fraction[:, None] // _POW10[scale - 1::-1][:scale] % np.uint64(10) + np.uint64(48)
    return matrix.reshape(-1).view(f"S{scale + 1}")


def _printf(text: np.ndarray, values: np.ndarray, scale: int, present: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(present)
    printed = [b"%.*f" % (scale, v) for v in values[rows].tolist()]
    text = text.astype(f"S{max(text.dtype.itemsize, max(map(len, printed)))}")
    text[rows] = printed
    return text


def join_rows(pieces: list, rows: int, separator: bytes = b",", prefix: bytes = b"",
              suffix: bytes = b"") -> bytes:
    """`prefix`, every row's pieces concatenated with rows separated by `separator`, `suffix`.

    A piece is literal bytes (the same in every row), a fixed-width bytes array or `Ragged`
    text, one value per row. The answer is built once, by one join.
    """
    for piece in pieces:
        if not isinstance(piece, bytes) and len(piece) != rows:
            raise ValueError(f"a column has {len(piece)} rows, expected {rows}")
    if rows == 0:
        return prefix + suffix
    if any(isinstance(p, Ragged) for p in pieces):
        pieces = [p if isinstance(p, (bytes, Ragged)) else _ragged(p) for p in pieces]
        return _gathered(pieces, rows, separator, prefix, suffix)
    pieces = _merge_literals(pieces)
    if all(isinstance(p, bytes) for p in pieces):  # the same text on every row
        return b"".join((prefix, separator.join([b"".join(pieces)] * rows), suffix))
    if rows <= FEW_ROWS:  # row by row: cheaper than the vector set-up for a few rows
        # (a bytes array's values come out of tolist without their NUL padding)
        columns = [itertools.repeat(p, rows) if isinstance(p, bytes) else p.tolist() for p in pieces]
        return b"".join((prefix, separator.join([b"".join(row) for row in zip(*columns)]), suffix))
    width = sum(len(p) if isinstance(p, bytes) else p.dtype.itemsize for p in pieces) + len(separator)
    per_pass = max(1, min(CHUNK_ROWS, PASS_BYTES // width))
    parts = [prefix]
    for first in range(0, rows, per_pass):
        stop = min(rows, first + per_pass)
        parts.append(_padded_rows(pieces, first, stop, width, separator))
    parts[-1] = parts[-1][:-len(separator)] if separator else parts[-1]
    parts.append(suffix)
    return b"".join(parts)


def _padded_rows(pieces: list, first: int, stop: int, width: int, separator: bytes) -> bytes:
    """Rows first..stop-1, each followed by `separator`, without their padding.

    Every piece is fixed-width, so a row is one record of a structured array: the literals
    come from a template row repeated (one copy), each column is a field copied in with one
    assignment. The NUL padding (which JSON text never holds) is then dropped at once.
    """
    template = bytearray()
    columns, fields = [], []
    for piece in [*pieces, separator]:
        if isinstance(piece, bytes):
            template += piece
        else:
            fields.append((len(template), piece.dtype.itemsize))
            columns.append(piece[first:stop])
            template += bytes(piece.dtype.itemsize)
    records = np.frombuffer(bytearray(bytes(template) * (stop - first)), dtype=_record_type(tuple(fields), width))
    for k, column in enumerate(columns):
        records[f"f{k}"] = column
    flat = records.view(np.uint8)
    padding = flat.size - np.count_nonzero(flat)
    if padding == 0:
        return flat.tobytes()
    if padding * 12 < flat.size:  # sparse: bytes.replace skips from NUL to NUL with memchr
        return flat.tobytes().replace(b"\0", b"")
    return flat[flat != 0].tobytes()


@functools.lru_cache(maxsize=256)
def _record_type(fields: tuple[tuple[int, int], ...], width: int) -> np.dtype:
    """A row of `width` bytes with a bytes field f0, f1 ... at each (offset, size)."""
    return np.dtype({"names": [f"f{k}" for k in range(len(fields))], "formats": [f"S{size}" for _, size in fields],
                     "offsets": [offset for offset, _ in fields], "itemsize": width})


def _merge_literals(pieces: list) -> list:
    merged: list = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _ragged(texts: np.ndarray) -> Ragged:
    """A fixed-width bytes array as Ragged text (its padding left out)."""
    width = texts.dtype.itemsize
    return Ragged(texts.view(np.uint8), np.strings.str_len(texts).astype(np.int64),
                  np.arange(texts.size, dtype=np.int64) * width)


def _gathered(pieces: list[bytes | Ragged], rows: int, separator: bytes, prefix: bytes, suffix: bytes) -> bytes:
    """join_rows by gathering: every piece's bytes (each literal once) go into one source
    buffer; each row is a list of (start, length) spans of it, gathered span after span in
    one pass per CHUNK_ROWS rows."""
    pieces = [*pieces, separator]
    literals = b"".join(p for p in pieces if isinstance(p, bytes))
    sources = [_bytes(literals)]
    spans = []  # per piece: (start or starts, length or lengths) in the source buffer
    literal_at, data_at = 0, len(literals)
    for piece in pieces:
        if isinstance(piece, bytes):
            spans.append((literal_at, len(piece)))
            literal_at += len(piece)
        else:
            spans.append((piece.starts() + data_at, piece.lengths))
            sources.append(piece.data)
            data_at += piece.data.size
    source = np.concatenate(sources) if len(sources) > 1 else sources[0]
    width = sum(length if isinstance(length, int) else 0 for _, length in spans)
    text_bytes = width * rows + sum(int(length.sum()) for _, length in spans if not isinstance(length, int))
    body_end = len(prefix) + text_bytes - len(separator)
    out = np.empty(body_end + len(suffix), dtype=np.uint8)
    out[:len(prefix)] = _bytes(prefix)
    at = len(prefix)
    for first in range(0, rows, CHUNK_ROWS):
        stop = min(rows, first + CHUNK_ROWS)
        starts = np.empty((stop - first, len(spans)), dtype=np.int64)
        lengths = np.empty((stop - first, len(spans)), dtype=np.int64)
        for k, (start, length) in enumerate(spans):
            starts[:, k] = start if isinstance(start, int) else start[first:stop]
            lengths[:, k] = length if isinstance(length, int) else length[first:stop]
        if stop == rows:
            lengths[-1, -1] = 0  # no separator after the last row
        index = _gather_index(starts.reshape(-1), lengths.reshape(-1))
        out[at:at + index.size] = source[index]
        at += index.size
    out[body_end:] = _bytes(suffix)
    return out.tobytes()
