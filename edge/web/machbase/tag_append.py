"""The body of a tag append (`{"date_format": ..., "values": [[name, time, value, ...], ...]}`)
checked and turned into column arrays for `TagTable.append`.

Machbase appends the good rows and counts the bad ones (`append_failure`): a row of the wrong
length, a name that is not text or too long, a time that does not parse, a value of the wrong
type. A body that is not of that shape at all is an error and nothing is appended.

The work is per column, not per row: the rows are transposed with one `zip` once a set of
their lengths shows they all fit, column types are checked with one `set(map(type, ...))` in
the common case, tag names are factorized (each distinct name checked once; names that
repeat one cycle, as a collector sends them, are recognised by comparing whole tuples), times
parse in bulk, and the good rows leave grouped by tag. Python-level loops over cells run only
for what is unusual (mixed types in a column, ipv4 and varchar extra columns).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import ipaddress
import itertools
import logging
import operator
import threading
from collections.abc import Sequence

import numpy as np

from edge.errors import EdgeError
from edge.sql.append_body import BAD_BODY, append_body
from edge.time.dateformat import parse_times
from edge.time.timezone import TimeZone
from edge.store.schema import ColumnSpec

log = logging.getLogger("edge.web")

# How many failed rows are described in the log per request.
REASONS_KEPT = 5

_INT_LIMITS = {"short": 2**15 - 1, "integer": 2**31 - 1, "long": 2**63 - 1}


_gc_pause_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pauses Python's cyclic garbage collector while a request body is parsed.

    A 10,000-row body is tens of thousands of fresh lists and tuples, none in a cycle, yet
    their allocation triggers collections that scan the whole heap: that doubled the cost of
    an append. Freed by reference counting as usual; the collector resumes when the last
    concurrent parser is done (the switch is process-wide, hence the count).
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_pause_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_pause_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


@dataclasses.dataclass
class AppendRows:
    """The good rows of an append, column by column, and what was wrong with the others."""
    names: np.ndarray
    times: np.ndarray
    values: np.ndarray
    extras: dict[str, np.ndarray | np.ma.MaskedArray]
    failures: int
    reasons: list[str]

    @property
    def count(self) -> int:
        return len(self.times)


def append_rows(body, columns: Sequence[ColumnSpec], zone: TimeZone) -> AppendRows:
    """The rows of an append body for a table of `columns` (in table order)."""
    rows, date_format = append_body(body)
    if rows and set(map(type, rows)) != {list}:
        raise EdgeError(BAD_BODY, 'Every row in "values" must be a list of column values')
    width = len(columns)
    problems = _Problems(len(rows))
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
    arrays: dict[str, np.ndarray] = {}
    for column, cell in zip(columns, cells):
        array, ok, why = _column(column, cell, zone, date_format or None)
        arrays[column.role if column.role != "extra" else column.name] = array
        problems.mark_rows(kept, ~ok, why)
        good &= ok
    # The good rows, grouped by tag (a stable sort keeps each tag's rows in the order given):
    # the store then writes each tag's rows as one run without sorting them itself.
    names: _Names = arrays["name"]
    rows_kept = np.flatnonzero(good)
    codes = names.codes[rows_kept]
    order = np.argsort(codes, kind="stable")
    rows_kept = rows_kept[order]

    def pick(array):
        return array[rows_kept]

    extras = {c.name: pick(arrays[c.name]) for c in columns if c.role == "extra"}
    return AppendRows(names=names.distinct[codes[order]], times=pick(arrays["time"]), values=pick(arrays["value"]),
                      extras=extras, failures=len(rows) - int(good.sum()), reasons=problems.reasons)


class _Problems:
    """The first few bad rows and why, for the log; counting is done by the masks."""

    def __init__(self, rows: int):
        self.rows = rows
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


# One column --------------------------------------------------------------------------------

def _column(column: ColumnSpec, cells: tuple, zone: TimeZone, date_format: str | None):
    """(array, ok mask, why(position) -> text) for one column's cells."""
    label = column.name
    if column.role == "name":
        array, ok = _names(cells, column.length)
        return array, ok, lambda i: f"{label} must be a non-empty string of at most {column.length} bytes, " \
                                    f"got {_show(cells[i])}"
    if column.type == "datetime":
        array, ok, null = _times(cells, zone, date_format)
        if column.role == "time":
            ok &= ~null
            return array, ok, lambda i: f"{label} {_show(cells[i])} is not a time in the date format"
        return np.ma.MaskedArray(array, mask=null), ok, lambda i: f"{label} {_show(cells[i])} is not a time"
    if column.type in ("float", "double") or column.role == "value":  # the value is kept as a double
        array, ok = _floats(cells)
        return array, ok, lambda i: f"{label} must be a number or null, got {_show(cells[i])}"
    if column.type in _INT_LIMITS:
        array, ok, null = _integers(cells, _INT_LIMITS[column.type])
        return np.ma.MaskedArray(array, mask=null), ok, \
            lambda i: f"{label} must be a {column.type} or null, got {_show(cells[i])}"
    if column.type == "varchar":
        array, ok = _varchars(cells, column.length)
        return array, ok, lambda i: f"{label} must be a string of at most {column.length} bytes or null, " \
                                    f"got {_show(cells[i])}"
    if column.type == "ipv4":
        array, ok = _addresses(cells)
        return array, ok, lambda i: f"{label} must be an IPv4 address or null, got {_show(cells[i])}"
    raise EdgeError(BAD_BODY, f"Column {label} has type {column.type}, which cannot be appended")


def _show(cell) -> str:
    text = repr(cell)
    return text if len(text) <= 60 else text[:57] + "..."


def _types(cells: tuple) -> set:
    return set(map(type, cells))


def _of_type(cells: tuple, allowed: tuple) -> np.ndarray:
    # The slow path, taken only when a column holds something unexpected.
    return np.fromiter((type(c) in allowed for c in cells), dtype=bool, count=len(cells))


class _Names:
    """Tag names factorized: `distinct` (a unicode array) and one code per row into it."""

    def __init__(self, distinct: np.ndarray, codes: np.ndarray):
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
    return _Names(np.array(distinct, dtype=str) if distinct else np.zeros(0, dtype="U1"), codes), ok


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


def _varchars(cells: tuple, max_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Text of an extra column as an object array, None for null; too long fails the row."""
    array = np.empty(len(cells), dtype=object)
    array[:] = [c if type(c) is str else None for c in cells]
    ok = np.fromiter((c is None or (type(c) is str and len(c.encode("utf-8")) <= max_bytes) for c in cells),
                     dtype=bool, count=len(cells))
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
    """float64 of numbers; None becomes NaN (null); anything else fails its row."""
    n = len(cells)
    if _types(cells) <= {int, float, type(None)}:
        try:
            return np.array(cells, dtype=np.float64), np.ones(n, dtype=bool)
        except OverflowError:
            pass  # an integer beyond float range: found row by row below
    ok = _of_type(cells, (int, float, type(None)))
    values = np.full(n, np.nan)
    for row in np.flatnonzero(ok).tolist():
        try:
            values[row] = np.nan if cells[row] is None else float(cells[row])
        except OverflowError:
            ok[row] = False
    return values, ok


def _integers(cells: tuple, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 of integers within +-limit (Machbase keeps the type's minimum for NULL)."""
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
    array = np.empty(len(cells), dtype=object)
    ok = np.zeros(len(cells), dtype=bool)
    for row, cell in enumerate(cells):
        if cell is None:
            ok[row] = True
        elif isinstance(cell, str):
            try:
                array[row] = str(ipaddress.IPv4Address(cell))
                ok[row] = True
            except ValueError:
                pass
    return array, ok


def log_failures(table: str, failures: int, reasons: list[str]) -> None:
    """The first few reasons rows of an append were refused, for whoever reads the log."""
    if failures:
        log.warning("append to %s: %d row(s) refused; %s", table, failures, "; ".join(reasons))
