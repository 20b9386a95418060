"""Results of statements, column by column, with their Machbase types; no HTTP here.

A `ResultSet` holds one array per column, the shape the Machbase printer wants:
  - datetime and integer types: int64 arrays, or masked arrays where NULLs are masked,
  - float and double: float64 arrays, NaN for NULL,
  - varchar, text, ipv4, ipv6: sequences of str or None, or `CodedText` (tag names repeat),
  - binary: base64 text (the REST API's form of a BLOB).
Rows from SQLite arrive one by one; `collect` transposes them in batches, keeps the result
under HTTP_MAX_MEM, and looks at the clock between batches.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence

import numpy as np

from edge.sql import errors, types
from edge.sql.types import MachType

NO_ERROR = "No Error"
BATCH_ROWS = 4096
# Bytes a value costs in the JSON text, about, beside its own text (key, quotes, separators).
VALUE_OVERHEAD = 8
NUMBER_BYTES = 24


@dataclasses.dataclass(frozen=True)
class ResultColumn:
    name: str
    type: MachType


@dataclasses.dataclass(frozen=True)
class CodedText:
    """Text values as distinct strings and one code per row."""
    distinct: Sequence[str | None]
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)


@dataclasses.dataclass
class ResultSet:
    columns: list[ResultColumn]
    values: list

    @property
    def rows(self) -> int:
        return len(self.values[0]) if self.values else 0


@dataclasses.dataclass
class Outcome:
    """What a statement did: a result set, or a message (and rows changed, for DML)."""
    message: str = NO_ERROR
    result: ResultSet | None = None
    effect_rows: int | None = None


class SizeBudget:
    """The bytes of JSON a result may take (HTTP_MAX_MEM), spent as rows are gathered."""

    def __init__(self, limit: int):
        self.limit = limit
        self.spent = 0

    def spend(self, amount: int) -> None:
        self.spent += amount
        if self.spent > self.limit:
            raise errors.too_large(self.limit)

    def rows_affordable(self, row_bytes: int) -> int:
        return max(0, (self.limit - self.spent) // max(1, row_bytes))


def collect(cursor, names: list[str], hints: list[MachType | None], budget: SizeBudget,
            check_deadline) -> ResultSet:
    """The rows of an executing apsw cursor as a ResultSet; `hints[i]` is column i's type when
    the select list says (a datetime function, COUNT ...), else None."""
    width = len(names)
    columns: list[list] = [[] for _ in range(width)]
    key_bytes = sum(len(n) + VALUE_OVERHEAD for n in names)
    batch: list[tuple] = []
    for row in cursor:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            _flush(batch, columns, budget, key_bytes)
            batch = []
            check_deadline()
    if batch:
        _flush(batch, columns, budget, key_bytes)
    values = []
    out_columns = []
    for name, hint, column in zip(names, hints, columns):
        kind, array = typed_column(column, hint)
        out_columns.append(ResultColumn(name.upper(), kind))
        values.append(array)
    return ResultSet(out_columns, values)


def _flush(batch: list[tuple], columns: list[list], budget: SizeBudget, key_bytes: int) -> None:
    spent = len(batch) * key_bytes
    for i, values in enumerate(zip(*batch)):
        columns[i].extend(values)
        kinds = set(map(type, values))
        if kinds <= {int, float, type(None)}:
            spent += NUMBER_BYTES * len(values)
        elif kinds <= {str, bytes}:
            spent += sum(map(len, values)) * (2 if bytes in kinds else 1)
        else:
            spent += sum(len(v) if isinstance(v, (str, bytes)) else NUMBER_BYTES for v in values)
    budget.spend(spent)


def typed_column(values: list, hint: MachType | None) -> tuple[MachType, object]:
    """(type, array) of one column's Python values; `hint` is the declared or derived type."""
    kinds = set(map(type, values)) - {type(None)}
    kind = hint or _type_of_values(kinds)
    if kind.name == "datetime":
        array = _integers(values, kinds)
        if array is not None:
            return kind, array
        if kinds <= {int, float}:
            return kind, _integers([None if v is None else int(v) for v in values], {int})
    elif kind.name in types.INTEGER_TYPES:
        array = _integers(values, kinds)
        if array is not None:
            return kind, array
        if kinds <= {int, float}:
            return types.DOUBLE, _decimals(values)
    elif kind.name in types.DECIMAL_TYPES:
        if kinds <= {int, float}:
            return kind, _decimals(values)
    elif kind.name == "binary":
        return kind, [None if v is None else base64.b64encode(_as_bytes(v)).decode("ascii") for v in values]
    elif kinds <= {str}:
        return kind, values
    # Values SQLite let in beside the declared type (text in a number column ...): as text.
    text_kind = kind if kind.name in types.TEXT_TYPES else types.varchar()
    return text_kind, [None if v is None else _as_text(v) for v in values]


def _type_of_values(kinds: set) -> MachType:
    if not kinds or kinds <= {str}:
        return types.varchar()
    if kinds <= {int}:
        return types.LONG
    if kinds <= {int, float}:
        return types.DOUBLE
    if kinds <= {bytes}:
        return types.BINARY
    return types.varchar()


def _integers(values: list, kinds: set):
    if not kinds <= {int}:
        return None
    try:
        if values.count(None) == 0:
            return np.array(values, dtype=np.int64) if values else np.zeros(0, dtype=np.int64)
        mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        data = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=len(values))
    except OverflowError:
        return None
    return np.ma.MaskedArray(data, mask=mask) if mask.any() else data


def _decimals(values: list) -> np.ndarray:
    return np.fromiter((np.nan if v is None else v for v in values), dtype=np.float64, count=len(values))


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _as_text(value) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)
