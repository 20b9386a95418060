"""Register words and bits to values: data types, byte and word order, scale and offset.

Modbus sends each 16-bit register high byte first. `byte_order` "little" swaps the two bytes
of every register; `word_order` "little" takes a multi-register value's registers least
significant first (the "CDAB" layout of many devices). A value is decoded from its registers
in that order as big-endian bytes; numbers then become `raw * scale + offset` (whole numbers
stay integers while scale is 1 and offset 0). A string is its registers' bytes (byte_order
applies, word_order does not) as Latin-1 text without trailing NULs and blanks. A bool is a
coil or discrete input, or one `bit` of a register (0 = least significant), or, without
`bit`, whether the register is non-zero.

Each read request gets one `RequestDecoder`, built when the plan is made: its values are
decoded with a few numpy operations per data type, not one call per register.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from edge.pipeline.receivers.modbus.plan import BIT_TABLES, ReadRequest, Span

_DTYPES = {"int16": ">i2", "uint16": ">u2", "int32": ">i4", "uint32": ">u4", "float32": ">f4", "float64": ">f8"}


@dataclasses.dataclass(frozen=True)
class Point:
    """One configured value of a stream: where it is and how to read it."""
    stream: int  # index of its stream
    field: str  # its exportname
    span: Span
    data_type: str
    byte_order: str = "big"
    word_order: str = "big"
    scale: float = 1
    offset: float = 0
    bit: int | None = None

    def describe(self) -> str:
        last = self.span.end - 1
        where = f"{self.span.address}" if last == self.span.address else f"{self.span.address}-{last}"
        return f"{self.field} ({self.span.table} {where})"


def decode_words(words: np.ndarray, data_type: str, byte_order: str = "big", word_order: str = "big") -> np.ndarray:
    """Numbers from an N x W matrix of register words (W: the data type's registers), one per row."""
    words = np.asarray(words, dtype=np.uint16)
    if word_order == "little":
        words = words[:, ::-1]
    if byte_order == "little":
        words = words.byteswap()
    raw = np.ascontiguousarray(words, dtype=">u2").tobytes()
    return np.frombuffer(raw, dtype=_DTYPES[data_type]).astype(_DTYPES[data_type].replace(">", "="))


def decode_string(words: np.ndarray, byte_order: str = "big") -> str:
    words = np.asarray(words, dtype=np.uint16)
    if byte_order == "little":
        words = words.byteswap()
    return words.astype(">u2").tobytes().decode("latin-1").rstrip("\x00 ")


def scaled(values: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> list[Any]:
    """raw * scale + offset per value; Python ints where nothing scales, else floats."""
    plain = (scale == 1) & (offset == 0)
    if plain.all() and values.dtype.kind in "iu":
        return values.tolist()
    result = values.astype(np.float64) * scale + offset
    out: list[Any] = result.tolist()
    if values.dtype.kind in "iu":
        whole = values.tolist()
        for at in np.flatnonzero(plain).tolist():
            out[at] = whole[at]
    return out


@dataclasses.dataclass
class _Group:
    points: list[Point]
    index: np.ndarray  # points x registers: offsets into the request's data
    scale: np.ndarray
    offset: np.ndarray
    bits: np.ndarray  # bool in a register: its bit, -1 for "non-zero"


class RequestDecoder:
    """The values of the points one request reads, from that request's data."""

    def __init__(self, request: ReadRequest, points: Sequence[Point]):
        """`points`: those the request reads (see `decoders_for`)."""
        self.request = request
        self.points = list(points)
        groups: dict[tuple[str, str, str], list[Point]] = {}
        self._strings: list[Point] = []
        for point in self.points:
            if point.data_type == "string":
                self._strings.append(point)
            else:
                groups.setdefault((point.data_type, point.byte_order, point.word_order), []).append(point)
        self._groups = {key: self._group(members) for key, members in groups.items()}

    def _group(self, points: list[Point]) -> _Group:
        width = points[0].span.width
        starts = np.array([p.span.address - self.request.address for p in points], dtype=np.int64)
        return _Group(points, starts[:, None] + np.arange(width), np.array([p.scale for p in points], dtype=float),
                      np.array([p.offset for p in points], dtype=float),
                      np.array([-1 if p.bit is None else p.bit for p in points], dtype=np.int64))

    def decode(self, data: Sequence[int] | Sequence[bool]) -> list[tuple[Point, Any]]:
        """(point, value) of every point, from the request's registers or bits."""
        bits_table = self.request.table in BIT_TABLES
        raw = np.asarray(data, dtype=bool if bits_table else np.uint16)[:self.request.count]
        found: list[tuple[Point, Any]] = []
        for (data_type, byte_order, word_order), group in self._groups.items():
            if data_type == "bool":
                found += zip(group.points, _bools(raw[group.index[:, 0]], group.bits, bits_table))
            else:
                values = decode_words(raw[group.index], data_type, byte_order, word_order)
                found += zip(group.points, scaled(values, group.scale, group.offset))
        for point in self._strings:
            start = point.span.address - self.request.address
            found.append((point, decode_string(raw[start:start + point.span.width], point.byte_order)))
        return found


def _bools(raw: np.ndarray, bits: np.ndarray, bits_table: bool) -> list[bool]:
    if bits_table:
        return raw.astype(bool).tolist()
    words = raw.astype(np.int64)
    picked = np.where(bits >= 0, (words >> np.maximum(bits, 0)) & 1, words)
    return (picked != 0).tolist()


def decoders_for(requests: Iterable[ReadRequest], points: Iterable[Point]) -> list[RequestDecoder]:
    """A decoder per request, each with the points whose spans the request reads."""
    by_span: dict[Span, list[Point]] = {}
    for point in points:
        by_span.setdefault(point.span, []).append(point)
    return [RequestDecoder(r, [p for span in r.spans for p in by_span.get(span, ())]) for r in requests]
