"""Read planning: the configured registers of every stream as few Modbus requests as the protocol allows.

A request reads one table of one unit from one address on: at most 125 registers (holding,
input) or 2000 bits (coil, discrete), the limits of function codes 1-4. Points of one unit and
table are sorted by address and merged into one request while the request stays within its
limit and the next point starts at most `max_gap` addresses after the request's end; the
addresses in such a gap are read and thrown away, which costs a few bytes on the wire instead
of a round trip. A device that refuses an address in a gap (exception 2, illegal data address)
gets that request split at its gaps (`split_at_gaps`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

REGISTER_TABLES = ("holding", "input")
BIT_TABLES = ("coil", "discrete")
TABLES = REGISTER_TABLES + BIT_TABLES
MAX_REGISTERS = 125  # per read of holding / input registers (function codes 3, 4)
MAX_BITS = 2000  # per read of coils / discrete inputs (function codes 1, 2)
DEFAULT_MAX_GAP = 8  # unconfigured addresses read through between two configured ones
LAST_ADDRESS = 65535

# Registers each data type takes; a string takes its `count`.
WIDTHS = {"int16": 1, "uint16": 1, "bool": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4}
DATA_TYPES = ("int16", "uint16", "int32", "uint32", "float32", "float64", "bool", "string")


def width_of(data_type: str, count: int | None) -> int:
    """Addresses a value of `data_type` takes (a string: `count` registers, default 1)."""
    return int(count or 1) if data_type == "string" else WIDTHS[data_type]


def default_data_type(table: str) -> str:
    return "bool" if table in BIT_TABLES else "uint16"


def read_limit(table: str) -> int:
    return MAX_BITS if table in BIT_TABLES else MAX_REGISTERS


@dataclasses.dataclass(frozen=True)
class Span:
    """Addresses one configured value takes: [address, address + width) of one unit's table."""
    unit: int
    table: str
    address: int
    width: int

    @property
    def end(self) -> int:
        return self.address + self.width


@dataclasses.dataclass(frozen=True)
class ReadRequest:
    unit: int
    table: str
    address: int
    count: int
    spans: tuple[Span, ...]  # the configured values it reads, by address

    @property
    def end(self) -> int:
        return self.address + self.count

    @property
    def has_gaps(self) -> bool:
        """Whether it reads addresses no configured value takes."""
        covered = self.address
        for span in self.spans:
            if span.address > covered:
                return True
            covered = max(covered, span.end)
        return covered < self.end

    def describe(self) -> str:
        last = self.end - 1
        where = f"{self.address}" if last == self.address else f"{self.address}-{last}"
        return f"unit {self.unit} {self.table} {where}"


def plan_reads(spans: Iterable[Span], max_gap: int = DEFAULT_MAX_GAP) -> list[ReadRequest]:
    """The requests that read every span, in (unit, table, address) order; see the module docstring."""
    requests: list[ReadRequest] = []
    current: list[Span] = []
    start = end = 0
    for span in sorted(set(spans), key=lambda s: (s.unit, s.table, s.address, s.width)):
        if current and span.unit == current[0].unit and span.table == current[0].table \
                and span.address - end <= max_gap and max(end, span.end) - start <= read_limit(span.table):
            current.append(span)
            end = max(end, span.end)
            continue
        if current:
            requests.append(ReadRequest(current[0].unit, current[0].table, start, end - start, tuple(current)))
        current, start, end = [span], span.address, span.end
    if current:
        requests.append(ReadRequest(current[0].unit, current[0].table, start, end - start, tuple(current)))
    return requests


def split_at_gaps(request: ReadRequest) -> list[ReadRequest]:
    """The request as requests that read only configured addresses."""
    return plan_reads(request.spans, max_gap=0)


def naive_reads(spans: Sequence[Span]) -> list[ReadRequest]:
    """One request per configured value, as a loop without planning would read (the bench's baseline)."""
    return [ReadRequest(s.unit, s.table, s.address, s.width, (s,)) for s in spans]
