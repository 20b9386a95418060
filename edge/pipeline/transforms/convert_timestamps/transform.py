"""convert_timestamps: turns date/time text or epoch numbers into UTC timestamps.

With `format`, text is read with that strptime layout; with `unit`, numbers (or numeric text)
count that unit since 1970-01-01 UTC; with neither, ISO 8601 and other common layouts are
read, and numbers are seconds since the epoch. Text without a UTC offset is wall-clock time
in `timezone` (default UTC). A field that is a timestamp already is left alone.

A value that cannot be converted raises a warning marker. When no value of a field converts,
the field is left as it was; otherwise the values that do not convert become missing (a
timestamp field cannot also hold text).

The first field converted becomes the records' time when the parser named none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.time import timestamps, timezone
from edge.pipeline.batch import BOOLEAN, NUMBER, TEXT, TIMESTAMP, RecordBatch, field_kind
from edge.pipeline.runtime.streamflow import Warn
from edge.time.textfields import from_text

_EXAMPLES = 3


class ConvertTimestampsTransform:
    def __init__(self, entry: dict[str, Any]):
        names = entry.get("field_names", entry.get("field_name"))
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError("field_names must name one field or a list of fields")
        self.names = names
        self.tz = timezone.zone(entry.get("timezone"))
        self.format = entry.get("format")
        self.unit = entry.get("unit")
        if self.format is not None and self.unit is not None:
            raise ValueError("give format or unit, not both")
        if self.unit is not None and self.unit not in timestamps.UNIT_NS:
            raise ValueError(f"unit must be one of {', '.join(timestamps.UNIT_NS)}")
        if self.format is not None:
            problem = timestamps.check_format(self.format)
            if problem:
                raise ValueError(problem)

    def apply(self, batch: RecordBatch, warn: Warn) -> RecordBatch:
        fields = dict(batch.fields)
        time_field = batch.time_field
        changed = False
        for name in self.names:
            values = fields.get(name)
            if values is None or field_kind(values) == TIMESTAMP:
                if values is not None and time_field is None:
                    time_field = name
                continue
            ns, unreadable = self._convert(values)
            if unreadable.any():
                examples = ", ".join(repr(str(v)) for v in values[unreadable][:_EXAMPLES])
                converted = int((ns != timestamps.NAT).sum())
                warn(f"{name}: {int(unreadable.sum())} value(s) could not be converted to timestamps "
                     f"(e.g. {examples}){'' if converted else '; the field was left as it was'}")
                if not converted:
                    continue
            fields[name] = ns.view("datetime64[ns]")
            changed = True
            if time_field is None:
                time_field = name
        if not changed and time_field == batch.time_field:
            return batch
        return batch.with_fields(fields, time_field)

    def _convert(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(UTC ns, unreadable mask) of one field."""
        kind = field_kind(values)
        if kind in (NUMBER, BOOLEAN):
            if self.format is not None:
                return self._text(_numbers_as_text(values))
            return timestamps.epoch_to_ns(values, self.unit or "s")
        return self._text(values)

    def _text(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.unit is not None:
            numbers, unreadable = _text_numbers(values)
            ns, out_of_range = timestamps.epoch_to_ns(numbers, self.unit)
            return ns, unreadable | out_of_range
        mat, lengths = from_text(values)
        if self.format is not None:
            return timestamps.parse_text(mat, lengths, self.format, self.tz)
        ns, unreadable = timestamps.parse_any(mat, lengths, False, self.tz)
        if unreadable.any():  # numbers of seconds since the epoch
            numbers, not_numbers = _text_numbers(values[unreadable])
            seconds, out_of_range = timestamps.epoch_to_ns(numbers, "s")
            rows = np.flatnonzero(unreadable)
            ns[rows] = seconds
            unreadable[rows] = not_numbers | out_of_range
        return ns, unreadable


def _numbers_as_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers as digits ('20240101', not '20240101.0'), others in their usual text."""
    numbers = values.astype(np.float64)
    whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2.0 ** 63)
    text = numbers.astype(TEXT)
    text[whole] = numbers[whole].astype(np.int64).astype(TEXT)
    text[np.isnan(numbers)] = ""
    return text


def _text_numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float64, not-a-number mask) of text; empty text is missing (NaN), not unreadable."""
    stripped = np.strings.strip(values.astype(TEXT))
    present = stripped != ""
    numbers = np.full(len(values), np.nan)
    unreadable = np.zeros(len(values), dtype=bool)
    try:
        numbers[present] = stripped[present].astype(np.float64)
    except ValueError:
        for row in np.flatnonzero(present).tolist():
            try:
                numbers[row] = float(stripped[row])
            except ValueError:
                unreadable[row] = True
    return numbers, unreadable
