"""Text fields as byte matrices: the shape numpy parses numbers and timestamps from.

A column of text values becomes a uint8 matrix with one row per value, zero padded, either
left-aligned (for timestamps and for building text arrays) or right-aligned (for decimal
numbers, so every digit's place value depends only on its column). The matrix is cut from
the raw file bytes with one fancy index over a sliding window, without a Python loop.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from edge.pipeline.batch import TEXT


def gather(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, right: bool = False,
           multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(matrix, lengths) of the fields buf[starts[i]:ends[i]].

    The width is the longest field rounded up to `multiple`; shorter fields are padded with
    zero bytes on the right (left-aligned) or on the left (`right=True`).
    """
    lengths = (ends - starts).astype(np.int64)
    longest = int(lengths.max()) if len(lengths) else 0
    width = max(multiple, -(-longest // multiple) * multiple)
    padded = np.concatenate([np.zeros(width, np.uint8), buf, np.zeros(width, np.uint8)])
    windows = sliding_window_view(padded, width)
    columns = np.arange(width, dtype=np.int64)
    if right:
        mat = windows[ends]  # padded index ends + width - width: the `width` bytes before ends
        mat *= columns >= (width - lengths)[:, None]
    else:
        mat = windows[starts + width]
        mat *= columns < lengths[:, None]
    return mat, lengths


def from_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left-aligned matrix, lengths) of a text array's UTF-8 bytes."""
    encoded = np.strings.encode(values.astype(TEXT), "utf-8")
    width = max(1, encoded.dtype.itemsize)
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
