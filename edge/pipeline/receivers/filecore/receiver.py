"""FileReceiver: the runtime of the file receivers (localfile, smb), minus how to reach files.

One pass (`poll`): list every connection; for every stream, take the listed files its
file_filter matches that are new or changed and settled (see `settle`), oldest first; read
each from where it was left in chunks of whole records (`chunks`); parse, transform and store
every chunk; remember the progress (`progress`). With delete_completed a file is deleted once
every stream it belongs to has read it to the end.

Exactly once: before a chunk goes to the historian its intent is committed to the catalog
(`intent`); a crash after it replays that very chunk under the same batch key, which the
historian skips if it stored it. Restream purges the receiver state, so files are read again;
the historian ledger, which a restream leaves alone, says how far the historian has had each
file, so those records go to no historian again (`HistorianLedger`, `identity`).

While a chunk is stored the next one is read and parsed on a worker (`readahead`); what the
receiver reports on its streams is in `markers`.
"""

from __future__ import annotations

import functools
from typing import Any

from edge.errors import EdgeError
from edge.pipeline.batch import RecordBatch
from edge.pipeline.parsing import ParserConfigError, Position
from edge.pipeline.receivers.filecore.chunks import CHUNK_BYTES, ChunkReader
from edge.pipeline.receivers.filecore.filestate import FileState
from edge.pipeline.receivers.filecore.identity import grew, reading_again
from edge.pipeline.receivers.filecore.intent import Chunk, ChunkIntents
from edge.pipeline.receivers.filecore.markers import FILE, FileReport, FileStreamMarkers
from edge.pipeline.receivers.filecore.progress import FileProgress, resource_of, shown_name
from edge.pipeline.receivers.filecore.readahead import ChunksAhead, ReadAhead
from edge.pipeline.receivers.filecore.settle import Readiness, Settler
from edge.pipeline.receivers.filecore.source import FileEntry, FileSource, SourceError
from edge.pipeline.receivers.filecore.streams import StreamSetup, stream_setups
from edge.pipeline.runtime.context import ComponentContext, PollResult
from edge.pipeline.runtime.historian_sink import HistorianSink
from edge.pipeline.runtime.markers import CONFIG, CONNECTION, HISTORIAN, STORAGE
from edge.pipeline.runtime.streamflow import FlowConfigError


class StreamBlocked(Exception):
    """This stream cannot go on in this pass (config or storage trouble); other streams can."""


class FileReceiver:
    """The shared runtime; subclasses say how to open one connection (`open_source`)."""

    def __init__(self, context: ComponentContext):
        self.context = context
        self.log = context.log
        config = context.config
        self.name = context.name
        self.delete_completed = bool(config.get("delete_completed", False))
        self.sink = HistorianSink(context.historian, context.historian_table)
        self.sinks = [self.sink]
        outbox = context.outboxes.sink(context.full_config) if context.outboxes is not None else None
        if outbox is not None:  # the transmits' outboxes: durable in the same step as the historian
            self.sinks.append(outbox)
        self.read_ahead = ReadAhead()
        self.chunks = ChunkReader(self.read_ahead, CHUNK_BYTES)
        self.ahead = ChunksAhead(self.chunks)
        self.progress = FileProgress(self.name, context.books)
        self.intents = ChunkIntents(self.name, self.chunks, self.progress)
        self.sources: list[FileSource] = []
        self.settlers: list[Settler] = []
        self.source_problems: list[str] = []
        for connection in config.get("connections") or []:
            try:
                self.sources.append(self.open_source(connection))
                self.settlers.append(Settler())
            except (SourceError, ValueError, KeyError) as exc:
                self.source_problems.append(str(exc))
        self.streams = stream_setups(config, context.full_config)
        self.markers = FileStreamMarkers(context, self.streams)

    @property
    def chunk_bytes(self) -> int:
        """Bytes read at a time (tests make it small to cut files into many chunks)."""
        return self.chunks.chunk_bytes

    @chunk_bytes.setter
    def chunk_bytes(self, value: int) -> None:
        self.chunks.chunk_bytes = value

    # -- subclasses ------------------------------------------------------------------------

    def open_source(self, connection: dict[str, Any]) -> FileSource:
        raise NotImplementedError

    # -- the pass --------------------------------------------------------------------------

    def poll(self) -> PollResult:
        total_in = total_out = 0
        failures = list(self.source_problems)
        for stream in self.streams:
            if stream.problem:
                self.markers.mark(stream, CONFIG, "error", stream.problem)
        for source, settler in zip(self.sources, self.settlers):
            if self.context.stop.is_set():
                break
            try:
                listing = source.list_files()
            except SourceError as exc:
                failures.append(f"{source.label}: {exc}")
                continue
            readiness = settler.observe(listing, source.local_clock)
            self.read_ahead.start(self.name)
            try:
                records_in, records_out = self._read_source(source, listing, readiness)
            finally:
                self.read_ahead.stop()
            total_in += records_in
            total_out += records_out
        for stream in self.streams:
            if failures:
                self.markers.mark(stream, CONNECTION, "error", "; ".join(failures))
            elif not self.context.stop.is_set():
                self.markers.clear(stream, CONNECTION)
        return PollResult(total_in, total_out)

    def close(self) -> None:
        self.progress.write()
        for source in self.sources:
            try:
                source.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                self.log.exception("closing %s failed", source.label)

    def _read_source(self, source: FileSource, listing: list[FileEntry],
                     readiness: dict[str, Readiness]) -> tuple[int, int]:
        records_in = records_out = 0
        ordered = sorted(listing, key=lambda e: (e.mtime_ns, e.path))
        members: dict[str, list[StreamSetup]] = {}
        finished: dict[str, list[bool]] = {}
        for stream in self.streams:
            files = [e for e in ordered if stream.matches(e.name, source.case_sensitive)]
            for entry in files:
                members.setdefault(entry.path, []).append(stream)
            states = self.progress.states(source, stream)
            known = self.progress.ledger_entries(source, stream)
            self.progress.forget_missing(source, stream, set(states) | set(known), {e.path for e in files})
            if stream.flow is None:
                continue
            try:
                for index, entry in enumerate(files):
                    if self.context.stop.is_set():
                        break
                    state = states.get(entry.path) or FileState()
                    if not state.unchanged(entry.size, entry.mtime_ns):
                        later = functools.partial(self.ahead.in_next_files, source, stream, files[index + 1:],
                                                  states, known, readiness)
                        state, report = self._read_file(source, stream, entry, state, readiness[entry.path],
                                                        known.get(entry.path) if entry.path not in states else None,
                                                        later)
                        records_in += report.records_in
                        records_out += report.records_out
                    finished.setdefault(entry.path, []).append(state.unchanged(entry.size, entry.mtime_ns))
            except StreamBlocked:
                continue
        self.progress.write()
        if self.delete_completed:
            for entry in ordered:
                done = finished.get(entry.path, [])
                if done and len(done) == len(members[entry.path]) and all(done):
                    self._delete(source, entry, members[entry.path])
        return records_in, records_out

    # -- one file --------------------------------------------------------------------------

    def _read_file(self, source: FileSource, stream: StreamSetup, entry: FileEntry, state: FileState,
                   readiness: Readiness, known: dict | None = None, read_ahead_later=None
                   ) -> tuple[FileState, FileReport]:
        """Reads a file on; `known`: its historian ledger entry, when its state was lost;
        `read_ahead_later()` reads ahead the files after it."""
        report = FileReport()
        if readiness is Readiness.WAIT and state.pending is None:
            return state, report
        resource = resource_of(source, entry.path)
        shown = shown_name(source, entry.path)
        try:
            handle = source.open(entry.path)
        except SourceError as exc:
            self.markers.mark(stream, FILE, "warning", f"{shown}: {exc}")
            return state, report
        try:
            if known is not None:
                state = reading_again(handle, entry, known, shown, self.log)
            if state.pending is not None and entry.size < state.pending.end:
                self.log.warning("%s shrank below an interrupted chunk: reading it again from the start", shown)
                state = FileState()
            elif state.pending is None and state.offset and not grew(handle, entry, state):
                self.log.info("%s was rewritten: reading it again from the start", shown)
                state = FileState()
            state.done = False
            state.size, state.mtime_ns = entry.size, entry.mtime_ns
            settled = readiness is Readiness.SETTLED
            while not self.context.stop.is_set():
                chunk = self.intents.next_chunk(handle, stream, entry, state, resource, settled)
                if chunk is None:
                    break

                def ahead(end: int, position: dict) -> None:
                    if end < entry.size:
                        self.ahead.in_file(handle, stream, resource, state, end, entry.size, settled, position)
                    elif read_ahead_later is not None:
                        read_ahead_later()

                self._store_chunk(stream, shown, state, chunk, report, ahead)
            state.done = settled and state.pending is None and state.offset >= entry.size
            self.progress.save(stream, resource, state, now=False)
        except SourceError as exc:
            self.progress.save(stream, resource, state, now=False)
            self.markers.mark(stream, FILE, "warning", f"{shown}: {exc}")
            return state, report
        finally:
            handle.close()
        self.markers.clear(stream, FILE)
        self.markers.file_read(stream, shown, report, state)
        return state, report

    def _store_chunk(self, stream: StreamSetup, shown: str, state: FileState, chunk: Chunk,
                     report: FileReport, ahead=None) -> None:
        """Parses, transforms and stores a chunk whose intent is committed, then moves the
        state past it; `ahead(end, position)` reads ahead once the chunk is parsed."""
        data, pending = chunk
        flow = stream.flow
        try:
            parsed = self.read_ahead.parsed(data, flow.parser, pending.position, pending.start == 0)
            if parsed is None:
                parsed = flow.parser.parse(data, Position.from_json(pending.position), pending.start == 0)
            if ahead is not None:
                ahead(pending.end, parsed.position.as_json())
            batch = RecordBatch(stream.asset, stream.stream_type, parsed.fields, parsed.time_field)
            batch = flow.transform(batch, lambda name: self.markers.transform_warn(stream, name, report.warned))
            historian = bool(pending.key)  # else the historian has had these records
            if len(batch):
                warn = functools.partial(self.markers.mark, stream, HISTORIAN, "warning")
                for sink in self.sinks:
                    if sink is self.sink and not historian:
                        continue
                    sink.deliver(batch, pending.key, warn)
        except (ParserConfigError, FlowConfigError) as exc:
            self.markers.mark(stream, CONFIG, "error", str(exc))
            raise StreamBlocked from exc
        except EdgeError as exc:  # the store refused the batch: nothing of it was stored
            self.markers.mark(stream, STORAGE, "error", f"storing {shown} failed, will retry: {exc.text}")
            raise StreamBlocked from exc
        self.markers.clear(stream, CONFIG)
        self.markers.clear(stream, STORAGE)
        state.offset = pending.end
        state.position = parsed.position.as_json()
        state.pending = None
        if historian:
            state.taken = pending.end
        report.records_in += parsed.rows + parsed.bad_lines
        report.records_out += len(batch)
        report.bad_lines += parsed.bad_lines
        report.bad_examples.extend(parsed.bad_examples[:3 - len(report.bad_examples)])
        report.unparsed += parsed.unparsed
        report.unparsed_examples.extend(parsed.unparsed_examples[:3 - len(report.unparsed_examples)])

    def _delete(self, source: FileSource, entry: FileEntry, streams: list[StreamSetup]) -> None:
        shown = shown_name(source, entry.path)
        try:
            source.delete(entry.path)
        except SourceError as exc:
            for stream in streams:
                self.markers.mark(stream, FILE, "warning", f"cannot delete {shown}: {exc}")
            return
        self.log.info("deleted %s: every stream has read it", shown)
        for stream in streams:
            self.progress.forget_missing(source, stream, [entry.path], set())
