"""Serial lines to records: framing bytes into lines, a stream's fields from a line, a batch from lines.

A line is what comes before a terminator, without surrounding blanks (so a "\\r" before a "\\n"
terminator goes too); blank lines are skipped. A stream takes a line when its regular
expression finds a match (anywhere in the line, unless anchored with ^ and $; the named groups
are the fields) or, with a separator, when the line splits into exactly as many fields as
`field_names` has (a single space as separator splits at runs of blanks).

Field values: text that is a decimal number becomes a number (int64 when every value of the
field in the batch is whole). A field whose values in a batch are partly numbers and partly
text is numeric: its texts are missing values, reported. A field without any number stays
text. The record time is the receive time, or the `timestamp_field`'s value read with
`timestamp_format` (strptime, as the spreadsheet parser's parse_timestamps; without one, the
common layouts of its parse_dates) in `localtz`; a line whose time cannot be read is dropped
and reported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from edge.pipeline.batch import RecordBatch
from edge.pipeline.runtime.records import column_array
from edge.time import timestamps, timezone
from edge.time.textfields import from_text

RECEIVE_TIME = "timestamp"  # the field of the receive time when no timestamp_field is named
MAX_LINE = 65536  # bytes without a terminator taken as a line anyway, so a noisy port cannot fill memory
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_EXAMPLES = 3


class LineFramer:
    """Cuts a byte stream into lines at a terminator; keeps the unfinished rest."""

    def __init__(self, terminator: bytes):
        self.terminator = terminator
        self._rest = b""

    def feed(self, data: bytes) -> list[bytes]:
        parts = (self._rest + data).split(self.terminator)
        self._rest = parts.pop()
        if len(self._rest) > MAX_LINE:
            parts.append(self._rest)
            self._rest = b""
        return [line for line in (p.strip() for p in parts) if line]


class LineFormat:
    """How one stream reads its fields from a line (its `pattern`, or `separator` and `field_names`)."""

    def __init__(self, entry: dict[str, Any]):
        pattern = entry.get("pattern")
        self.pattern = re.compile(pattern) if pattern else None
        separator = entry.get("separator")
        self.separator = None if separator in (None, " ") else str(separator)
        self.names: tuple[str, ...] = tuple(self.pattern.groupindex) if self.pattern else \
            tuple(entry.get("field_names") or ())
        self.encoding = str(entry.get("encoding", "utf-8"))

    def fields(self, line: bytes) -> dict[str, str] | None:
        """The line's fields, or None when the line is not this stream's."""
        text = line.decode(self.encoding, errors="replace")
        if self.pattern is not None:
            match = self.pattern.search(text)
            if match is None:
                return None
            return {name: (value or "").strip() for name, value in match.groupdict().items()}
        values = text.split(self.separator)
        if len(values) != len(self.names):
            return None
        return dict(zip(self.names, (v.strip() for v in values)))


@dataclasses.dataclass
class BatchProblems:
    """What a batch could not take as it came: counts and the first examples."""
    dropped_lines: int = 0
    text_values: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def note(self, example: str) -> None:
        if len(self.examples) < _EXAMPLES:
            self.examples.append(example)

    def describe(self) -> str | None:
        parts = []
        if self.dropped_lines:
            parts.append(f"{self.dropped_lines} line(s) dropped: time not readable")
        if self.text_values:
            parts.append(f"{self.text_values} value(s) that are not numbers left out")
        if not parts:
            return None
        return f"{', '.join(parts)}; {'; '.join(self.examples)}"


class RecordBuilder:
    """One stream's records from its lines (each with its receive time in ns)."""

    def __init__(self, asset: str, stream_type: str, entry: dict[str, Any]):
        self.asset, self.stream_type = asset, stream_type
        self.time_field: str | None = entry.get("timestamp_field")
        self.time_format: str | None = entry.get("timestamp_format")
        self.zone = timezone.zone(entry.get("localtz"))

    def batch(self, received: Sequence[int], rows: Sequence[dict[str, str]]) -> tuple[RecordBatch, BatchProblems]:
        problems = BatchProblems()
        names = list(dict.fromkeys(name for row in rows for name in row))
        columns = {name: [row.get(name, "") for row in rows] for name in names}
        keep = np.ones(len(rows), dtype=bool)
        fields: dict[str, np.ndarray] = {}
        if self.time_field is None:
            fields[RECEIVE_TIME] = np.array(received, dtype=np.int64).view("datetime64[ns]")
            time_field = RECEIVE_TIME
        else:
            times, unreadable = self._times(columns.pop(self.time_field, [""] * len(rows)))
            for at in np.flatnonzero(unreadable).tolist():
                problems.note(f"time {rows[at].get(self.time_field, '')!r} not readable")
            problems.dropped_lines = int(unreadable.sum())
            keep &= ~unreadable
            fields[self.time_field] = times.view("datetime64[ns]")
            time_field = self.time_field
        for name, texts in columns.items():
            fields[name] = self._column(name, texts, problems)
        if not keep.all():
            fields = {name: values[keep] for name, values in fields.items()}
        return RecordBatch(self.asset, self.stream_type, fields, time_field), problems

    def _times(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        mat, lengths = from_text(np.array(texts, dtype=object).astype(str))
        if self.time_format:
            ns, unreadable = timestamps.parse_text(mat, lengths, self.time_format, self.zone)
        else:
            ns, unreadable = timestamps.parse_any(mat, lengths, False, self.zone)
        return ns, unreadable | (lengths == 0)

    @staticmethod
    def _column(name: str, texts: list[str], problems: BatchProblems) -> np.ndarray:
        values: list[Any] = []
        numbers = others = 0
        for text in texts:
            if not text:
                values.append(None)
            elif _NUMBER.fullmatch(text):
                values.append(_number(text))
                numbers += 1
            else:
                values.append(text)
                others += 1
        if numbers and others:
            for text in (v for v in values if isinstance(v, str)):
                problems.note(f"{text!r} in {name} is not a number")
            problems.text_values += others
            values = [None if isinstance(v, str) else v for v in values]
        return column_array(values)


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    value = int(text)
    return value if -(2 ** 63) <= value < 2 ** 63 else float(value)
