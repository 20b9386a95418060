"""SqlReceiver: the runtime of `"protocol": "sql"`: each stream's query, polled, into the historian.

One pass (`poll`): connect if need be (with backoff after a failure); for every stream run
its query with the stream's state as bind values, in a read-only transaction; fetch the
result in chunks of `chunk_rows`; each chunk becomes one record batch that goes through the
stream's transforms into the historian under a batch key, with its intent committed first
(`progress`), and the state moves to the chunk's last row. While a query returns a full
page (its LIMIT reached) it runs again at once, so a backlog drains at full speed.

A failed query raises a `query` marker on its stream ("Query failed: ... Current state:
{...}") and the other streams go on; a lost connection raises `connection` markers and the
receiver reconnects with backoff. Both clear when the stream reads again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import zoneinfo
from collections.abc import Sequence
from typing import Any

from edge.pipeline.receivers.sql.ledger import before_mark, ledger_entry, ledger_taken, state_order
from edge.pipeline.receivers.sql.progress import RESOURCE, Intent, Progress, state_text
from edge.pipeline.receivers.sql.querytext import QueryText, QueryTextError, scan
from edge.pipeline.receivers.sql.rowbatch import rows_batch
from edge.pipeline.receivers.sql.source import DATABASE_TYPES, Result, Source, SourceError, open_source
from edge.pipeline.receivers.sql.statefields import TIMESTAMP, StateField, bind_value, initial_state, \
    row_state, state_fields
from edge.pipeline.runtime.context import ComponentContext, PollResult
from edge.pipeline.runtime.markers import CONFIG, CONNECTION
from edge.pipeline.runtime.records import RecordStore, RecordStream, StreamBlocked, record_streams

QUERY = "query"
CHUNK_ROWS = 10_000  # rows per fetch and per batch: memory stays this size whatever the result
RECONNECT_FIRST_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 60.0


@dataclasses.dataclass
class SqlStream:
    """One stream with what its query needs; `problem` when its configuration cannot run."""

    records: RecordStream
    query: QueryText | None
    fields: list[StateField]
    time_field: str | None
    problem: str | None

    @property
    def time_fallback(self) -> str | None:
        """The record time when the result has no date/time column: the first timestamp state field."""
        return next((f.column for f in self.fields if f.data_type == TIMESTAMP), None)

    @property
    def initial(self) -> dict[str, Any]:
        return initial_state(self.fields)


class QueryProblem(Exception):
    """The query ran but its result cannot be used (a state field is no column of it)."""


class SqlReceiver:
    def __init__(self, context: ComponentContext):
        self.context = context
        self.log = context.log
        config = context.config
        connections = config.get("connections") or []
        self.connection: dict[str, Any] = connections[0] if connections else {}
        self.dialect = self.connection.get("database_type")
        self.records = RecordStore(context, record_streams(config, context.full_config))
        self.markers = self.records.markers
        self.zone, zone_problem = _zone(self.connection.get("timezone"))
        self.connection_problem = zone_problem or (
            None if self.dialect in DATABASE_TYPES else f"unknown database_type {self.dialect!r}")
        self.streams = [self._setup(stream) for stream in self.records.streams]
        self.chunk_rows = CHUNK_ROWS
        self.reconnect_max_seconds = RECONNECT_MAX_SECONDS
        self.source: Source | None = None
        self._failures = 0
        self._next_attempt = 0.0
        self._marks: dict[str, tuple | None] = {}  # per stream: the historian ledger's mark (see `ledger`)

    def _setup(self, stream: RecordStream) -> SqlStream:
        entry = stream.entry
        try:
            query = scan(str(entry.get("query") or ""), self.dialect or "postgresql")
            fields = state_fields(entry)
        except (QueryTextError, KeyError, ValueError, TypeError) as exc:
            return SqlStream(stream, None, [], None, f"the stream's query or state_fields cannot run: {exc}")
        missing = [name for name in query.names if name not in {f.column for f in fields}]
        problem = f"the query names :{missing[0]}, which is not a state field" if missing else None
        return SqlStream(stream, query, fields, entry.get("timestamp_field") or None, problem)

    # -- the pass --------------------------------------------------------------------------

    def poll(self) -> PollResult:
        self.records.report_problems()
        if self.connection_problem:
            for stream in self.streams:
                self.markers.mark(stream.records, CONFIG, "error", self.connection_problem)
            return PollResult()
        for stream in self.streams:
            if stream.problem:
                self.markers.mark(stream.records, CONFIG, "error", stream.problem)
        if not self._connect():
            return PollResult()
        total_in = total_out = 0
        for stream in self.streams:
            if self.context.stop.is_set() or self.source is None:
                break
            if stream.problem or stream.records.flow is None:
                continue
            records_in, records_out = self._read_stream(stream)
            total_in += records_in
            total_out += records_out
        return PollResult(total_in, total_out)

    def close(self) -> None:
        self._disconnect()

    def _connect(self) -> bool:
        if self.source is not None:
            return True
        if time.monotonic() < self._next_attempt:
            return False
        try:
            self.source = open_source(self.connection, self.zone)
        except SourceError as exc:
            self._lost(str(exc))
            return False
        self.log.info("connected to %s", self.source.label)
        return True

    def _lost(self, text: str) -> None:
        """The connection failed: every stream gets a connection marker; retry after a backoff
        that doubles with each failure in a row."""
        self._disconnect()
        self._failures += 1
        delay = min(self.reconnect_max_seconds, RECONNECT_FIRST_SECONDS * 2 ** min(self._failures - 1, 20))
        self._next_attempt = time.monotonic() + delay
        self.log.warning("connection failed (%d in a row), next attempt in %.1f s: %s", self._failures, delay, text)
        for stream in self.streams:
            self.markers.mark(stream.records, CONNECTION, "error",
                              f"Connection failed: {text}. Reconnecting in {delay:g} s")

    def _disconnect(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None

    # -- one stream ------------------------------------------------------------------------

    def _read_stream(self, stream: SqlStream) -> tuple[int, int]:
        """Runs the stream's query again while it returns full pages; returns rows read and
        records stored."""
        total_in = total_out = 0
        while not self.context.stop.is_set():
            began = time.monotonic()
            progress = self._progress(stream)
            try:
                rows, stored, state = self._read_query(stream, progress)
            except SourceError as exc:
                if exc.lost:
                    self._lost(str(exc))
                else:
                    self._query_failed(stream, str(exc), progress)
                break
            except QueryProblem as exc:
                self._query_failed(stream, str(exc), progress)
                break
            except StreamBlocked:
                break  # its marker is raised; the next pass tries again
            self._failures = 0
            self.markers.clear(stream.records, CONNECTION)
            self.markers.clear(stream.records, QUERY)
            total_in += rows
            total_out += stored
            if rows:
                self.log.info("%s: %d rows read, %d records stored in %.3f s; state %s",
                              stream.records.stream_id, rows, stored, time.monotonic() - began, state)
            else:
                self.log.debug("%s: no new rows in %.3f s; state %s", stream.records.stream_id,
                               time.monotonic() - began, state)
            # A full page means more may be waiting; a query without LIMIT read everything.
            limit = stream.query.limit
            if not stream.fields or limit is None or rows < limit or state == progress.state:
                break
        return total_in, total_out

    def _query_failed(self, stream: SqlStream, text: str, progress: Progress) -> None:
        self.log.warning("%s: query failed: %s", stream.records.stream_id, text)
        self.markers.mark(stream.records, QUERY, "error",
                          f"Query failed: {text}. Current state: {progress.state!r}")

    def _progress(self, stream: SqlStream) -> Progress:
        return Progress.from_json(self.records.load_state(stream.records, RESOURCE), stream.initial)

    def _save(self, stream: SqlStream, progress: Progress) -> None:
        """Commits the progress; with it the historian ledger, when the state can be ordered and is
        past the ledger's mark (the state is what the historian has: an intent's rows are not
        counted before the next save)."""
        order = state_order(stream.fields, progress.state)
        mark = self._mark(stream)
        ledger = None
        if order is not None and not before_mark(order, mark):
            ledger = ledger_entry(progress.state)
            self._marks[stream.records.stream_id] = order
        self.records.save_state(stream.records, RESOURCE, progress.to_json(), ledger)

    def _read_query(self, stream: SqlStream, progress: Progress) -> tuple[int, int, dict[str, Any]]:
        """One run of the query: from the pending intent's state-before if there is one, else
        from the state. Returns rows read, records stored, and the state after them."""
        pending = progress.pending
        before = pending.before if pending else progress.state
        values = {field.column: bind_value(field, before[field.column], self.source.dialect, self.zone)
                  for field in stream.fields if field.column in stream.query.names}
        sql, args = stream.query.for_driver(self.source.dialect, values)
        result = self.source.read(sql, args)
        rows_read = stored = 0
        try:
            columns = result.columns
            absent = [f.column for f in stream.fields if f.column not in columns]
            if absent:
                raise QueryProblem(f"state field {absent[0]!r} is not a column of the query's result "
                                   f"(columns: {', '.join(columns)})")
            mark = self._mark(stream)
            reading_again = before_mark(state_order(stream.fields, before), mark)
            while not self.context.stop.is_set():
                chunk = _fetch_rows(result, pending.rows if pending else self.chunk_rows)
                if not chunk:
                    break
                if pending is not None:
                    after = row_state(stream.fields, columns, chunk[-1], before)
                    if len(chunk) == pending.rows and after == pending.after:
                        # The interrupted chunk again, as it was: the historian skips it if stored.
                        stored += self._store_rows(stream, columns, chunk, pending.key, pending.historian)
                        rows_read += len(chunk)
                        before, pending = after, None
                        continue
                    self.log.warning("%s: the %d rows after state %s read before a restart are not the same "
                                     "any more; reading on from that state", stream.records.stream_id,
                                     pending.rows, before)
                    pending = None
                parts = [(chunk, True)]
                if reading_again:  # after a restream: what the historian has goes to the other sinks only
                    taken = self._rows_taken(stream, columns, chunk, before, mark)
                    reading_again = taken == len(chunk)
                    parts = [(part, historian) for part, historian in ((chunk[:taken], False), (chunk[taken:], True))
                             if part]
                for rows, historian in parts:
                    after = row_state(stream.fields, columns, rows[-1], before)
                    key = self._batch_key(stream, before, after, rows)
                    if stream.fields:
                        self._save(stream, Progress(before, Intent(before, len(rows), after, key, historian)))
                    stored += self._store_rows(stream, columns, rows, key, historian)
                    rows_read += len(rows)
                    before = after
        finally:
            result.close()
        if stream.fields and (before != progress.state or progress.pending is not None):
            self._save(stream, Progress(before))
        return rows_read, stored, before

    def _store_rows(self, stream: SqlStream, columns: list[str], rows: Sequence[Sequence[Any]], key: str,
                    historian: bool) -> int:
        batch = rows_batch(stream.records.asset, stream.records.stream_type, columns, rows, stream.time_field,
                           self.zone, stream.time_fallback)
        return self.records.store(stream.records, batch, key, historian=historian)

    def _rows_taken(self, stream: SqlStream, columns: list[str], rows: Sequence[Sequence[Any]],
                    before: dict[str, Any], mark: tuple) -> int:
        """How many leading rows lie at or before the ledger's mark (the historian has them)."""
        taken = 0
        for row in rows:  # a Python step per row, but only while a restreamed stream catches up
            if not before_mark(state_order(stream.fields, row_state(stream.fields, columns, row, before)), mark):
                break
            taken += 1
        return taken

    def _mark(self, stream: SqlStream) -> tuple | None:
        """The order of the historian ledger's `taken` state (cached: only this thread writes it)."""
        key = stream.records.stream_id
        if key not in self._marks:
            self._marks[key] = state_order(stream.fields, ledger_taken(self.records.load_ledger(stream.records,
                                                                                               RESOURCE)) or {})
        return self._marks[key]

    def _batch_key(self, stream: SqlStream, before: dict[str, Any], after: dict[str, Any],
                   chunk: Sequence[Sequence[Any]]) -> str:
        if stream.fields:
            return self.records.batch_key(stream.records, stream.query.text, state_text(before), state_text(after),
                                          str(len(chunk)))
        # Without state every run reads the same rows again: the rows themselves are the identity,
        # so an unchanged result is not stored twice.
        digest = hashlib.blake2b(repr(chunk).encode("utf-8"), digest_size=16).hexdigest()
        return self.records.batch_key(stream.records, stream.query.text, digest)


def _fetch_rows(result: Result, count: int) -> list[Sequence[Any]]:
    """`count` rows, fewer only at the end of the result."""
    rows = list(result.fetch(count))
    while rows and len(rows) < count:
        more = result.fetch(count - len(rows))
        if not more:
            break
        rows.extend(more)
    return rows


def _zone(name: Any) -> tuple[zoneinfo.ZoneInfo, str | None]:
    if not name:
        return zoneinfo.ZoneInfo("UTC"), None
    try:
        return zoneinfo.ZoneInfo(str(name)), None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC"), f"unknown timezone {name!r}"
