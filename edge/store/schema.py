"""Tag table definitions: column specs, the types a column may have and how each is stored.

A tag table has one `name` column (the tag, primary key), one `time` column (basetime, int64
nanoseconds UTC), one `value` column (double, summarized: rollups and stats are kept on it),
any number of `extra` columns stored per point beside them, and `metadata` columns stored once
per tag in the catalog. Names are case-insensitive and kept upper-case.

Nulls in extra columns are sentinels inside the column file, so a column stays one flat,
memory-mappable array: NaN for float/double, the type's minimum for short/integer/long/datetime,
-1 for ipv4, and a leading 0x00 byte for varchar (a present value is stored as 0x01 + UTF-8).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Sequence

import numpy as np

from edge.store import errors

ROLES = ("name", "time", "value", "extra", "metadata")
TYPES = ("short", "integer", "long", "float", "double", "varchar", "datetime", "ipv4")
NUMERIC_TYPES = ("short", "integer", "long", "float", "double")
DEFAULT_LENGTH = {"short": 2, "integer": 4, "long": 8, "float": 4, "double": 8, "varchar": 0,
                  "datetime": 8, "ipv4": 4}
MAX_VARCHAR = 32767
IDENTIFIER = re.compile(r"^[A-Z_][A-Z0-9_$]{0,126}$")

_INT_DTYPES = {"short": np.int16, "integer": np.int32, "long": np.int64, "datetime": np.int64}
_FLOAT_DTYPES = {"float": np.float32, "double": np.float64}
IPV4_NULL = -1


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One column: `type` among TYPES, `length` the varchar's byte length (others: their size)."""

    name: str
    type: str
    length: int = 0
    role: str = "extra"

    def normalized(self) -> ColumnSpec:
        name = str(self.name).strip().upper()
        kind = str(self.type).strip().lower()
        role = str(self.role).strip().lower()
        if not IDENTIFIER.match(name):
            raise errors.bad_definition(f"Invalid column name {self.name!r}.")
        if kind not in TYPES:
            raise errors.bad_definition(f"Column {name}: unsupported type {self.type!r}; "
                                        f"expected one of {', '.join(TYPES)}.")
        if role not in ROLES:
            raise errors.bad_definition(f"Column {name}: unknown role {self.role!r}.")
        length = int(self.length or 0)
        if kind == "varchar":
            if not 1 <= length <= MAX_VARCHAR:
                raise errors.bad_definition(f"Column {name}: varchar length must be 1..{MAX_VARCHAR}.")
        else:
            length = DEFAULT_LENGTH[kind]
        return ColumnSpec(name, kind, length, role)

    def as_json(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def stored_dtype(self) -> np.dtype:
        """The dtype of this column's file (extra columns) or catalog value (metadata)."""
        if self.type == "varchar":
            return np.dtype(f"S{self.length + 1}")
        if self.type == "ipv4":
            return np.dtype(np.int64)
        if self.type in _FLOAT_DTYPES:
            return np.dtype(_FLOAT_DTYPES[self.type])
        return np.dtype(_INT_DTYPES[self.type])


@dataclasses.dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[ColumnSpec, ...]
    metadata: tuple[ColumnSpec, ...]

    def _role(self, role: str) -> ColumnSpec:
        return next(c for c in self.columns if c.role == role)

    @property
    def name_column(self) -> ColumnSpec:
        return self._role("name")

    @property
    def time_column(self) -> ColumnSpec:
        return self._role("time")

    @property
    def value_column(self) -> ColumnSpec:
        return self._role("value")

    @property
    def extras(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.role == "extra")

    def metadata_column(self, name: str) -> ColumnSpec:
        wanted = str(name).strip().upper()
        for column in self.metadata:
            if column.name == wanted:
                return column
        raise errors.column_not_found(self.name, wanted)

    def as_json(self) -> tuple[list[dict], list[dict]]:
        return [c.as_json() for c in self.columns], [c.as_json() for c in self.metadata]


def table_name(name: str) -> str:
    """The stored (upper-case) form of a table name; EdgeError if it is not an identifier."""
    upper = str(name).strip().upper()
    if not IDENTIFIER.match(upper):
        raise errors.bad_definition(f"Invalid table name {name!r}.")
    return upper


def build_schema(name: str, columns: Iterable[ColumnSpec], metadata: Iterable[ColumnSpec] = ()) -> TableSchema:
    """Validates and normalizes a tag table definition."""
    table = table_name(name)
    cols = tuple(c.normalized() for c in columns)
    meta = tuple(dataclasses.replace(c, role="metadata").normalized() for c in metadata)
    for role in ("name", "time", "value"):
        count = sum(1 for c in cols if c.role == role)
        if count != 1:
            raise errors.bad_definition(f"Table {table} needs exactly one {role} column, has {count}.")
    if any(c.role == "metadata" for c in cols):
        raise errors.bad_definition("Metadata columns go in the metadata list.")
    seen: set[str] = set()
    for column in cols + meta:
        if column.name in seen:
            raise errors.bad_definition(f"Column {column.name} is defined twice.")
        seen.add(column.name)
    schema = TableSchema(table, cols, meta)
    if schema.name_column.type != "varchar":
        raise errors.bad_definition("The name (primary key) column must be varchar.")
    if schema.time_column.type != "datetime":
        raise errors.bad_definition("The basetime column must be datetime.")
    if schema.value_column.type not in NUMERIC_TYPES:
        raise errors.bad_definition("The summarized column must be numeric.")
    return schema


def schema_from_json(name: str, columns: list[dict], metadata: list[dict]) -> TableSchema:
    return TableSchema(name, tuple(ColumnSpec(**c) for c in columns), tuple(ColumnSpec(**c) for c in metadata))


# ---- extra columns: user values <-> column file representation -------------------------------

def _nulls(values, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(array, null mask or None) from a masked array, an object array with None, or a plain array."""
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        return np.asarray(values.data), (mask if mask.any() else None)
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype == object:
        mask = np.fromiter((v is None for v in arr.ravel()), dtype=bool, count=arr.size)
        return arr, (mask if mask.any() else None)
    return arr, None


def encode_extra(column: ColumnSpec, values, n: int) -> np.ndarray:
    """Values of one extra column (None, masked or missing = null) -> the column file's array."""
    dtype = column.stored_dtype
    if values is None:
        return null_column(column, n)
    arr, mask = _nulls(values, n)
    if arr.ndim != 1 or len(arr) != n:
        raise errors.invalid_value(f"Column {column.name}: expected {n} values, got {len(arr)}.")
    try:
        if column.type == "varchar":
            out = _encode_varchar(column, arr, mask)
        elif column.type == "ipv4":
            out = _encode_ipv4(column, arr, mask)
        elif column.type in _FLOAT_DTYPES:
            filled = np.where(mask, np.nan, arr) if mask is not None else arr
            out = np.asarray(filled, dtype=np.float64).astype(dtype)
        else:
            filled = np.where(mask, 0, arr) if mask is not None else arr
            as_int = np.asarray(filled)
            if as_int.dtype.kind == "O":  # Python numbers: let numpy find their common type
                as_int = np.array(as_int.tolist())
                if as_int.dtype.kind not in "iuf":
                    raise ValueError("not an integer")
            if as_int.dtype.kind == "f":
                if not np.all(np.isfinite(as_int)) or np.any(as_int != np.trunc(as_int)):
                    raise ValueError("not an integer")
            wide = as_int.astype(np.int64)
            info = np.iinfo(dtype)
            if len(wide) and (wide.min() <= info.min or wide.max() > info.max):
                raise ValueError(f"out of range for {column.type}")
            out = wide.astype(dtype)
            if mask is not None:
                out[mask] = info.min
    except (TypeError, ValueError, OverflowError) as exc:
        raise errors.invalid_value(f"Column {column.name}: invalid {column.type} value ({exc}).") from None
    return np.ascontiguousarray(out)


def null_column(column: ColumnSpec, n: int) -> np.ndarray:
    dtype = column.stored_dtype
    if column.type == "varchar":
        return np.zeros(n, dtype=dtype)
    if column.type == "ipv4":
        return np.full(n, IPV4_NULL, dtype=dtype)
    if column.type in _FLOAT_DTYPES:
        return np.full(n, np.nan, dtype=dtype)
    return np.full(n, np.iinfo(dtype).min, dtype=dtype)


def _encode_varchar(column: ColumnSpec, arr: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    # Per value in Python: varchar extras are short and rare next to the numeric hot path.
    limit = column.length
    out = np.zeros(len(arr), dtype=column.stored_dtype)
    encoded = []
    for value in arr.tolist():
        if value is None:
            encoded.append(b"")
            continue
        if isinstance(value, bytes):
            raw = value
        else:
            raw = str(value).encode("utf-8")
        if len(raw) > limit:
            raise ValueError(f"longer than {limit} bytes")
        encoded.append(b"\x01" + raw)
    out[:] = encoded
    if mask is not None:
        out[mask] = b""
    return out


def _encode_ipv4(column: ColumnSpec, arr: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    if arr.dtype.kind in "iu":
        wide = arr.astype(np.int64)
        if len(wide) and (wide.min() < 0 or wide.max() > 0xFFFFFFFF):
            raise ValueError("out of range for ipv4")
        out = wide
    else:
        out = np.fromiter((IPV4_NULL if v is None else int(ipaddress.IPv4Address(str(v)))
                           for v in arr.tolist()), dtype=np.int64, count=len(arr))
    if mask is not None:
        out = out.copy()
        out[mask] = IPV4_NULL
    return out


def decode_extra(column: ColumnSpec, stored: np.ndarray):
    """A column file's array -> masked numeric array (null masked) or object array of str/None."""
    if column.type == "varchar":
        out = np.empty(len(stored), dtype=object)
        out[:] = [raw[1:].decode("utf-8", "replace") if raw else None for raw in stored.tolist()]
        return out
    if column.type == "ipv4":
        out = np.empty(len(stored), dtype=object)
        out[:] = [None if v < 0 else str(ipaddress.IPv4Address(v)) for v in stored.tolist()]
        return out
    data = np.asarray(stored)
    if column.type in _FLOAT_DTYPES:
        return np.ma.masked_where(np.isnan(data), data, copy=False)
    return np.ma.masked_equal(data, np.iinfo(data.dtype).min, copy=False)


# ---- metadata columns: one JSON-able value per tag --------------------------------------------

def check_metadata_value(column: ColumnSpec, value):
    """A metadata value as stored in the catalog (JSON); EdgeError if it does not fit the type."""
    if value is None:
        return None
    try:
        if column.type == "varchar":
            text = str(value)
            if len(text.encode("utf-8")) > column.length:
                raise ValueError(f"longer than {column.length} bytes")
            return text
        if column.type == "ipv4":
            return str(ipaddress.IPv4Address(int(value) if isinstance(value, int) else str(value)))
        if column.type in _FLOAT_DTYPES:
            # What is kept must read back the same: no infinity (1e400 in JSON, 1e308 * 10 in
            # SQL), no integer beyond 64 bits (a double would keep it rounded).
            if isinstance(value, bool) or isinstance(value, int) and not -(2**63) <= value < 2**63:
                raise ValueError("not a number, or an integer beyond 64 bits")
            number = float(value)
            if not np.isfinite(number):
                raise ValueError("not a finite number")
            return number
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("not an integer")
        number = int(value)
        info = np.iinfo(_INT_DTYPES[column.type])
        if not info.min < number <= info.max:
            raise ValueError(f"out of range for {column.type}")
        return number
    except (TypeError, ValueError, OverflowError, ipaddress.AddressValueError) as exc:
        raise errors.invalid_value(f"Column {column.name}: invalid {column.type} value {value!r} ({exc}).") from None


def check_tag_name(schema: TableSchema, name) -> str:
    if not isinstance(name, str) or not name:
        raise errors.invalid_value(f"Invalid tag name {name!r}.")
    if len(name.encode("utf-8")) > schema.name_column.length:
        raise errors.invalid_value(f"Tag name {name!r} is longer than {schema.name_column.length} bytes.")
    return name


def metadata_row(schema: TableSchema, values: Sequence | dict) -> dict:
    """{COLUMN: value} for every metadata column, checked; missing ones are null."""
    if isinstance(values, dict):
        unknown = [k for k in values if str(k).strip().upper() not in {c.name for c in schema.metadata}]
        if unknown:
            raise errors.column_not_found(schema.name, str(unknown[0]).upper())
        given = {str(k).strip().upper(): v for k, v in values.items()}
    else:
        if len(values) > len(schema.metadata):
            raise errors.invalid_value(f"Too many metadata values for table {schema.name}.")
        given = {c.name: v for c, v in zip(schema.metadata, values)}
    return {c.name: check_metadata_value(c, given.get(c.name)) for c in schema.metadata}
