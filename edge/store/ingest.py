"""The one way into the tag store: rows or per-tag arrays checked once, grouped by tag once,
encoded once, as a `Batch` that `TagTable.append_batch` stores.

One entry point per caller:

- `append_rows(rows, columns, zone, date_format)`: the rows of a Machbase append body
  (/machiot datapoints/raw, /machbase). Machbase appends the good rows and counts the bad
  ones: a row of the wrong length, a name that is not text or too long, a time that does not
  parse, a value of the wrong type or out of its column's range (infinity, an integer beyond
  64 bits, which a double would keep rounded). Returns `AppendRows`.
- `insert_rows(schema, rows, zone)`: the rows of an SQL INSERT into a tag table. A statement
  is all or nothing: the first bad row fails it (EdgeError) and nothing is stored.
- `prepare(schema, names, times, values, extras)` and `prepare_by_tag(schema, tags, times,
  values)`: column arrays from Python callers (`TagTable.append`) and per-tag arrays from the
  pipeline (`TagTable.append_by_tag`).

Infinity is refused by every entry point (NaN is null): it would read back as null and turn
the rollups and stats it entered into null.

The work is per column, not per row: rows are transposed with one `zip`, column types are
checked with one `set(map(type, ...))` in the common case, tag names are factorized (each
distinct name checked once; names that repeat one cycle, as a collector sends them, are
recognised by comparing whole tuples), times parse in bulk, integer ranges and varchar
lengths are checked once, where the cell becomes its column file's value, and the good rows
are grouped by tag with one stable argsort. Python-level loops over cells run only for what
is unusual (mixed types in a column, ipv4 and varchar extra columns).
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import itertools
import operator
from collections.abc import Sequence

import numpy as np

from edge.errors import CONSTRAINT_FAILED, MB_BAD_REQUEST, EdgeError
from edge.store import errors
from edge.store.batch import Batch
from edge.store.schema import IPV4_NULL, ColumnSpec, TableSchema, check_tag_name, decode_extra, encode_extra
from edge.time.dateformat import parse_times, why_not_a_time
from edge.time.timezone import TimeZone

# How many failed rows of an append are described (for the log).
REASONS_KEPT = 5
# An integer given for a number must fit 64 bits (a double would keep it rounded otherwise).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


# Machbase appends -------------------------------------------------------------------------

@dataclasses.dataclass
class AppendRows:
    """The good rows of an append as a batch, and what was wrong with the others.

    `names`, `times`, `values` and `extras` show the batch's rows one per point (extras as
    their column's values, null as None or NaN), for inspection; storing uses `batch`."""
    batch: Batch
    extra_columns: tuple[ColumnSpec, ...]
    failures: int
    reasons: list[str]

    @property
    def count(self) -> int:
        return self.batch.rows

    @property
    def names(self) -> np.ndarray:
        if not self.batch.names:
            return np.zeros(0, dtype="U1")
        return np.repeat(np.array(self.batch.names, dtype=str), self.batch.lengths)

    @property
    def times(self) -> np.ndarray:
        return self.batch.times

    @property
    def values(self) -> np.ndarray:
        return self.batch.values

    @property
    def extras(self) -> dict[str, np.ndarray]:
        return {column.name: stored.astype(np.float64) if column.type in ("float", "double")
                else decode_extra(column, stored)
                for column, stored in zip(self.extra_columns, self.batch.extras)}


def append_rows(rows: list, columns: Sequence[ColumnSpec], zone: TimeZone,
                date_format: str | None = None) -> AppendRows:
    """The rows (lists of cells in table column order) of an append to a table of `columns`:
    the good ones as a batch grouped by tag, in the order given within each tag."""
    width = len(columns)
    problems = _Problems()
    # Transposed in one pass, which also finds whether all rows have one length (strict zip);
    # only when that length is not the table's width are lengths looked at row by row.
    cells: list | None = None
    if not rows:
        cells, kept = [()] * width, np.arange(0)
    else:
        with contextlib.suppress(ValueError):
            cells = list(zip(*rows, strict=True))
        kept = np.arange(len(rows))
    if cells is None or len(cells) != width:
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        problems.mark(lengths != width, lambda i: f"has {lengths[i]} values, the table has {width} columns")
        kept = np.flatnonzero(lengths == width)
        shaped_rows = [rows[i] for i in kept.tolist()]
        cells = [tuple(map(operator.itemgetter(i), shaped_rows)) for i in range(width)]
    good = np.ones(kept.size, dtype=bool)
    stored: dict[str, np.ndarray] = {}
    names: _Names | None = None
    for column, cell in zip(columns, cells):
        array, ok, why = _column(column, cell, zone, date_format or None)
        if column.role == "name":
            names = array
        else:
            stored[column.role if column.role != "extra" else column.name] = array
        problems.mark_rows(kept, ~ok, why)
        good &= ok
    # The good rows, grouped by tag (a stable sort keeps each tag's rows in the order given):
    # the store then writes each tag's rows as one run without sorting them itself.
    rows_kept = np.flatnonzero(good)
    codes = names.codes[rows_kept]
    order = np.argsort(codes, kind="stable")
    rows_kept = rows_kept[order]
    codes = codes[order]
    heads = _run_starts(codes)
    lengths = np.diff(np.append(heads, len(codes))).astype(np.int64)
    extra_columns = tuple(c for c in columns if c.role == "extra")
    batch = Batch([names.distinct[code] for code in codes[heads].tolist()], heads, lengths,
                  stored["time"][rows_kept], stored["value"][rows_kept],
                  [stored[c.name][rows_kept] for c in extra_columns])
    return AppendRows(batch, extra_columns, failures=len(rows) - int(good.sum()), reasons=problems.reasons)


class _Problems:
    """The first few bad rows and why, for the log; counting is done by the masks."""

    def __init__(self):
        self.found: dict[int, str] = {}

    def mark(self, bad: np.ndarray, why) -> None:
        for row in np.flatnonzero(bad)[:REASONS_KEPT].tolist():
            self.found.setdefault(row, why(row))

    def mark_rows(self, rows: np.ndarray, bad: np.ndarray, why) -> None:
        for position in np.flatnonzero(bad)[:REASONS_KEPT].tolist():
            self.found.setdefault(int(rows[position]), why(position))

    @property
    def reasons(self) -> list[str]:
        return [f"row {row}: {text}" for row, text in sorted(self.found.items())[:REASONS_KEPT]]


def _column(column: ColumnSpec, cells: tuple, zone: TimeZone, date_format: str | None):
    """(array, ok mask, why(position) -> text) for one column's cells; the array is what the
    store keeps (the column file's representation for extra columns), names come factorized."""
    label = column.name
    if column.role == "name":
        array, ok = _names(cells, column.length)
        return array, ok, lambda i: f"{label} must be a non-empty string of at most {column.length} bytes, " \
                                    f"got {_show(cells[i])}"
    if column.type == "datetime":
        array, ok, null = _times(cells, zone, date_format)
        if column.role == "time":
            ok &= ~null
            return array, ok, lambda i: f"{label} {_show(cells[i])} {why_not_a_time(str(cells[i]), date_format)}"
        if null.any():
            array = array.copy()
            array[null] = np.iinfo(np.int64).min
        return array, ok, lambda i: f"{label} {_show(cells[i])} is not a time"
    if column.type in ("float", "double") or column.role == "value":  # the value is kept as a double
        array, ok = _floats(cells)
        if column.role == "extra":
            with np.errstate(over="ignore"):  # beyond a float's range: infinity, which fails the row
                array = array.astype(column.stored_dtype, copy=False)
            ok &= ~np.isinf(array)
        kind = "double" if column.role == "value" else column.type
        return array, ok, lambda i: f"{label} {_number_problem(cells[i], kind)}"
    if column.type in ("short", "integer", "long"):
        limits = np.iinfo(column.stored_dtype)  # its minimum is NULL, as in Machbase
        array, ok, null = _integers(cells, int(limits.max))
        array = array.astype(column.stored_dtype)
        array[null] = limits.min
        return array, ok, lambda i: f"{label} must be a {column.type} or null, got {_show(cells[i])}"
    if column.type == "varchar":
        array, ok = _varchars(cells, column)
        return array, ok, lambda i: f"{label} must be a string of at most {column.length} bytes or null, " \
                                    f"got {_show(cells[i])}"
    if column.type == "ipv4":
        array, ok = _addresses(cells)
        return array, ok, lambda i: f"{label} must be an IPv4 address or null, got {_show(cells[i])}"
    raise EdgeError(MB_BAD_REQUEST, f"Column {label} has type {column.type}, which cannot be appended")


def _show(cell) -> str:
    if type(cell) is int and cell.bit_length() > 190:  # repr of a huge int is slow, or refused
        return f"an integer of about {int(cell.bit_length() * 0.30103) + 1} digits"
    text = repr(cell)
    return text if len(text) <= 60 else text[:57] + "..."


def _number_problem(cell, kind: str) -> str:
    """Why a cell is no value of a float or double column (the value column is a double)."""
    if type(cell) is int and not INT64_MIN <= cell <= INT64_MAX:
        return f"must be a number or null, got {_show(cell)}: an integer beyond 64 bits"
    if type(cell) in (int, float):
        return f"must be a finite number within the range of a {kind}, got {_show(cell)}"
    return f"must be a number or null, got {_show(cell)}"


def _types(cells: tuple) -> set:
    return set(map(type, cells))


def _of_type(cells: tuple, allowed: tuple) -> np.ndarray:
    # The slow path, taken only when a column holds something unexpected.
    return np.fromiter((type(c) in allowed for c in cells), dtype=bool, count=len(cells))


class _Names:
    """Tag names factorized: `distinct` (a list) and one code per row into it."""

    def __init__(self, distinct: list[str], codes: np.ndarray):
        self.distinct = distinct
        self.codes = codes


def _names(cells: tuple, max_bytes: int) -> tuple[_Names, np.ndarray]:
    """Tag names as codes into their distinct values, which are checked once each: a row
    fails unless its name is 1..max_bytes bytes of UTF-8 (and numpy can hold it unchanged)."""
    n = len(cells)
    cycle = _cycle_codes(cells)
    if cycle is not None:
        (index, codes), is_text = cycle, None
    else:
        index, codes, is_text = _codes(cells)
    distinct = list(index)
    fits = np.array([0 < len(name.encode("utf-8")) <= max_bytes and not name.endswith("\x00") for name in distinct],
                    dtype=bool)
    ok = fits[codes] if n else np.ones(0, dtype=bool)
    if is_text is not None:
        ok &= is_text
    return _Names(distinct, codes), ok


def _cycle_codes(cells: tuple) -> tuple[dict, np.ndarray] | None:
    """Codes of names that repeat one cycle of distinct text names (a collector sends every
    tag at every tick: A B C A B C ...), found by comparing whole tuples; None otherwise."""
    n = len(cells)
    try:
        index = dict.fromkeys(cells[:1024])  # the cycle, if any, is within the first rows
    except TypeError:  # a list or an object among the names
        return None
    period = len(index)
    if not 0 < period < n or not all(type(name) is str for name in index):
        return None
    if cells[:period] != tuple(index) or cells[period:] != cells[:n - period]:
        return None
    return {name: code for code, name in enumerate(index)}, np.arange(n, dtype=np.int64) % period


def _codes(cells: tuple) -> tuple[dict, np.ndarray, np.ndarray | None]:
    """Each name's code in first-seen order, and which cells are text (None: all of them)."""
    n = len(cells)
    strings, is_text = cells, None
    index: dict[str, int] = {}
    try:
        # setdefault(name, len(index)): map fetches len(index) before each call, so a new name
        # gets the next code and a known one keeps its own - dense codes in first-seen order.
        codes = np.fromiter(map(index.setdefault, strings, map(len, itertools.repeat(index))), dtype=np.int64,
                            count=n)
        if not all(type(name) is str for name in index):
            raise TypeError("a name that is not text")
    except TypeError:  # something else than text among the names: those rows fail
        is_text = _of_type(cells, (str,))
        strings = [c if type(c) is str else "" for c in cells]
        index = {}
        codes = np.fromiter(map(index.setdefault, strings, map(len, itertools.repeat(index))), dtype=np.int64,
                            count=n)
    return index, codes, is_text


def _varchars(cells: tuple, column: ColumnSpec) -> tuple[np.ndarray, np.ndarray]:
    """Text as the column file keeps it (0x01 + UTF-8; null: empty); too long fails the row."""
    encoded = [c.encode("utf-8") if type(c) is str else None for c in cells]
    ok = np.fromiter((raw is None and cell is None or raw is not None and len(raw) <= column.length
                      for raw, cell in zip(encoded, cells)), dtype=bool, count=len(cells))
    array = np.zeros(len(cells), dtype=column.stored_dtype)
    array[:] = [b"" if raw is None else b"\x01" + raw for raw in encoded]
    return array, ok


def _times(cells: tuple, zone: TimeZone, date_format: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC ns of strings (in the date format) or integers (ns since the epoch); null mask."""
    n = len(cells)
    try:
        times, ok = parse_times(cells, zone, date_format)  # fails unless every cell is text
        return times, ok, np.zeros(n, dtype=bool)
    except (TypeError, ValueError):
        pass
    types = _types(cells)
    if types <= {int}:
        try:
            return np.array(cells, dtype=np.int64), np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        except OverflowError:
            pass  # beyond int64: found row by row below
    is_text = _of_type(cells, (str,))
    is_int = _of_type(cells, (int,))
    null = _of_type(cells, (type(None),))
    times = np.zeros(n, dtype=np.int64)
    ok = null.copy()
    text_rows = np.flatnonzero(is_text)
    if text_rows.size:
        parsed, parsed_ok = parse_times([cells[i] for i in text_rows.tolist()], zone, date_format)
        times[text_rows] = parsed
        ok[text_rows] = parsed_ok
    for row in np.flatnonzero(is_int).tolist():
        if -2**63 < cells[row] < 2**63:
            times[row] = cells[row]
            ok[row] = True
    return times, ok, null


def _floats(cells: tuple) -> tuple[np.ndarray, np.ndarray]:
    """float64 of numbers; None becomes NaN (null). A row fails for anything else, for an
    infinite number (1e400 in JSON) and for an integer beyond 64 bits, which a double would
    keep rounded: what is stored must read back as it was given."""
    n = len(cells)
    types = _types(cells)
    values = None
    if types <= {int, float, type(None)}:
        with contextlib.suppress(OverflowError):  # an integer beyond float range: row by row below
            values = np.array(cells, dtype=np.float64)
    if values is not None:
        ok = np.ones(n, dtype=bool)
    else:
        ok = _of_type(cells, (int, float, type(None)))
        values = np.full(n, np.nan)
        for row in np.flatnonzero(ok).tolist():
            try:
                values[row] = np.nan if cells[row] is None else float(cells[row])
            except OverflowError:
                ok[row] = False
    ok &= ~np.isinf(values)
    if int in types:
        # Only an integer whose double is at least 2^63 in size can be beyond 64 bits.
        for row in np.flatnonzero(np.abs(values) >= 2.0**63).tolist():
            if type(cells[row]) is int and not INT64_MIN <= cells[row] <= INT64_MAX:
                ok[row] = False
    return values, ok


def _integers(cells: tuple, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 of integers within +-limit; None is null."""
    n = len(cells)
    if _types(cells) <= {int}:
        try:
            values = np.array(cells, dtype=np.int64)
            return values, (values >= -limit) & (values <= limit), np.zeros(n, dtype=bool)
        except OverflowError:
            pass  # beyond int64: found row by row below
    null = _of_type(cells, (type(None),))
    values = np.zeros(n, dtype=np.int64)
    ok = null.copy()
    for row in np.flatnonzero(_of_type(cells, (int,))).tolist():
        if -limit <= cells[row] <= limit:
            values[row] = cells[row]
            ok[row] = True
    return values, ok, null


def _addresses(cells: tuple) -> tuple[np.ndarray, np.ndarray]:
    """IPv4 addresses as the column file keeps them (int64; null: -1)."""
    array = np.full(len(cells), IPV4_NULL, dtype=np.int64)
    ok = np.zeros(len(cells), dtype=bool)
    for row, cell in enumerate(cells):
        if cell is None:
            ok[row] = True
        elif isinstance(cell, str):
            try:
                array[row] = int(ipaddress.IPv4Address(cell))
                ok[row] = True
            except ValueError:
                pass
    return array, ok


# SQL INSERT --------------------------------------------------------------------------------

def insert_rows(schema: TableSchema, rows: list[tuple], zone: TimeZone) -> Batch:
    """The rows of an INSERT (tuples in table column order: name, time, value, extras...) as
    one batch; the first bad row fails the statement with EdgeError."""
    columns = list(zip(*rows))
    table = schema.name
    names = columns[0]
    if not set(map(type, names)) <= {str}:
        raise EdgeError(CONSTRAINT_FAILED, f"Table {table}: every row needs a tag name (text)")
    times = _insert_times(columns[1], zone, table)
    values = _insert_values(columns[2], table)
    extras = {}
    for spec, cells in zip(schema.columns[3:], columns[3:]):
        if spec.type == "datetime":
            null = np.fromiter(map(operator.is_, cells, itertools.repeat(None)), dtype=bool, count=len(cells))
            parsed = np.zeros(len(cells), dtype=np.int64)
            if not null.all():
                known = np.flatnonzero(~null)
                parsed[known] = _insert_times(_objects(cells)[known].tolist(), zone, table)
            extras[spec.name] = np.ma.MaskedArray(parsed, mask=null)
        else:
            extras[spec.name] = _objects(cells)
    return prepare(schema, _objects(names), times, values, extras or None)


def _objects(cells) -> np.ndarray:
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    return array


def _insert_values(cells: tuple, table: str) -> np.ndarray:
    """float64 of finite numbers, NaN for NULL; EdgeError naming the first cell that is
    neither (SQLite computes 1e999 as infinity: it would read back as NULL)."""
    if not set(map(type, cells)) <= {int, float, type(None)}:
        for cell in cells:  # only to name the culprit
            if cell is not None and (not isinstance(cell, (int, float)) or isinstance(cell, bool)):
                raise EdgeError(CONSTRAINT_FAILED, f"Table {table}: the value must be a number or NULL, got {cell!r}")
    values = np.array(cells, dtype=np.float64)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise EdgeError(CONSTRAINT_FAILED, f"Table {table}: the value must be a finite number or NULL, "
                                           f"got {cells[int(infinite[0])]!r}")
    return values


def _insert_times(cells, zone: TimeZone, table: str) -> np.ndarray:
    """ns of integers, finite floats within int64 (truncated) and texts in the default formats;
    EdgeError naming the first text that does not parse, else the first cell of another kind."""
    n = len(cells)
    if set(map(type, cells)) <= {int}:
        return np.array(cells, dtype=np.int64)
    objects = _objects(cells)
    kinds = np.array(list(map(type, cells)), dtype=object)
    is_text = kinds == str
    out = np.zeros(n, dtype=np.int64)
    texts = np.flatnonzero(is_text)
    if texts.size:
        parsed, ok = parse_times(list(map(str.strip, objects[texts].tolist())), zone)
        if not ok.all():
            bad = cells[int(texts[int(np.flatnonzero(~ok)[0])])]
            raise EdgeError(CONSTRAINT_FAILED, f"Table {table}: cannot read {bad!r} as a time")
        out[texts] = parsed
    is_int, is_float = kinds == int, kinds == float
    good = is_text | is_int
    floats = objects[is_float].astype(np.float64)
    good[is_float] = (floats >= -(2.0**63)) & (floats < 2.0**63)  # NaN and infinity fail too
    if not good.all():
        bad = cells[int(np.flatnonzero(~good)[0])]
        raise EdgeError(CONSTRAINT_FAILED, f"Table {table}: every row needs a time, got {bad!r}")
    # int() truncates a float as before
    out[is_int] = np.array(objects[is_int].tolist(), dtype=np.int64)
    out[is_float] = np.array(list(map(int, floats.tolist())), dtype=np.int64)
    return out


# Column arrays and per-tag arrays ---------------------------------------------------------

def prepare(schema: TableSchema, names: Sequence[str] | np.ndarray, times_ns, values,
            extras: dict | None, known_names: dict | None = None) -> Batch:
    """Checks and groups one append of column arrays (a tag name per point); EdgeError (and
    nothing stored) for anything malformed. Names that are keys of `known_names` (registered
    tags) were checked before."""
    times = np.asarray(times_ns)
    if times.dtype.kind not in "iu" or times.ndim != 1:
        raise errors.invalid_value("Times must be a 1-D array of int64 nanoseconds.")
    times = np.ascontiguousarray(times, dtype=np.int64)
    n = len(times)
    try:
        vals = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise errors.invalid_value("Values must be numbers.") from None
    if vals.ndim != 1 or len(vals) != n:
        raise errors.invalid_value(f"Expected {n} values, got {vals.size}.")
    _check_finite(vals, "Values")
    if len(names) != n:
        raise errors.invalid_value(f"Expected {n} tag names, got {len(names)}.")
    given = {}
    for key, column_values in (extras or {}).items():
        upper = str(key).strip().upper()
        if upper not in {c.name for c in schema.extras}:
            raise errors.column_not_found(schema.name, upper)
        given[upper] = column_values
    with np.errstate(over="ignore"):  # a number beyond a float column's range becomes infinity, refused here
        encoded = [encode_extra(column, given.get(column.name), n) for column in schema.extras]
    for column, stored in zip(schema.extras, encoded):
        if column.type in ("float", "double"):  # NaN is null; infinity, or beyond a float's range, is refused
            _check_finite(stored, f"Column {column.name}", column.type)

    group_names, order, starts, lengths = _group(names, n)
    if known_names is None or not known_names.keys() >= set(group_names):
        for name in group_names:
            check_tag_name(schema, name)
    if order is not None:
        times = times[order]
        vals = vals[order]
        encoded = [e[order] for e in encoded]
    return Batch(group_names, starts, lengths, times, vals, encoded)


def _check_finite(values: np.ndarray, what: str, kind: str = "double") -> None:
    """EdgeError unless every number is finite or NaN (null): infinity would read back as null
    and spoil the rollups and stats it entered."""
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise errors.invalid_value(f"{what} must be finite numbers within the range of a {kind} or NaN (null), "
                                   f"got {float(values[int(infinite[0])])}.")


def _group(names, n: int) -> tuple[list, np.ndarray | None, np.ndarray, np.ndarray]:
    """(name per group, order putting the points group by group or None, starts, lengths)."""
    if isinstance(names, np.ndarray) and names.dtype.kind in "US" and names.ndim == 1:
        heads = _run_starts(names)
        run_names = names[heads].tolist()
        run_lengths = np.diff(np.append(heads, n))
        if len(set(run_names)) == len(run_names):
            return run_names, None, heads.astype(np.int64), run_lengths.astype(np.int64)
        index = {name: i for i, name in enumerate(dict.fromkeys(run_names))}
        gids = np.repeat(np.fromiter(map(index.__getitem__, run_names), np.int64, len(run_names)), run_lengths)
    else:
        seq = names if isinstance(names, (list, tuple)) else list(names)
        if len(seq) != n:
            raise errors.invalid_value(f"Expected {n} tag names, got {len(seq)}.")
        try:
            index = {name: i for i, name in enumerate(dict.fromkeys(seq))}
        except TypeError:
            raise errors.invalid_value("Tag names must be text.") from None
        gids = np.fromiter(map(index.__getitem__, seq), np.int64, n)
    group_names = list(index)
    if n and bool(np.all(gids[1:] >= gids[:-1])):
        order = None
        sorted_ids = gids
    else:
        order = np.argsort(gids, kind="stable")
        sorted_ids = gids[order]
    starts = _run_starts(sorted_ids)
    lengths = np.diff(np.append(starts, n))
    return group_names, order, starts, lengths.astype(np.int64)


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Indexes where a run of equal keys begins."""
    if not len(keys):
        return np.empty(0, np.int64)
    changes = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate(([0], changes)).astype(np.int64)


def prepare_by_tag(schema: TableSchema, tags: Sequence[str], times: Sequence, values: Sequence,
                   known_names: dict | None = None) -> Batch:
    """Checks one append whose points come grouped by tag (`tags[i]` owns `times[i]`,
    `values[i]`); extra columns get nulls. Nothing is grouped point by point: this is the
    cheap way in for callers that hold each tag's points together, like the pipeline. Tags
    given the very same times array share it in the log record."""
    groups = len(tags)
    if not groups == len(times) == len(values):
        raise errors.invalid_value(f"Expected as many time and value arrays as tags ({groups}).")
    if not groups:
        return Batch([], *(np.empty(0, np.int64) for _ in range(3)), np.empty(0, np.float64),
                     [encode_extra(column, None, 0) for column in schema.extras])
    try:
        lengths = np.fromiter(map(len, times), np.int64, groups)
        value_lengths = np.fromiter(map(len, values), np.int64, groups)
        all_times = np.concatenate(times)
        all_values = np.concatenate(values).astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise errors.invalid_value("Expected a 1-D array of int64 times and one of numbers per tag.") from None
    if all_times.dtype.kind not in "iu" or all_times.ndim != 1 or len(all_times) != int(lengths.sum()):
        raise errors.invalid_value("Times must be 1-D arrays of int64 nanoseconds.")
    if all_values.ndim != 1 or not np.array_equal(lengths, value_lengths):
        bad = int(np.flatnonzero(lengths != value_lengths)[0]) if len(all_values.shape) == 1 else 0
        raise errors.invalid_value(f"Tag {tags[bad]!r}: expected {lengths[bad]} values, got {value_lengths[bad]}.")
    _check_finite(all_values, "Values")
    all_times = all_times.astype(np.int64, copy=False)
    names = list(tags)
    sources = None
    if len(set(map(id, times))) < groups:  # the very same array for several tags: written once
        first_of: dict[int, int] = {}
        sources = np.fromiter((first_of.setdefault(id(t), g) for g, t in enumerate(times)), np.int64, groups)
    if len(set(names)) < groups or not lengths.all():
        names, lengths, all_times, all_values, sources = _merged(names, lengths, all_times, all_values, sources)
    if known_names is None or not known_names.keys() >= set(names):
        for name in names:
            check_tag_name(schema, name)
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    if sources is not None and not bool((sources != np.arange(len(sources))).any()):
        sources = None
    encoded = [encode_extra(column, None, len(all_times)) for column in schema.extras]
    return Batch(names, starts, lengths, all_times, all_values, encoded, time_sources=sources)


def _merged(names: list, lengths: np.ndarray, times: np.ndarray, values: np.ndarray, sources):
    """The groups again with a tag named twice as one group (its parts in the order given,
    its own times) and empty groups left out."""
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    parts: dict[str, list[int]] = {}
    for group, name in enumerate(names):  # per group, not per point
        if lengths[group]:
            parts.setdefault(name, []).append(group)
    merged = list(parts.values())
    pieces = [np.arange(bounds[g], bounds[g + 1]) for groups in merged for g in groups]
    rows = np.concatenate(pieces) if pieces else np.empty(0, np.int64)
    new_lengths = np.array([sum(int(lengths[g]) for g in groups) for groups in merged], dtype=np.int64)
    shared = None
    if sources is not None:  # a group of one part still shares its array with the first such group
        first_of: dict[int, int] = {}
        shared = np.array([first_of.setdefault(int(sources[groups[0]]), index) if len(groups) == 1 else index
                           for index, groups in enumerate(merged)], dtype=np.int64)
    return list(parts), new_lengths, times[rows], values[rows], shared
