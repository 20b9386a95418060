"""Text fields as byte matrices: the shape numpy parses numbers and timestamps from.

A column of text values becomes a uint8 matrix with one row per value, zero padded, either
left-aligned (for timestamps and for building text arrays) or right-aligned (for decimal
numbers, so every digit's place value depends only on its column). A row of `width` bytes
starting anywhere spans width / 8 + 1 aligned 64-bit words of the raw bytes: those are taken
with one gather over a view whose item i is words i .. i + width / 8 (aligned items gather
several times faster than unaligned `width`-byte windows), then shifted into place; the
bytes of neighbouring fields are shifted out of each word.
"""

from __future__ import annotations

import numpy as np

# Text arrays hold numpy's variable-width strings (the pipeline's text field kind).
TEXT = np.dtypes.StringDType()


class ByteFields:
    """The bytes of a chunk, padded once, from which field matrices are cut."""

    def __init__(self, buf: np.ndarray, longest: int):
        self.pad = max(8, -(-longest // 8) * 8)
        self.size = len(buf)
        # A whole number of words, with one to spare after the last window a row may read.
        self.padded = np.zeros(-(-(len(buf) + 2 * self.pad) // 8) * 8 + 8, dtype=np.uint8)
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
        count = width // 8
        rows = len(lengths)
        spans = np.ndarray(shape=(len(self.padded) // 8 - count,), dtype=f"V{8 * (count + 1)}", buffer=self.padded,
                           strides=(8,))
        taken = spans[first >> 3].view(np.uint64).reshape(rows, count + 1)
        shift = ((first & 7) << 3).astype(np.uint64)[:, None]
        words = taken[:, :count] >> shift
        # numpy shifts by 64 to 0: an aligned row takes nothing from the word after it.
        words |= taken[:, 1:] << (np.uint64(64) - shift)
        # Clear the neighbours' bytes: per word, the bytes outside the field are shifted out
        # and back (little-endian: the first bytes of a word are its low ones).
        lengths = lengths.astype(np.int16)
        for k in range(count):
            column = words[:, k]
            if right:  # the field is the last `length` bytes of the row
                bits = (np.clip(width - 8 * k - lengths, 0, 8) << 3).astype(np.uint64)
                column >>= bits
                column <<= bits
            else:
                bits = ((8 - np.clip(lengths - 8 * k, 0, 8)) << 3).astype(np.uint64)
                column <<= bits
                column >>= bits
        return words.view(np.uint8).reshape(rows, width)


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
