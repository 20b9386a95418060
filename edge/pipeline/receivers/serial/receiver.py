"""The serial receiver: lines from devices on serial ports (scales, barcode readers, gauges) to records.

Each configured port is read by its own thread (`port.PortReader`); a poll takes the lines that
arrived since the last one and offers each line to the streams of its port in their order: the
first stream whose format takes it (`lines.LineFormat`) gets it. Lines no stream takes are
counted, the first few logged, and reported by a `parse` warning on the port's streams. Each
stream's lines of a poll become one batch, stored under a batch key made of the stream, the
lines' receive times and their bytes, so a batch stored once is never stored twice. A batch the
historian refuses is kept (in memory) and stored again, under the same key, by the next poll.
"""

from __future__ import annotations

import hashlib
from typing import Any

from edge.pipeline.receivers.serial.lines import LineFormat, RecordBuilder
from edge.pipeline.receivers.serial.port import PortReader
from edge.pipeline.runtime.context import ComponentContext, PollResult
from edge.pipeline.runtime.markers import CONNECTION
from edge.pipeline.runtime.records import RecordStore, RecordStream, StreamBlocked, record_streams

PARSE = "parse"
DEFAULT_TERMINATOR = "\n"
LOGGED_LINES = 10  # lines matching no stream that are logged, per port; the rest are only counted
PENDING_LIMIT = 100_000  # lines per stream kept while the historian refuses them


def stream_port(entry: dict[str, Any], connections: list[dict[str, Any]]) -> str | None:
    """The port a stream reads: its `port`, else the first connection's."""
    return entry.get("port") or (connections[0].get("port") if connections else None)


class StreamLines:
    """One stream of a port: its format, its record builder and its lines not yet stored."""

    def __init__(self, stream: RecordStream):
        self.stream = stream
        self.format = LineFormat(stream.entry)
        self.builder = RecordBuilder(stream.asset, stream.stream_type, stream.entry)
        self.pending: list[tuple[int, bytes, dict[str, str]]] = []


class SerialReceiver:
    def __init__(self, context: ComponentContext):
        self._context = context
        config = context.config
        connections = [c for c in config.get("connections") or [] if isinstance(c, dict)]
        self.store = RecordStore(context, record_streams(config, context.full_config))
        self.readers: dict[str, PortReader] = {}
        self._streams: dict[str, list[StreamLines]] = {}
        self._unmatched_logged: dict[str, int] = {}
        self._connection_shown: dict[str, str | None] = {}  # port -> the connection marker standing
        for connection in connections:
            port = str(connection["port"])
            streams = [StreamLines(s) for s in self.store.streams if stream_port(s.entry, connections) == port]
            if not streams:
                continue
            terminator = str(streams[0].stream.entry.get("terminator", DEFAULT_TERMINATOR)).encode("utf-8")
            self._streams[port] = streams
            self.readers[port] = PortReader(connection, terminator, context.log).start()

    def poll(self) -> PollResult:
        self.store.report_problems()
        records_in = stored = 0
        for port, reader in self.readers.items():
            streams = self._streams[port]
            self._report_connection(reader, streams)
            lines, dropped = reader.take()
            if dropped:
                self._context.log.warning("%s: %d line(s) dropped: the receiver did not poll for too long", port,
                                          dropped)
            unmatched, unmatched_text = self._dispatch(port, lines, streams)
            records_in += len(lines) - unmatched
            for lines_of in streams:
                problems = [unmatched_text] if unmatched_text else []
                if lines_of.pending:
                    count, problem = self._store(lines_of)
                    stored += count or 0
                    if problem:
                        problems.append(problem)
                if problems:
                    self.store.markers.mark(lines_of.stream, PARSE, "warning", f"{port}: " + "; ".join(problems))
                elif lines:
                    self.store.markers.clear(lines_of.stream, PARSE)
        return PollResult(records_in, stored)

    def _report_connection(self, reader: PortReader, streams: list[StreamLines]) -> None:
        problem = reader.problem
        if problem and problem != self._connection_shown.get(reader.port):  # once, not every poll
            for lines_of in streams:
                self.store.markers.mark(lines_of.stream, CONNECTION, "error", problem)
        elif not problem and reader.is_open:
            for lines_of in streams:
                self.store.markers.clear(lines_of.stream, CONNECTION)
        self._connection_shown[reader.port] = problem

    def _dispatch(self, port: str, lines: list[tuple[int, bytes]], streams: list[StreamLines]
                  ) -> tuple[int, str | None]:
        """Gives each line to the first stream that takes it; (lines none took, what they were)."""
        unmatched: list[bytes] = []
        for received, line in lines:
            for lines_of in streams:
                fields = lines_of.format.fields(line)
                if fields is not None:
                    lines_of.pending.append((received, line, fields))
                    del lines_of.pending[:-PENDING_LIMIT]
                    break
            else:
                unmatched.append(line)
        if not unmatched:
            return 0, None
        logged = self._unmatched_logged.get(port, 0)
        for line in unmatched[:max(0, LOGGED_LINES - logged)]:
            self._context.log.warning("%s: line matches no stream: %r", port, line[:200])
        self._unmatched_logged[port] = logged + len(unmatched)
        examples = "; ".join(repr(line[:80].decode("utf-8", "replace")) for line in unmatched[:3])
        return len(unmatched), f"{len(unmatched)} line(s) matched no stream, e.g. {examples}"

    def _store(self, lines_of: StreamLines) -> tuple[int | None, str | None]:
        """Stores the stream's pending lines as one batch: (records stored or None when blocked, problem text)."""
        pending = lines_of.pending
        batch, problems = lines_of.builder.batch([p[0] for p in pending], [p[2] for p in pending])
        digest = hashlib.blake2b(digest_size=16)
        for received, line, _ in pending:
            digest.update(received.to_bytes(8, "little", signed=True))
            digest.update(len(line).to_bytes(4, "little"))
            digest.update(line)
        try:
            count = self.store.store(lines_of.stream, batch, self.store.batch_key(lines_of.stream, digest.hexdigest()))
        except StreamBlocked:
            return None, problems.describe()
        pending.clear()
        return count, problems.describe()

    def close(self) -> None:
        for reader in self.readers.values():
            reader.close()
