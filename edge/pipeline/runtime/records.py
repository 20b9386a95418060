"""The common half of the receivers whose source gives records, not files: SQL, OPC UA, serial, Modbus.

Such a receiver reads rows or samples from its source and hands them here as one
`RecordBatch` per stream (`batch_from_columns` builds one from plain Python values). Here
the batch goes through the stream's transforms and into every sink (the historian; the
transmits' outboxes), under a batch key the receiver derives from what identifies the batch
at its source (`RecordStore.batch_key`), so a batch stored once is skipped when it comes again.

A stream's state (how far it has read: a SQL stream's last row values) is kept in the
receiver state book under the stream and one resource name (`RecordStore.load_state`,
`save_state`). Restream purges it, so the stream starts again from its initial state; an
entry of the historian ledger written with it (`save_state(..., ledger=...)`, `load_ledger`)
outlives the restream, so records the historian has had can go to the other sinks only
(`store(..., historian=False)`).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import functools
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from edge.errors import EdgeError
from edge.pipeline.batch import RecordBatch
from edge.pipeline.runtime.context import ComponentContext
from edge.pipeline.runtime.historian_sink import HistorianSink
from edge.pipeline.runtime.markers import CONFIG, HISTORIAN, STORAGE, StreamMarkers
from edge.pipeline.runtime.streamflow import FlowConfigError, Sink, StreamFlow
from edge.time.civil import datetime_to_ns
from edge.time.textfields import TEXT


class StreamBlocked(Exception):
    """This stream cannot go on in this pass (config or storage trouble); other streams can."""


@dataclasses.dataclass
class RecordStream:
    """One configured stream of a record receiver."""

    asset: str
    stream_type: str
    entry: dict[str, Any]  # its entry of the receiver's `streams`
    flow: StreamFlow | None  # its transforms; None when they cannot be built
    problem: str | None  # why the stream cannot run (config marker)

    @property
    def stream_id(self) -> str:
        return f"{self.asset}:{self.stream_type}"


def record_streams(config: dict[str, Any], full_config: dict[str, Any]) -> list[RecordStream]:
    """One per configured stream; a stream whose transforms cannot be built keeps its problem,
    so the receiver reports it on every pass while the other streams run."""
    transforms = full_config.get("transforms") if isinstance(full_config, dict) else None
    transforms = transforms if isinstance(transforms, list) else []
    streams = []
    for entry in config.get("streams") or []:
        if not isinstance(entry, dict):
            continue
        asset, stream_type = str(entry.get("asset")), str(entry.get("stream_type"))
        try:
            streams.append(RecordStream(asset, stream_type, entry, StreamFlow(asset, stream_type, None, transforms),
                                        None))
        except FlowConfigError as exc:
            streams.append(RecordStream(asset, stream_type, entry, None, str(exc)))
    return streams


class RecordStore:
    """Takes one receiver's record batches through their stream's transforms into every sink."""

    def __init__(self, context: ComponentContext, streams: Sequence[RecordStream]):
        self._context = context
        self.streams = list(streams)
        self.markers = StreamMarkers(context, self.streams)
        self.historian = HistorianSink(context.historian, context.historian_table)
        self.sinks: list[Sink] = [self.historian]
        outbox = context.outboxes.sink(context.full_config) if context.outboxes is not None else None
        if outbox is not None:  # the transmits' outboxes: durable in the same step as the historian
            self.sinks.append(outbox)

    def batch_key(self, stream: RecordStream, *identity: str) -> str:
        """The batch key of a batch `identity` names at its source (the state before it, a
        sample's time ...): the same for the same batch read again, under the same transforms."""
        key = hashlib.blake2b(digest_size=16)
        for part in (self._context.name, stream.asset, stream.stream_type, stream.flow.digest if stream.flow else "",
                     *identity):
            key.update(part.encode("utf-8"))
            key.update(b"\0")
        return key.hexdigest()

    def report_problems(self) -> None:
        """A config marker on every stream whose transforms cannot be built (each pass)."""
        for stream in self.streams:
            if stream.problem:
                self.markers.mark(stream, CONFIG, "error", stream.problem)

    def store(self, stream: RecordStream, batch: RecordBatch, batch_key: str, historian: bool = True) -> int:
        """Transforms the batch and hands it to every sink (but the historian with
        historian=False: it has these records already); returns the records left after the
        transforms. StreamBlocked (with its marker raised) when the stream cannot go on."""
        if stream.flow is None:
            raise StreamBlocked(stream.problem)
        warned: set[str] = set()
        try:
            batch = stream.flow.transform(batch, functools.partial(self.markers.transform_warn, stream,
                                                                   warned=warned))
            if len(batch):
                warn = functools.partial(self.markers.mark, stream, HISTORIAN, "warning")
                for sink in self.sinks:
                    if historian or sink is not self.historian:
                        sink.deliver(batch, batch_key, warn)
        except FlowConfigError as exc:
            self.markers.mark(stream, CONFIG, "error", str(exc))
            raise StreamBlocked(str(exc)) from exc
        except EdgeError as exc:  # the store refused the batch: nothing of it was stored
            self.markers.mark(stream, STORAGE, "error", f"storing failed, will retry: {exc.text}")
            raise StreamBlocked(exc.text) from exc
        self.markers.clear(stream, CONFIG)
        self.markers.clear(stream, STORAGE)
        self.markers.clear_quiet_transforms(stream, (name for name, _ in stream.flow.transforms), warned)
        return len(batch)

    # -- a stream's state -------------------------------------------------------------------

    def load_state(self, stream: RecordStream, resource: str) -> Any | None:
        return self._context.books.receiver_state.get(self._context.name, stream.asset, stream.stream_type, resource)

    def save_state(self, stream: RecordStream, resource: str, state: Any, ledger: Any | None = None) -> None:
        """Commits the stream's state (JSON-able) to the catalog; with `ledger`, the stream's
        historian ledger entry for `resource` in the same transaction (the ledger outlives a
        restream: it says what the historian has had)."""
        books, name = self._context.books, self._context.name
        if ledger is None:
            books.receiver_state.put(name, stream.asset, stream.stream_type, resource, state)
            return
        with books.transaction() as conn:
            books.receiver_state.put(name, stream.asset, stream.stream_type, resource, state, conn=conn)
            books.historian_ledger.put(conn, name, stream.asset, stream.stream_type, resource, ledger)

    def load_ledger(self, stream: RecordStream, resource: str) -> Any | None:
        """The stream's historian ledger entry for `resource`, if it has one."""
        return self._context.books.historian_ledger.for_stream(self._context.name, stream.asset,
                                                                stream.stream_type).get(resource)


# -- building batches --------------------------------------------------------------------------

def batch_from_columns(asset: str, stream_type: str, columns: dict[str, Sequence[Any]],
                       time_field: str | None) -> RecordBatch:
    """A batch from plain Python values, one list per field (every list one value per record).

    A field's kind comes from its values: all numbers (None missing) -> number (float64, or
    int64 when every value is an int); all bools -> boolean; all datetimes or dates -> timestamp
    (naive ones are UTC); anything else -> text (str() of each value; None is the empty text).
    """
    return RecordBatch(asset, stream_type, {name: column_array(values) for name, values in columns.items()},
                       time_field)


def column_array(values: Sequence[Any]) -> np.ndarray:
    """One field's values as the numpy array of its kind (see `batch_from_columns`)."""
    plain = _plain_numbers(values)
    if plain is not None:
        return plain
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) or isinstance(v, np.bool_) for v in present):
        if len(present) == len(values):
            return np.array(values, dtype=bool)
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if present and all(_is_number(v) for v in present):
        if len(present) == len(values) and all(isinstance(v, (int, np.integer)) for v in present) \
                and all(-(2 ** 63) <= int(v) < 2 ** 63 for v in present):
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if present and all(isinstance(v, (datetime.datetime, datetime.date)) for v in present):
        ns = [np.iinfo(np.int64).min if v is None else _datetime_ns(v) for v in values]
        return np.array(ns, dtype=np.int64).view("datetime64[ns]")
    return np.array(["" if v is None else _text(v) for v in values], dtype=TEXT)


def _plain_numbers(values: Sequence[Any]) -> np.ndarray | None:
    """The common case at C speed: every value a Python int or float (or None); else None.
    Gives what the general path gives: int64 when all are ints in range, else float64, NaN for None."""
    types = set(map(type, values))
    missing = type(None) in types
    types.discard(type(None))
    if not types or not types <= {int, float}:
        return None
    if not missing:
        if types == {int}:
            try:
                return np.array(values, dtype=np.int64)
            except OverflowError:
                pass
        return np.array(values, dtype=np.float64)
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating, decimal.Decimal)) and not isinstance(value, bool)


def _datetime_ns(value: datetime.date) -> int:
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime(value.year, value.month, value.day)
    return datetime_to_ns(value)  # an aware one from its UTC offset, a naive one as UTC


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


def first_timestamp_field(batch: RecordBatch) -> str | None:
    """The first field of timestamp kind: a stream's record time when it names none."""
    return next((name for name, values in batch.fields.items() if values.dtype.kind == "M"), None)

