"""Byte ranges of a body read eight bytes at a time, for all ranges at once (numpy).

A range [start, stop) of up to 8 bytes is one unsigned 64-bit load ending at `stop`
(little-endian: the range's last byte is the word's top byte); longer ranges take a word
per 8 bytes, counted from the end. Bytes before the range's start are masked: to zero to
tell texts apart (a body holds no zero byte), to "0" to read digits. Digits become numbers
by the usual SWAR steps (pairs, then fours, then eights, each one multiply), exact in
integers; up to 19 digits fit in 64 bits.

Every function takes the body after at least PAD zero bytes (`padded`), ranges indexing
the body itself.
"""

from __future__ import annotations

import numpy as np

LONGEST = 512  # bytes of the longest range read
PAD = LONGEST + 8  # zero bytes needed before the body: the longest read starts that far before a stop
NOWHERE = -(2**40)  # a position no word covers
_ONES = np.uint64(0x0101010101010101)
_ZEROS = np.uint64(0x3030303030303030)  # "00000000"
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_POINT_TO_ZERO = np.uint64(ord("0") - ord("."))
# Per count of valid bytes (0-8) in a word: the mask of the bytes below them.
_BELOW = np.array([(1 << 8 * (8 - v)) - 1 for v in range(9)], dtype=np.uint64)
TENS = np.array([10 ** k for k in range(20)], dtype=np.uint64)


def loads(padded: np.ndarray) -> np.ndarray:
    """The 8-byte little-endian word starting at each byte of `padded` (a view, no copy)."""
    return np.ndarray(shape=(len(padded) - 7,), dtype=np.uint64, buffer=padded, strides=(1,))


def texts(words: np.ndarray, starts: np.ndarray, stops: np.ndarray, count: int) -> np.ndarray:
    """(ranges x count) words holding each range's bytes, zeros before it; ranges of at most
    8 * count <= LONGEST bytes. `words` is `loads(padded)`."""
    out = np.empty((len(starts), count), np.uint64)
    lengths = stops - starts
    for k in range(count):
        valid = np.minimum(np.maximum(lengths - 8 * k, 0), 8)  # np.clip costs more on small arrays
        out[:, k] = words[stops + (PAD - 8 * (k + 1))] & ~_BELOW[valid]
    return out


def digits(words: np.ndarray, starts: np.ndarray, stops: np.ndarray,
           zero_at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(number, ok) of each range read as decimal digits: ok where the range is 0 to 19
    digits and nothing else (an empty range is 0). `zero_at`: per range, a position whose
    byte, a decimal point, is read as a 0 digit (NOWHERE: none)."""
    lengths = stops - starts
    ok = lengths <= 19
    number = np.zeros(len(starts), np.uint64)
    for k in range(min(3, -(-int(lengths.max(initial=0)) // 8))):
        valid = np.minimum(np.maximum(lengths - 8 * k, 0), 8)  # np.clip costs more on small arrays
        below = _BELOW[valid]
        word = (words[stops + (PAD - 8 * (k + 1))] & ~below) | (_ZEROS & below)
        if zero_at is not None:
            byte = zero_at - (stops - 8 * (k + 1))
            here = (byte >= 0) & (byte < 8)
            word += np.where(here, _POINT_TO_ZERO << (8 * np.where(here, byte, 0)).astype(np.uint64), 0)
        ok &= ((word & _HIGH_NIBBLES) == _ZEROS) & (((word + 6 * _ONES) & _HIGH_NIBBLES) == _ZEROS)
        number += _eight_digits(word) * TENS[8 * k]
    return number, ok


def _eight_digits(word: np.ndarray) -> np.ndarray:
    """The number eight ASCII digits spell (the first in the lowest byte)."""
    word = ((word & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    word = ((word & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    return ((word & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)
