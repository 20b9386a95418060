"""Delimited text split into records and fields with numpy over the raw bytes.

Without a double quote in the chunk, every newline ends a record and every separator ends a
field, so the boundaries are just the positions of those bytes. With quotes, a byte is
inside a quoted field when an odd number of quotes precede it (a doubled quote "" inside a
field adds two), so the boundaries are the newlines and separators at even quote parity;
quoted fields then lose their outer quotes and, where they hold doubled ones, are unescaped
one by one (rare). A CR before a newline is dropped; blank lines are skipped.
"""

from __future__ import annotations

import dataclasses

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
    field_record: np.ndarray  # record index of each field
    field_column: np.ndarray  # position of each field in its record
    escaped: np.ndarray | None  # per field: it held doubled quotes (None: the chunk had no quotes)
    record_width: np.ndarray  # per record: number of fields
    record_line: np.ndarray  # per record: zero-based physical line in the chunk where it starts
    lines: int  # physical lines in the chunk

    @property
    def count(self) -> int:
        return len(self.record_width)

    def blank(self) -> np.ndarray:
        """Per record: it is an empty line."""
        first = np.searchsorted(self.field_record, np.arange(self.count))
        return (self.record_width == 1) & (self.field_end[first] == self.field_start[first])

    def field_bytes(self, index: int) -> bytes:
        """One field's text, quotes unescaped."""
        text = self.buf[self.field_start[index]:self.field_end[index]].tobytes()
        if self.escaped is not None and self.escaped[index]:
            text = text.replace(b'""', b'"')
        return text


def record_end(window: bytes, at_eof: bool) -> int:
    """How many bytes at the front of `window` are complete records.

    `window` starts at a record boundary. At the end of the file an unterminated last record
    counts as complete. Inside an unbalanced quote nothing after the quote is complete, unless
    the window has no complete record at all: then it ends at its last newline, so one broken
    quote cannot stall a file (its lines are reported as bad).
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
    return window.rfind(b"\n") + 1


def split(data: bytes, separator: int) -> Records:
    """Records and fields of `data` (complete records; the last may lack its newline)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    is_newline = buf == NEWLINE
    is_delimiter = buf == separator
    is_delimiter |= is_newline
    quoted = b'"' in data
    quote_count = None
    if quoted:
        is_quote = buf == QUOTE
        outside = (np.cumsum(is_quote, dtype=np.uint8) & np.uint8(1)) == 0
        is_delimiter &= outside
        quote_count = np.concatenate(([0], np.cumsum(is_quote, dtype=np.int64)))
    delimiters = np.flatnonzero(is_delimiter)
    terminated = len(delimiters) > 0 and delimiters[-1] == len(buf) - 1 and buf[-1] == NEWLINE
    if not terminated:
        delimiters = np.append(delimiters, len(buf))  # the unterminated last record ends at the end
    ends_record = np.ones(len(delimiters), dtype=bool)
    inside = delimiters < len(buf)
    ends_record[inside] = buf[delimiters[inside]] == NEWLINE

    field_end = delimiters.astype(np.int64)
    field_start = np.empty_like(field_end)
    if len(field_start):
        field_start[0] = 0
        field_start[1:] = field_end[:-1] + 1
    field_record = np.cumsum(ends_record) - ends_record
    record_count = int(ends_record.sum())
    record_width = np.bincount(field_record, minlength=record_count).astype(np.int64)
    record_first = np.concatenate(([0], np.cumsum(record_width)[:-1])).astype(np.int64)
    field_column = np.arange(len(field_end), dtype=np.int64) - record_first[field_record]

    # CRLF: the CR belongs to the line ending, not to the last field.
    last = field_end[ends_record]
    has_cr = (last > field_start[ends_record]) & (buf[np.maximum(last - 1, 0)] == CR)
    field_end[np.flatnonzero(ends_record)[has_cr]] -= 1

    escaped = None
    if quoted:
        first = buf[np.minimum(field_start, len(buf) - 1)]
        last_char = buf[np.maximum(field_end - 1, 0)]
        wrapped = (field_end - field_start >= 2) & (first == QUOTE) & (last_char == QUOTE)
        field_start = np.where(wrapped, field_start + 1, field_start)
        field_end = np.where(wrapped, field_end - 1, field_end)
        escaped = wrapped & (quote_count[field_end] - quote_count[field_start] > 0)

    lines = int(is_newline.sum()) + (1 if data and not data.endswith(b"\n") else 0)
    if quoted:  # a quoted field may span lines, so records and lines part ways
        record_line = np.searchsorted(np.flatnonzero(is_newline), field_start[record_first])
    else:
        record_line = np.arange(record_count, dtype=np.int64)
    return Records(buf, field_start, field_end, field_record, field_column, escaped, record_width,
                   record_line.astype(np.int64), lines)
