"""Rows of a query result as one record batch: a field per column, the record time from the
stream's time column.

Naive timestamps (PostgreSQL `timestamp`, MySQL DATETIME) are local times of the connection's
`timezone` (UTC unless it names one), aware ones keep their offset. SQLite has no timestamp
type: a time column of ISO 8601 text (`2024-03-01 12:00:00`) is read as such a local time.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from typing import Any

from edge.pipeline.batch import RecordBatch
from edge.pipeline.runtime.records import batch_from_columns

UTC = zoneinfo.ZoneInfo("UTC")


def rows_batch(asset: str, stream_type: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
               time_field: str | None, zone: zoneinfo.ZoneInfo, fallback_time_field: str | None = None) -> RecordBatch:
    """The batch of `rows`. The record time is `time_field`; when None, the first column of a
    date/time type, and when there is none, `fallback_time_field` (a timestamp state field:
    on SQLite it is ISO text)."""
    values = dict(zip(columns, (list(column) for column in zip(*rows))))
    samples = {name: next((v for v in column if v is not None), None) for name, column in values.items()}
    if time_field is None:
        time_field = next((name for name, sample in samples.items() if isinstance(sample, datetime.datetime)),
                          fallback_time_field if fallback_time_field in values else None)
    for name, column in values.items():
        sample = samples[name]
        if name == time_field and isinstance(sample, str):
            values[name] = column = [_parse_text_time(v) for v in column]
            sample = next((v for v in column if v is not None), None)
        if isinstance(sample, datetime.datetime) and zone is not UTC and sample.tzinfo is None:
            # Naive values are local times of the connection's zone (one Python call per value:
            # the driver made each datetime one at a time already).
            values[name] = [v.replace(tzinfo=zone) if isinstance(v, datetime.datetime) and v.tzinfo is None else v
                            for v in column]
    return batch_from_columns(asset, stream_type, values, time_field)


def _parse_text_time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return value
    try:
        return datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return None  # no time: the historian warns and leaves the record out
