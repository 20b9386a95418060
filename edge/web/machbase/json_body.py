"""JSON text of Machbase result sets, built with numpy instead of one value at a time.

Machbase prints doubles with exactly `scale` decimals (`8001.000`), which `json.dumps` cannot
do, and result sets can hold millions of rows. So each column becomes `Ragged` text (one byte
buffer plus each row's length), and rows are assembled by scattering every piece into one
output buffer at offsets computed with cumsum.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

# Rows assembled per pass: bounds the index arrays to a few tens of MB.
CHUNK_ROWS = 65536
_POW10 = 10 ** np.arange(19, dtype=np.int64)
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

    @property
    def rows(self) -> int:
        return self.lengths.size

    def starts(self) -> np.ndarray:
        if self._starts is None:
            self._starts = np.cumsum(self.lengths) - self.lengths
        return self._starts

    def take(self, rows: np.ndarray) -> "Ragged":
        """The text of `rows` (indices, in order); the bytes are not copied."""
        return Ragged(self.data, self.lengths[rows], self.starts()[rows])

    def only(self, keep: np.ndarray) -> "Ragged":
        """The same rows, those not kept emptied."""
        return Ragged(self.data, np.where(keep, self.lengths, 0), self.starts())


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


def constant(text: bytes, present: np.ndarray) -> Ragged:
    """`text` in the rows where `present` is true, nothing elsewhere (its bytes held once)."""
    return Ragged(_bytes(text), present.astype(np.int64) * len(text), np.zeros(present.size, dtype=np.int64))


def fixed_width(texts: np.ndarray, quote: bool = False) -> Ragged:
    """A fixed-width bytes array ('S', e.g. formatted times), optionally in double quotes."""
    n = texts.size
    width = texts.dtype.itemsize
    matrix = np.ascontiguousarray(texts).view(np.uint8).reshape(n, width)
    if quote:
        quoted = np.empty((n, width + 2), dtype=np.uint8)
        quoted[:, 0] = quoted[:, -1] = ord('"')
        quoted[:, 1:-1] = matrix
        matrix, width = quoted, width + 2
    return Ragged(matrix.reshape(-1), np.full(n, width, dtype=np.int64))


def strings(values: Sequence) -> Ragged:
    """JSON strings (None -> null); each distinct value is encoded once."""
    values = np.asarray(values, dtype=object)
    n = values.size
    if n == 0:
        return Ragged(np.zeros(0, np.uint8), np.zeros(0, np.int64))
    is_null = np.equal(values, None)
    if not is_null.any():
        is_null = None
    keys = values if is_null is None else np.where(is_null, "", values)
    distinct, inverse = np.unique(keys.astype(str), return_inverse=True)
    encoded = [json.dumps(v, ensure_ascii=False).encode("utf-8") for v in distinct.tolist()]
    if is_null is not None:
        encoded.append(b"null")
        inverse = np.where(is_null, len(encoded) - 1, inverse)
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    table = Ragged(_bytes(b"".join(encoded)), lengths)
    return table.take(inverse)


def integers(values: np.ndarray, null: np.ndarray | None = None) -> list[Ragged]:
    """Pieces printing int64 values, null where `null` is true."""
    values = np.asarray(values, dtype=np.int64)
    negative = values < 0
    magnitude = np.abs(values).astype(np.uint64)
    null = np.zeros(values.size, bool) if null is None else null
    return [constant(b"-", negative & ~null), _digits(magnitude, ~null), constant(b"null", null)]


def decimals(values: np.ndarray, scale: int) -> list[Ragged]:
    """Pieces printing doubles with exactly `scale` decimals, digit for digit as printf's
    "%.*f"; NaN and infinities print null."""
    values = np.asarray(values, dtype=np.float64)
    null = ~np.isfinite(values)
    magnitude = np.abs(np.where(null, 0.0, values))
    units = _rounded_units(magnitude, scale)
    huge = ~null & ~(units < _EXACT_LIMIT)
    plain = ~null & ~huge
    units = np.where(plain, units, 0).astype(np.uint64)
    whole = units // np.uint64(10 ** scale)
    pieces = [constant(b"-", plain & (values < 0)), _digits(whole, plain)]
    if scale:
        fraction = (units % np.uint64(10 ** scale)).astype(np.int64)
        pieces.append(_fraction(fraction, scale, plain))
    pieces.append(constant(b"null", null))
    if huge.any():
        pieces.append(_printf(values, scale, huge))
    return pieces


def _rounded_units(magnitude: np.ndarray, scale: int) -> np.ndarray:
    """magnitude * 10**scale rounded to the nearest integer (ties to even) from the exact
    product, as printf rounds: the product is carried as a double-double (Dekker's
    two-product), so the rounding of the double product itself cannot flip a digit."""
    factor = 10.0 ** scale  # exact for scale <= 22
    with np.errstate(invalid="ignore", over="ignore"):
        product = magnitude * factor
        a_hi, a_lo = _split(magnitude)
        b_hi, b_lo = _split(np.float64(factor))
        error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
        nearest = np.rint(product)  # ties to even, as printf; right unless it was a tie
        halfway = np.abs(product - nearest) == 0.5
    # At a tie of the double product the exact product may lie beyond it: `error` decides.
    if halfway.any():
        toward = np.sign(product - nearest)
        beyond = halfway & (error * toward > 0)
        nearest = np.where(beyond, nearest + toward, nearest)
    return nearest


def _split(a):
    c = 134217729.0 * a  # 2**27 + 1: Veltkamp's split into two 26-bit halves
    high = c - (c - a)
    return high, a - high


def _digits(magnitude: np.ndarray, present: np.ndarray) -> Ragged:
    """Decimal digits of unsigned values, in the rows where `present`."""
    magnitude = magnitude.astype(np.uint64)
    count = np.searchsorted(_POW10[1:].astype(np.uint64), magnitude, side="right") + 1
    count = np.where(present, count, 0).astype(np.int64)
    total = int(count.sum())
    if total == 0:
        return Ragged(np.zeros(0, np.uint8), count)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    exponent = np.repeat(count, count) - 1 - within
    digit = np.repeat(magnitude, count) // _POW10[exponent].astype(np.uint64) % np.uint64(10)
    return Ragged((digit + np.uint64(48)).astype(np.uint8), count)


def _fraction(fraction: np.ndarray, scale: int, present: np.ndarray) -> Ragged:
    """"." and `scale` zero-padded digits, in the rows where `present`."""
    rows = np.flatnonzero(present)
    matrix = np.empty((rows.size, scale + 1), dtype=np.uint8)
    matrix[:, 0] = ord(".")
    left = fraction[rows]
    for k in range(scale, 0, -1):
        left, digit = np.divmod(left, 10)
        matrix[:, k] = digit + 48
    return Ragged(matrix.reshape(-1), np.where(present, scale + 1, 0))


def _printf(values: np.ndarray, scale: int, present: np.ndarray) -> Ragged:
    rows = np.flatnonzero(present)
    texts = [b"%.*f" % (scale, v) for v in values[rows].tolist()]
    lengths = np.zeros(values.size, dtype=np.int64)
    lengths[rows] = [len(t) for t in texts]
    return Ragged(_bytes(b"".join(texts)), lengths)


def join_rows(pieces: list[bytes | Ragged], rows: int, separator: bytes = b",",
              prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """`prefix`, every row's pieces concatenated with rows separated by `separator`, `suffix`.

    Literal bytes pieces are the same in every row. Every piece's bytes (each literal once)
    go into one source buffer; each row is then a list of (start, length) spans of it, and the
    text is gathered span after span in one pass per CHUNK_ROWS rows: the same few numpy
    operations for a result of four rows as for one of a million.
    """
    for piece in pieces:
        if isinstance(piece, Ragged) and piece.rows != rows:
            raise ValueError(f"a column has {piece.rows} rows, expected {rows}")
    if rows == 0:
        return prefix + suffix
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
