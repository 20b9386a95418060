"""The spreadsheet parser: delimited text (CSV and the like) to columnar records.

A file is parsed in chunks of whole records (the file receiver cuts them with `record_end`);
`Position` carries what one chunk tells the next: the header's field names, the data rows
and physical lines read so far. Field types are inferred per chunk as pandas would: a column
whose every value is a number or a missing-value word is numeric (int64 when all are whole,
else float64), the parse_timestamps / parse_dates fields are timestamps (UTC), the rest is
text.

Bad lines (more fields than the header, or a timestamp that does not match its layout) are
dropped and counted, never stop the file; a row with fewer fields than the header gets empty
values for the rest, as pandas reads it. `bad_lines_action` decides how they are reported:
'warn' a warning marker, 'error' an error marker, 'skip' only the log.
"""

from __future__ import annotations

import codecs
from typing import Any

import numpy as np

from edge.pipeline.parsers.spreadsheet import tokenizer
from edge.pipeline.parsing import ParsedChunk, ParserConfigError, Position
from edge.time import timestamps, timezone
from edge.time.decimals import parse_number_columns
from edge.time.textfields import ByteFields, to_text

BAD_LINE_ACTIONS = ("warn", "skip", "error")
COUNTER_FIELD = "counter"
_EXAMPLES = 3  # bad lines quoted in a marker
_PROBE = "\n\r\t,;|\" 0123456789.-:/"
_UTF8_BOM = codecs.BOM_UTF8


class SpreadsheetParser:
    """One configured parser; `entry` is its object from the receiver's `parsers` list."""

    def __init__(self, entry: dict[str, Any]):
        self.name = str(entry.get("parser_name", "parser"))
        options = entry.get("options") or {}
        parse = options.get("parse") or {}
        if entry.get("file_format", "csv") != "csv":
            raise ParserConfigError(f"parser {self.name}: file_format {entry.get('file_format')!r} is not supported")
        separator = parse.get("separator", ",")
        if separator == "\\t":
            separator = "\t"
        if not isinstance(separator, str) or len(separator.encode("utf-8")) != 1 or separator in '\n\r"':
            raise ParserConfigError(f"parser {self.name}: separator must be one ASCII character, got {separator!r}")
        self.separator = ord(separator)
        header = parse.get("header", 0)
        if header is not None and (not isinstance(header, int) or isinstance(header, bool) or header < 0):
            raise ParserConfigError(f"parser {self.name}: header must be a row number or null, got {header!r}")
        self.header: int | None = header
        self.formats: dict[str, str | None] = {}
        for item in parse.get("parse_timestamps") or []:
            if not (isinstance(item, dict) and isinstance(item.get("field_name"), str)
                    and isinstance(item.get("format"), str)):
                raise ParserConfigError(f"parser {self.name}: each parse_timestamps entry needs a field_name and "
                                        f"a format, both text, e.g. {{\"field_name\": \"timestamp\", "
                                        f"\"format\": \"%Y-%m-%d %H:%M:%S\"}}")
            problem = timestamps.check_format(item["format"])
            if problem:
                raise ParserConfigError(f"parser {self.name}: {item['field_name']}: {problem}")
            self.formats[item["field_name"]] = item["format"]
        for name in parse.get("parse_dates") or []:
            if not isinstance(name, str):
                raise ParserConfigError(f"parser {self.name}: parse_dates lists field names (text), got {name!r}")
            self.formats.setdefault(name, None)
        self.dayfirst = bool(parse.get("dayfirst", False))
        self.bad_lines_action = parse.get("bad_lines_action", "warn")
        if self.bad_lines_action not in BAD_LINE_ACTIONS:
            raise ParserConfigError(f"parser {self.name}: bad_lines_action must be one of {BAD_LINE_ACTIONS}")
        try:
            self.tz = timezone.zone(options.get("localtz"))
        except ValueError as exc:
            raise ParserConfigError(f"parser {self.name}: localtz: {exc}") from None
        self.counter = bool(options.get("counter", False))
        self.encoding, self._transcode = _codec(parse.get("file_encoding", "utf-8"), self.name)

    @property
    def time_field(self) -> str | None:
        """The record time: the first parse_timestamps field, else the first parse_dates one."""
        return next(iter(self.formats), None)

    # -- chunking ------------------------------------------------------------------------------

    def record_end(self, window: bytes, at_start: bool, at_eof: bool, force: bool = False) -> int:
        """How many bytes at the front of `window` (which starts at a record boundary) are whole
        records; see `tokenizer.record_end` for `force`."""
        if not self._transcode or self.encoding not in _WIDE:
            return tokenizer.record_end(window, at_eof, force)
        # UTF-16/32: find the boundary in the text, then measure it in the file's bytes.
        bom = _bom_length(window, self.encoding) if at_start else 0
        text = codecs.getincrementaldecoder(self.encoding)(errors="replace").decode(window[bom:], final=at_eof)
        utf8 = text.encode("utf-8")
        cut = tokenizer.record_end(utf8, at_eof, force)
        return bom + len(utf8[:cut].decode("utf-8").encode(self.encoding)) if cut else 0

    # -- parsing -------------------------------------------------------------------------------

    def parse(self, chunk: bytes, position: Position, at_start: bool) -> ParsedChunk:
        """The records of `chunk` (whole records; `at_start`: it begins the file)."""
        data = self._as_utf8(chunk, at_start)
        records = tokenizer.split(data, self.separator)
        nonblank = np.flatnonzero(~records.blank())
        columns = position.columns
        skipped = position.skipped
        if columns is None:
            columns, nonblank, skipped = self._read_header(records, nonblank, skipped)
        if columns is None:  # the header row is further down the file
            after = Position(None, skipped, position.row, position.line + records.lines)
            return ParsedChunk({}, self.time_field, after)

        good, starts, ends, escaped, bad = _data_rows(records, nonblank, len(columns))
        fields, unreadable, numeric_columns = self._fields(records, columns, good, starts, ends, escaped, bad,
                                                    set(position.numeric))
        if self.counter:  # the data row number, bad rows counted too
            fields[COUNTER_FIELD] = position.row + np.searchsorted(nonblank, good).astype(np.int64)
        if unreadable.any():
            fields = {name: values[~unreadable] for name, values in fields.items()}
        bad.sort()
        examples = [f"line {position.line + line + 1}: {text}" for line, text in bad[:_EXAMPLES]]
        bad_count = len(nonblank) - len(good) + int(unreadable.sum())
        # Cells of dropped rows are not counted: their row is reported as a bad line.
        unparsed = [(int(records.record_line[good[row]]), columns.index(name), row) for name, rows in numeric_columns
                    for row in rows.tolist() if not unreadable[row]]
        unparsed.sort()
        cell_examples = [f"Row {position.line + line + 1}: cannot parse "
                         f"{self._cell_text(records, starts, ends, row, column)!r} as a number in {columns[column]}"
                         for line, column, row in unparsed[:_EXAMPLES]]
        read_as_numbers = {name for name, _ in numeric_columns}
        numeric = tuple(name for name in columns if name in position.numeric or name in read_as_numbers)
        after = Position(tuple(columns), skipped, position.row + len(nonblank), position.line + records.lines, numeric)
        time_field = self.time_field if self.time_field in fields else None
        return ParsedChunk(fields, time_field, after, bad_count, examples, len(unparsed), cell_examples)

    @staticmethod
    def _cell_text(records, starts, ends, row: int, column: int) -> str:
        return records.buf[starts[row, column]:ends[row, column]].tobytes().decode("utf-8", "replace")

    def _fields(self, records, columns, good, starts, ends, escaped, bad: list[tuple[int, str]],
                established: set[str]) -> tuple[dict[str, np.ndarray], np.ndarray, list[tuple[str, np.ndarray]]]:
        """Every column of the good rows as a typed array, the rows with an unreadable timestamp,
        and each numeric column with the rows whose cell is no number (`established`: the columns
        numeric in an earlier chunk of the file, which stay numeric)."""
        longest = int((ends - starts).max()) if starts.size else 0
        source = ByteFields(records.buf, longest)
        fields: dict[str, np.ndarray] = {}
        unreadable = np.zeros(len(good), dtype=bool)
        plain = [i for i, name in enumerate(columns) if name not in self.formats]
        # A slice when the columns are side by side (the usual case): a view, not a copy.
        pick = slice(plain[0], plain[-1] + 1) if plain and plain[-1] - plain[0] + 1 == len(plain) else plain
        known = [k for k, index in enumerate(plain) if columns[index] in established]
        numbers = dict(zip(plain, parse_number_columns(source, starts[:, pick], ends[:, pick], known)))
        unparsed: list[tuple[str, np.ndarray]] = []
        for index, name in enumerate(columns):
            s, e = starts[:, index], ends[:, index]
            if name in self.formats:
                values, wrong = self._timestamps(source, s, e, self.formats[name])
                for row in np.flatnonzero(wrong & ~unreadable)[:_EXAMPLES]:
                    text = records.buf[s[row]:e[row]].tobytes().decode("utf-8", "replace")
                    why = timestamps.out_of_range(text, self.formats[name], self.dayfirst)
                    bad.append((int(records.record_line[good[row]]),
                                f"{name}: {text!r} is {why or 'not a timestamp' + self._layout(name)}"))
                unreadable |= wrong
                fields[name] = values
            elif numbers[index] is not None:
                values, integral, wrong = numbers[index]
                fields[name] = values.astype(np.int64) if integral else values
                unparsed.append((name, wrong))
            else:
                text = to_text(*source.matrix(s, e))
                if escaped is not None:
                    for row in np.flatnonzero(escaped[:, index]).tolist():
                        raw = records.buf[s[row]:e[row]].tobytes().replace(b'""', b'"')
                        text[row] = raw.decode("utf-8", "replace")
                fields[name] = text
        return fields, unreadable, unparsed

    def check_columns(self, columns: tuple[str, ...]) -> None:
        """ParserConfigError when a configured timestamp field is not among `columns`."""
        absent = [name for name in self.formats if name not in columns]
        if absent:
            raise ParserConfigError(
                f"parser {self.name}: timestamp field(s) {', '.join(map(repr, absent))} not in the file's "
                f"fields ({', '.join(columns)})")

    def _layout(self, name: str) -> str:
        fmt = self.formats.get(name)
        return f" in layout {fmt!r}" if fmt else ""

    def _timestamps(self, source: ByteFields, starts, ends, fmt) -> tuple[np.ndarray, np.ndarray]:
        mat, lengths = source.matrix(starts, ends)
        if fmt is None:
            ns, unreadable = timestamps.parse_any(mat, lengths, self.dayfirst, self.tz)
        else:
            ns, unreadable = timestamps.parse_text(mat, lengths, fmt, self.tz)
        return ns.view("datetime64[ns]"), unreadable

    def _read_header(self, records, nonblank, skipped):
        """(columns or None, data rows after the header, rows skipped so far)."""
        if self.header is None:
            if not len(nonblank):
                return None, nonblank, skipped
            return tuple(str(i) for i in range(int(records.record_width[nonblank[0]]))), nonblank, skipped
        at = self.header - skipped
        if at >= len(nonblank):
            return None, nonblank[:0], skipped + len(nonblank)
        row = nonblank[at]
        if records.width is not None:  # every record has `width` fields: no field index to build
            first = int(row) * records.width
        else:
            first = int(np.searchsorted(records.field_record, row))
        names = [records.field_bytes(first + k).decode("utf-8", "replace").lstrip("\ufeff")
                 for k in range(int(records.record_width[row]))]
        columns = _unique_names(names)
        self.check_columns(columns)
        return columns, nonblank[at + 1:], self.header

    def _as_utf8(self, chunk: bytes, at_start: bool) -> bytes:
        if at_start:
            chunk = chunk[_bom_length(chunk, self.encoding):]
        if not self._transcode:
            return chunk
        return chunk.decode(self.encoding, errors="replace").encode("utf-8")


_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")


def _codec(name: Any, parser: str) -> tuple[str, bool]:
    """(codec name, whether chunks must be transcoded to UTF-8)."""
    try:
        info = codecs.lookup(str(name))
    except LookupError:
        raise ParserConfigError(f"parser {parser}: unknown file_encoding {name!r}") from None
    codec = {"utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(info.name, info.name)
    if codec in ("utf-8", "utf-8-sig", "ascii"):
        return "utf-8", False
    try:
        ascii_compatible = _PROBE.encode(codec) == _PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        ascii_compatible = False
    if not ascii_compatible and codec not in _WIDE:
        raise ParserConfigError(f"parser {parser}: file_encoding {name!r} is not supported "
                                "(it must keep ASCII as ASCII, or be UTF-16/UTF-32)")
    return codec, True


def _bom_length(data: bytes, encoding: str) -> int:
    boms = {"utf-8": _UTF8_BOM, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
            "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE}
    bom = boms.get(encoding)
    return len(bom) if bom and data.startswith(bom) else 0


def _unique_names(names: list[str]) -> tuple[str, ...]:
    """pandas' header rules: empty names become 'Unnamed: i', repeats get '.1', '.2' ..."""
    seen: dict[str, int] = {}
    result = []
    for index, name in enumerate(names):
        name = name or f"Unnamed: {index}"
        if name in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}.{seen[name]}"
            seen[candidate] = 0
            name = candidate
        else:
            seen[name] = 0
        result.append(name)
    return tuple(result)


def _data_rows(records: tokenizer.Records, nonblank: np.ndarray, width: int):
    """(good rows, starts, ends, escaped, bad lines) of the data rows `nonblank` under a header
    of `width` fields: rows with more fields are bad lines, the others are good."""
    if records.width == width:
        return (nonblank, *_regular_matrix(records, nonblank, width), [])
    too_wide = records.record_width[nonblank] > width
    good = nonblank[~too_wide]
    bad = [(int(records.record_line[r]), f"expected {width} fields, saw {int(records.record_width[r])}")
           for r in nonblank[too_wide][:_EXAMPLES]]
    return (good, *_field_matrix(records, good, width), bad)


def _regular_matrix(records: tokenizer.Records, good: np.ndarray, width: int):
    """`_field_matrix` for a chunk whose records all have `width` fields: a reshape."""
    if len(good) and good[-1] - good[0] + 1 == len(good):
        rows = slice(int(good[0]), int(good[-1]) + 1)
    else:
        rows = good
    starts = records.field_start.reshape(-1, width)[rows]
    ends = records.field_end.reshape(-1, width)[rows]
    escaped = None
    if records.escaped is not None and records.escaped.any():
        escaped = records.escaped.reshape(-1, width)[rows]
    return starts, ends, escaped


def _field_matrix(records: tokenizer.Records, good: np.ndarray, width: int):
    """(starts, ends, escaped) as len(good) x width matrices; absent trailing fields are empty."""
    rank = np.full(records.count, -1, dtype=np.int64)
    rank[good] = np.arange(len(good))
    row = rank[records.field_record]
    take = row >= 0
    starts = np.zeros((len(good), width), dtype=np.int64)
    ends = np.zeros((len(good), width), dtype=np.int64)
    starts[row[take], records.field_column[take]] = records.field_start[take]
    ends[row[take], records.field_column[take]] = records.field_end[take]
    escaped = None
    if records.escaped is not None and records.escaped.any():
        escaped = np.zeros((len(good), width), dtype=bool)
        escaped[row[take], records.field_column[take]] = records.escaped[take]
    return starts, ends, escaped

