"""Delimited text split into records and fields with numpy over the raw bytes.

Without a double quote in the chunk, every newline ends a record and every separator ends a
field, so the boundaries are just the positions of those bytes. With quotes, a byte is
inside a quoted field when an odd number of quotes precede it (a doubled quote "" inside a
field adds two), so the boundaries are the newlines and separators at even quote parity;
quoted fields then lose their outer quotes and, where they hold doubled ones, are unescaped
one by one (rare). A CR before a newline is dropped; blank lines are skipped.

Most files are regular (every record has the same number of fields): then the field arrays
are simply reshaped into a records x fields matrix and the per-record bookkeeping that
irregular chunks need is never computed.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

NEWLINE = 10
QUOTE = 34
CR = 13


@dataclasses.dataclass
class Records:
    """The records of a chunk, before they are matched against the header."""
    buf: np.ndarray  # the chunk's bytes (uint8)
    field_start: np.ndarray  # per field, in order
    field_end: np.ndarray
    ends_record: np.ndarray  # per field: it is the last of its record
    escaped: np.ndarray | None  # per field: it held doubled quotes (None: the chunk had no quotes)
    newline_at: np.ndarray | None  # positions of all newlines when records may span lines
    lines: int  # physical lines in the chunk
    width: int | None  # fields per record when every record has the same number, else None

    @functools.cached_property
    def count(self) -> int:
        return int(self.ends_record.sum())

    @functools.cached_property
    def field_record(self) -> np.ndarray:
        """Record index of each field."""
        return np.cumsum(self.ends_record) - self.ends_record

    @functools.cached_property
    def record_width(self) -> np.ndarray:
        """Number of fields of each record."""
        if self.width is not None:
            return np.full(self.count, self.width, dtype=np.int64)
        return np.bincount(self.field_record, minlength=self.count).astype(np.int64)

    @functools.cached_property
    def record_first(self) -> np.ndarray:
        """Index of each record's first field."""
        return np.concatenate(([0], np.cumsum(self.record_width)[:-1])).astype(np.int64)

    @functools.cached_property
    def field_column(self) -> np.ndarray:
        """Position of each field in its record."""
        return np.arange(len(self.field_end), dtype=np.int64) - self.record_first[self.field_record]

    @functools.cached_property
    def record_line(self) -> np.ndarray:
        """Zero-based physical line of the chunk where each record starts."""
        if self.newline_at is None:
            return np.arange(self.count, dtype=np.int64)
        return np.searchsorted(self.newline_at, self.field_start[self.record_first]).astype(np.int64)

    def blank(self) -> np.ndarray:
        """Per record: it is an empty line."""
        if self.width is not None and self.width > 1:
            return np.zeros(self.count, dtype=bool)
        first = self.record_first
        return (self.record_width == 1) & (self.field_end[first] == self.field_start[first])

    def field_bytes(self, index: int) -> bytes:
        """One field's text, quotes unescaped."""
        text = self.buf[self.field_start[index]:self.field_end[index]].tobytes()
        if self.escaped is not None and self.escaped[index]:
            text = text.replace(b'""', b'"')
        return text


def record_end(window: bytes, at_eof: bool, force: bool = False) -> int:
    """How many bytes at the front of `window` are complete records (0: none yet).

    `window` starts at a record boundary. At the end of the file an unterminated last record
    counts as complete. A newline inside a quoted field ends nothing, unless `force` (the
    window is as large as it may grow and still holds no complete record): then the window
    ends at its last newline, so one unbalanced quote cannot stall a file; its lines come
    out as bad lines.
    """
    if at_eof:
        return len(window)
    if b'"' not in window:
        return window.rfind(b"\n") + 1
    arr = np.frombuffer(window, dtype=np.uint8)
    parity = np.cumsum(arr == QUOTE, dtype=np.uint8) & np.uint8(1)
    newlines = np.flatnonzero((arr == NEWLINE) & (parity == 0))
    if len(newlines):
        return int(newlines[-1]) + 1
    return window.rfind(b"\n") + 1 if force else 0


def split(data: bytes, separator: int) -> Records:
    """Records and fields of `data` (complete records; the last may lack its newline)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    is_delimiter = buf == separator
    is_delimiter |= buf == NEWLINE
    quoted = b'"' in data
    quote_count = None
    if quoted:
        is_quote = buf == QUOTE
        is_delimiter &= (np.cumsum(is_quote, dtype=np.uint8) & np.uint8(1)) == 0
        quote_count = np.concatenate(([0], np.cumsum(is_quote, dtype=np.int64)))
    delimiters = np.flatnonzero(is_delimiter)
    terminated = len(delimiters) > 0 and delimiters[-1] == len(buf) - 1 and buf[-1] == NEWLINE
    if not terminated:
        delimiters = np.append(delimiters, len(buf))  # the unterminated last record ends at the end
    ends_record = np.empty(len(delimiters), dtype=bool)
    ends_record[:-1] = buf[delimiters[:-1]] == NEWLINE
    ends_record[-1] = True

    field_end = delimiters.astype(np.int64)
    field_start = np.empty_like(field_end)
    field_start[0] = 0
    field_start[1:] = field_end[:-1] + 1
    records = int(ends_record.sum())
    width = len(field_end) // records
    if width * records != len(field_end) or not ends_record[width - 1::width].all():
        width = None

    # CRLF: the CR belongs to the line ending, not to the last field.
    last = np.flatnonzero(ends_record) if width is None else np.arange(width - 1, len(field_end), width)
    has_cr = (field_end[last] > field_start[last]) & (buf[np.maximum(field_end[last] - 1, 0)] == CR)
    if has_cr.any():
        field_end[last[has_cr]] -= 1

    escaped = None
    newline_at = None
    if quoted:
        first = buf[np.minimum(field_start, len(buf) - 1)]
        last_char = buf[np.maximum(field_end - 1, 0)]
        wrapped = (field_end - field_start >= 2) & (first == QUOTE) & (last_char == QUOTE)
        field_start = np.where(wrapped, field_start + 1, field_start)
        field_end = np.where(wrapped, field_end - 1, field_end)
        escaped = wrapped & (quote_count[field_end] - quote_count[field_start] > 0)
        newline_at = np.flatnonzero(buf == NEWLINE)  # a quoted field may span lines
    # Without quotes every record is one line; with them a quoted newline adds lines.
    lines = (data.count(b"\n") + (1 if not data.endswith(b"\n") else 0)) if quoted else records
    if not data:
        lines = 0
    return Records(buf, field_start, field_end, ends_record, escaped, newline_at, lines, width)
