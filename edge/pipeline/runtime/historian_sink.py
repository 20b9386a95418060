"""The historian sink: every numeric field of every record becomes a point in the tag store.

A record of stream `asset:stream_type` with numeric (or boolean, as 0/1) field `f` stores
one point of tag `<asset>:<stream_type>:<f>` in the tag table named by HISTORIAN_TABLE
(default TAG; created as NAME varchar(255), TIME datetime, VALUE double when missing), at
the record's time: the batch's `time_field` (see `RecordBatch.record_times`). Missing values
(NaN) store nothing; records without a time store nothing and raise a warning marker, and so
do infinite values (a CSV cell `1e999` or `inf`: the store refuses them, as it would read them
back as null). Text
and timestamp fields are not stored here; they stay in the batch for the transmits.

One batch is one `append_by_tag` to the store (the points come grouped by tag, every field of
a record at the record's time): durable and all or nothing, under the batch key the
file receiver derives from the bytes it read, so a batch stored once is skipped when it
comes again after a crash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edge.pipeline.batch import BOOLEAN, NUMBER, RecordBatch
from edge.pipeline.runtime.streamflow import FlowConfigError, Warn
from edge.time.timestamps import NAT

if TYPE_CHECKING:
    from edge.pipeline.runtime.ports import Historian, HistorianTable


class HistorianSink:
    def __init__(self, historian: Historian, table_name: str):
        self._historian = historian
        self.table_name = table_name
        self._table: HistorianTable | None = None

    def table(self) -> HistorianTable:
        """The tag table, created on first use when nobody has made it yet."""
        if self._table is None:
            self._table = self._historian.table(self.table_name)
        return self._table

    def deliver(self, batch: RecordBatch, batch_key: str, warn: Warn) -> int:
        """Stores the batch's numeric fields; returns the points stored (0 if skipped as seen)."""
        times = batch.record_times()
        if times is None:
            raise FlowConfigError(
                f"records of {batch.stream_id} have no timestamp field, so the historian cannot store them: "
                "name one with parse_timestamps / parse_dates or a convert_timestamps transform")
        table = self.table()
        timed = times != NAT
        untimed = int(len(times) - timed.sum())
        if untimed:
            warn(f"{untimed} record(s) of {batch.stream_id} have no value in timestamp field "
                 f"{batch.time_field!r} and were not stored in the historian")
        limit = table.schema.name_column.length
        tags, tag_times, tag_values, too_long = [], [], [], []
        prefix = f"{batch.asset}:{batch.stream_type}:"
        all_timed = not untimed
        infinite = 0
        for field, values in batch.fields.items():
            if field == batch.time_field or batch.kind(field) not in (NUMBER, BOOLEAN):
                continue
            tag = prefix + field
            if len(tag.encode("utf-8")) > limit:
                too_long.append(tag)
                continue
            numbers = values if values.dtype == np.float64 else values.astype(np.float64)
            present = np.isfinite(numbers)
            if present.all():
                if all_timed:
                    # Every field of a record shares its times: the store writes them once a batch.
                    tag_times.append(times)
                    tag_values.append(numbers)
                    tags.append(tag)
                    continue
            else:  # missing (NaN) or infinite: counted only here, off the all-good path
                infinite += int(np.isinf(numbers).sum())
            keep = timed & present
            if keep.any():
                tag_times.append(times[keep])
                tag_values.append(numbers[keep])
                tags.append(tag)
        if infinite:
            warn(f"{infinite} infinite value(s) of {batch.stream_id} were not stored in the historian")
        if too_long:
            warn(f"tag name(s) longer than {limit} bytes not stored: {', '.join(too_long[:3])}")
        if not tags:
            return 0
        return table.append_by_tag(tags, tag_times, tag_values, batch_key=batch_key)
