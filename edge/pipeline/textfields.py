"""Text fields as byte matrices: the shape numpy parses numbers and timestamps from.

A column of text values becomes a uint8 matrix with one row per value, zero padded, either
left-aligned (for timestamps and for building text arrays) or right-aligned (for decimal
numbers, so every digit's place value depends only on its column). The rows are cut from the
raw bytes by one fancy index over a view whose items are `width`-byte windows starting at
every byte (a memcpy per value), and the bytes of neighbouring fields are cleared with one
AND of whole 64-bit words against a table of masks indexed by field length.
"""

from __future__ import annotations

import functools

import numpy as np

from edge.pipeline.batch import TEXT

_TABLE_WIDTH = 256  # wider fields build their masks instead of looking them up

@functools.lru_cache(maxsize=64)
def _masks(width: int, right: bool) -> np.ndarray:
    """Row L: the (width // 8) words keeping the L bytes of a field of length L."""
    keep = np.arange(width)[None, :] < np.arange(width + 1)[:, None]
    if right:
        keep = keep[:, ::-1]
    return np.ascontiguousarray(np.where(keep, np.uint8(0xFF), np.uint8(0))).view(np.uint64)


class ByteFields:
    """The bytes of a chunk, padded once, from which field matrices are cut."""

    def __init__(self, buf: np.ndarray, longest: int):
        self.pad = max(8, -(-longest // 8) * 8)
        self.size = len(buf)
        self.padded = np.zeros(len(buf) + 2 * self.pad, dtype=np.uint8)
        self.padded[self.pad:self.pad + len(buf)] = buf

    def matrix(self, starts: np.ndarray, ends: np.ndarray, right: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(matrix, lengths) of the fields buf[starts[i]:ends[i]].

        The width is the longest field rounded up to a multiple of 8; shorter fields are
        padded with zero bytes on the right (left-aligned) or on the left (`right=True`).
        """
        lengths = (ends - starts).astype(np.int64)
        if right:
            return self.right_aligned(ends, lengths), lengths
        return self._cut(starts + self.pad, lengths, right=False), lengths

    def right_aligned(self, ends: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The matrix of `matrix(..., right=True)` from the fields' ends and lengths."""
        width = self._width(lengths)
        # Item i of the windows is padded[i:i + width]; buf[j] is padded[j + pad].
        return self._cut(ends + (self.pad - width), lengths, right=True)

    def _width(self, lengths: np.ndarray) -> int:
        longest = int(lengths.max()) if len(lengths) else 0
        width = max(8, -(-longest // 8) * 8)
        if width > self.pad:
            raise ValueError(f"field of {longest} bytes is longer than the padding ({self.pad})")
        return width

    def _cut(self, first: np.ndarray, lengths: np.ndarray, right: bool) -> np.ndarray:
        width = self._width(lengths)
        windows = np.ndarray(shape=(len(self.padded) - width + 1,), dtype=f"V{width}", buffer=self.padded,
                             strides=(1,))
        words = windows[first].view(np.uint64).reshape(len(lengths), width // 8)
        if width <= _TABLE_WIDTH:
            words &= _masks(width, right)[lengths]  # clears the neighbours' bytes
        else:
            columns = np.arange(width)[None, :]
            keep = columns >= (width - lengths)[:, None] if right else columns < lengths[:, None]
            words &= np.where(keep, np.uint8(0xFF), np.uint8(0)).view(np.uint64)
        return words.view(np.uint8).reshape(len(lengths), width)


def gather(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, right: bool = False
           ) -> tuple[np.ndarray, np.ndarray]:
    """`ByteFields.matrix` for a one-off column."""
    longest = int((ends - starts).max()) if len(starts) else 0
    return ByteFields(buf, longest).matrix(starts, ends, right)


def from_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left-aligned matrix, lengths) of a text array's UTF-8 bytes."""
    encoded = np.strings.encode(values.astype(TEXT), "utf-8")
    width = max(8, -(-encoded.dtype.itemsize // 8) * 8)
    encoded = encoded.astype(f"S{width}")
    mat = np.frombuffer(encoded.tobytes(), dtype=np.uint8).reshape(len(values), width)
    return mat, np.strings.str_len(encoded).astype(np.int64)


def to_text(mat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A text array (StringDType) of left-aligned UTF-8 rows; invalid bytes become U+FFFD."""
    if not len(lengths):
        return np.array([], dtype=TEXT)
    raw = np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel()
    try:
        return raw.astype(TEXT)
    except UnicodeDecodeError:
        return np.strings.decode(raw, "utf-8", errors="replace").astype(TEXT)
