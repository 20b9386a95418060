"""FileReceiver: the runtime of the file receivers (localfile, smb), minus how to reach files.

One pass (`poll`): list every connection; for every stream, take the listed files its
file_filter matches that are new or changed and settled (see `settle`), oldest first; read
each from where it was left in chunks of whole records; parse, transform and store every
chunk; remember the progress. With delete_completed a file is deleted once every stream it
belongs to has read it to the end.

Exactly once: before a chunk goes to the historian its intent (byte range, batch key, parser
position) is committed to the catalog; the batch key is derived from the stream, the file,
the offset, the chunk's bytes and the parser/transform configuration. A crash after the
intent replays that very chunk under that key, and the historian skips a key it has stored
(see `filestate`). Restream purges the state, so files are read again; identical bytes
under an identical configuration give identical keys, which the historian skips while it
remembers them.

A file is identified by its path; one that shrinks or whose first bytes change was rewritten
and is read again from the start; one that grows is read on from where it was left.

Markers (component: the receiver) on each stream: `connection` when a connection cannot be
listed (cleared by the next good listing), `config` when the configuration cannot work for
the stream, `parse` for bad lines (by bad_lines_action; cleared by a file without any),
`file` when a file cannot be read or deleted, `storage` when the historian refuses a chunk
(retried every pass), `historian` for records the historian could not take.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
from typing import Any

from edge.errors import EdgeError
from edge.pipeline.batch import RecordBatch
from edge.pipeline.historian_sink import HistorianSink
from edge.pipeline.parsers.spreadsheet.parser import ParserConfigError, Position
from edge.pipeline.receivers.filecore.filestate import HEAD_BYTES, FileState, PendingChunk, head_digest
from edge.pipeline.receivers.filecore.settle import Readiness, Settler
from edge.pipeline.receivers.filecore.source import FileEntry, FileSource, OpenFile, SourceError
from edge.pipeline.runtime import TRANSFORM, ComponentContext, PollResult
from edge.pipeline.streamflow import FlowConfigError, StreamFlow

CONNECTION, CONFIG, PARSE, FILE, STORAGE, HISTORIAN, TRANSFORM_CATEGORY = (
    "connection", "config", "parse", "file", "storage", "historian", "transform")
CHUNK_BYTES = 4 << 20  # bytes read at a time; a record longer than this doubles it
MAX_CHUNK_BYTES = 256 << 20
_RESOURCE_SEPARATOR = "|"


@dataclasses.dataclass
class StreamSetup:
    asset: str
    stream_type: str
    patterns: list[str]
    flow: StreamFlow | None
    problem: str | None  # why the stream cannot run (config marker)

    def matches(self, name: str, case_sensitive: bool) -> bool:
        if case_sensitive:
            return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)
        return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in self.patterns)


@dataclasses.dataclass
class _FileReport:
    bad_lines: int = 0
    bad_examples: list[str] = dataclasses.field(default_factory=list)
    records_in: int = 0
    records_out: int = 0
    warned: set[str] = dataclasses.field(default_factory=set)  # transforms that raised a warning


class StreamBlocked(Exception):
    """This stream cannot go on in this pass (config or storage trouble); other streams can."""


class FileReceiver:
    """The shared runtime; subclasses say how to open one connection (`open_source`)."""

    chunk_bytes = CHUNK_BYTES

    def __init__(self, context: ComponentContext):
        self.context = context
        self.log = context.log
        self.app = context.app
        config = context.config
        self.name = context.name
        self.delete_completed = bool(config.get("delete_completed", False))
        self.sink = HistorianSink(self.app)
        self.sinks = [self.sink]  # an outbox for transmits joins here
        self.sources: list[FileSource] = []
        self.settlers: list[Settler] = []
        self.source_problems: list[str] = []
        for connection in config.get("connections") or []:
            try:
                self.sources.append(self.open_source(connection))
                self.settlers.append(Settler())
            except (SourceError, ValueError, KeyError) as exc:
                self.source_problems.append(str(exc))
        self.streams = [self._stream_setup(entry, config.get("parsers") or [], context.full_config)
                        for entry in config.get("streams") or [] if isinstance(entry, dict)]
        # File states not yet written: a file's final state rides along with the next commit.
        self._unsaved: dict[tuple[str, str, str], dict] = {}
        # Markers standing now (from an earlier run too), so clearing costs nothing when none is.
        self._raised: set[tuple[str, str, str, str]] = set()
        for stream in self.streams:
            for marker in self.app.markers.for_stream(stream.asset, stream.stream_type):
                self._raised.add((marker.component, marker.asset, marker.stream_type, marker.category))

    # -- subclasses ------------------------------------------------------------------------

    def open_source(self, connection: dict[str, Any]) -> FileSource:
        raise NotImplementedError

    # -- the pass --------------------------------------------------------------------------

    def poll(self) -> PollResult:
        total_in = total_out = 0
        failures = list(self.source_problems)
        for stream in self.streams:
            if stream.problem:
                self._mark(stream, CONFIG, "error", stream.problem)
        for source, settler in zip(self.sources, self.settlers):
            if self.context.stop.is_set():
                break
            try:
                listing = source.list_files()
            except SourceError as exc:
                failures.append(f"{source.label}: {exc}")
                continue
            readiness = settler.observe(listing, source.local_clock)
            records_in, records_out = self._read_source(source, listing, readiness)
            total_in += records_in
            total_out += records_out
        for stream in self.streams:
            if failures:
                self._mark(stream, CONNECTION, "error", "; ".join(failures))
            elif not self.context.stop.is_set():
                self._clear(stream, CONNECTION)
        return PollResult(total_in, total_out)

    def close(self) -> None:
        self._write_states()
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
            states = self._states(source, stream)
            self._forget_missing(source, stream, states, {e.path for e in files})
            if stream.flow is None:
                continue
            try:
                for entry in files:
                    if self.context.stop.is_set():
                        break
                    state = states.get(entry.path) or FileState()
                    if not state.unchanged(entry.size, entry.mtime_ns):
                        state, report = self._read_file(source, stream, entry, state, readiness[entry.path])
                        records_in += report.records_in
                        records_out += report.records_out
                    finished.setdefault(entry.path, []).append(state.unchanged(entry.size, entry.mtime_ns))
            except StreamBlocked:
                continue
        self._write_states()
        if self.delete_completed:
            for entry in ordered:
                done = finished.get(entry.path, [])
                if done and len(done) == len(members[entry.path]) and all(done):
                    self._delete(source, entry, members[entry.path])
        return records_in, records_out

    # -- one file --------------------------------------------------------------------------

    def _read_file(self, source: FileSource, stream: StreamSetup, entry: FileEntry, state: FileState,
                   readiness: Readiness) -> tuple[FileState, _FileReport]:
        report = _FileReport()
        if readiness is Readiness.WAIT and state.pending is None:
            return state, report
        resource = self._resource(source, entry)
        try:
            handle = source.open(entry.path)
        except SourceError as exc:
            self._mark(stream, FILE, "warning", f"{resource}: {exc}")
            return state, report
        try:
            if state.pending is not None and entry.size < state.pending.end:
                self.log.warning("%s shrank below an interrupted chunk: reading it again from the start", resource)
                state = FileState()
            elif state.pending is None and state.offset and not self._grew(handle, entry, state):
                self.log.info("%s was rewritten: reading it again from the start", resource)
                state = FileState()
            state.done = False
            state.size, state.mtime_ns = entry.size, entry.mtime_ns
            settled = readiness is Readiness.SETTLED
            while not self.context.stop.is_set():
                chunk = self._next_chunk(handle, stream, entry, state, resource, settled)
                if chunk is None:
                    break
                self._store_chunk(stream, resource, state, chunk, report)
            state.done = settled and state.pending is None and state.offset >= entry.size
            self._save(stream, resource, state, now=False)
        except SourceError as exc:
            self._save(stream, resource, state, now=False)
            self._mark(stream, FILE, "warning", f"{resource}: {exc}")
            return state, report
        finally:
            handle.close()
        self._clear(stream, FILE)
        self._report(stream, resource, report, state)
        return state, report

    def _grew(self, handle: OpenFile, entry: FileEntry, state: FileState) -> bool:
        """Whether the file still starts with what was read of it (else it was rewritten)."""
        if entry.size < state.offset:
            return False
        head = handle.read_at(0, state.head_length)
        return len(head) == state.head_length and head_digest(head) == state.head

    def _next_chunk(self, handle: OpenFile, stream: StreamSetup, entry: FileEntry, state: FileState,
                    resource: str, settled: bool) -> tuple[bytes, PendingChunk] | None:
        """The next chunk of whole records with its intent committed, or None when none is ready."""
        if state.pending is not None:  # a chunk whose storing was interrupted: the same bytes again
            pending = state.pending
            return handle.read_at(pending.start, pending.end - pending.start), pending
        if state.offset >= entry.size:
            return None
        parser = stream.flow.parser
        size = self.chunk_bytes
        while True:
            window = handle.read_at(state.offset, min(size, entry.size - state.offset))
            at_eof = settled and state.offset + len(window) >= entry.size
            largest = size >= MAX_CHUNK_BYTES
            cut = parser.record_end(window, state.offset == 0, at_eof, force=largest)
            if cut or at_eof or len(window) < size or largest:
                break
            size *= 2  # one record longer than the window
        if not cut:
            return None
        data = window[:cut]
        pending = PendingChunk(state.offset, state.offset + cut, self._batch_key(stream, resource, state.offset, data),
                               state.position)
        state.pending = pending
        if state.offset == 0:
            state.head_length = min(cut, HEAD_BYTES)
            state.head = head_digest(data)
        self._save(stream, resource, state)  # the intent, committed before anything is stored
        return data, pending

    def _store_chunk(self, stream: StreamSetup, resource: str, state: FileState,
                     chunk: tuple[bytes, PendingChunk], report: _FileReport) -> None:
        data, pending = chunk
        flow = stream.flow
        try:
            parsed = flow.parser.parse(data, Position.from_json(pending.position), pending.start == 0)
            batch = RecordBatch(stream.asset, stream.stream_type, parsed.fields, parsed.time_field)
            batch = flow.transform(batch, lambda name: self._transform_warn(stream, name, report))
            if len(batch):
                for sink in self.sinks:
                    sink.deliver(batch, pending.key, lambda text: self._mark(stream, HISTORIAN, "warning", text))
        except (ParserConfigError, FlowConfigError) as exc:
            self._mark(stream, CONFIG, "error", str(exc))
            raise StreamBlocked from exc
        except EdgeError as exc:  # the store refused the batch: nothing of it was stored
            self._mark(stream, STORAGE, "error", f"storing {resource} failed, will retry: {exc.text}")
            raise StreamBlocked from exc
        self._clear(stream, CONFIG)
        self._clear(stream, STORAGE)
        state.offset = pending.end
        state.position = parsed.position.as_json()
        state.pending = None
        report.records_in += parsed.rows + parsed.bad_lines
        report.records_out += len(batch)
        report.bad_lines += parsed.bad_lines
        report.bad_examples.extend(parsed.bad_examples[:3 - len(report.bad_examples)])

    def _batch_key(self, stream: StreamSetup, resource: str, offset: int, data: bytes) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for part in (self.name, stream.asset, stream.stream_type, resource, str(offset), stream.flow.digest):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    # -- bookkeeping -----------------------------------------------------------------------

    def _stream_setup(self, entry: dict, parsers: list, full_config: dict) -> StreamSetup:
        asset, stream_type = str(entry.get("asset")), str(entry.get("stream_type"))
        patterns = entry.get("file_filter") or ["*"]
        transforms = full_config.get("transforms") if isinstance(full_config, dict) else None
        try:
            flow = StreamFlow(asset, stream_type, parsers, transforms if isinstance(transforms, list) else [])
            return StreamSetup(asset, stream_type, list(patterns), flow, None)
        except FlowConfigError as exc:
            return StreamSetup(asset, stream_type, list(patterns), None, str(exc))

    @staticmethod
    def _resource_of(source: FileSource, path: str) -> str:
        return f"{source.label}{_RESOURCE_SEPARATOR}{path}"

    def _resource(self, source: FileSource, entry: FileEntry) -> str:
        return self._resource_of(source, entry.path)

    def _states(self, source: FileSource, stream: StreamSetup) -> dict[str, FileState]:
        prefix = source.label + _RESOURCE_SEPARATOR
        rows = self.app.receiver_state.all_for_stream(self.name, stream.asset, stream.stream_type)
        return {resource[len(prefix):]: FileState.from_json(value) for resource, value in rows.items()
                if resource.startswith(prefix)}

    def _forget_missing(self, source: FileSource, stream: StreamSetup, states: dict[str, FileState],
                        present: set[str]) -> None:
        """Drops the state of files no longer there, so a new file of the same name is read."""
        gone = [self._resource_of(source, path) for path in states if path not in present]
        if gone:
            self.app.receiver_state.delete(self.name, stream.asset, stream.stream_type, gone)

    def _save(self, stream: StreamSetup, resource: str, state: FileState, now: bool = True) -> None:
        """Records the file's state; `now=False` lets it wait for the next commit.

        Only an intent must be on disk before its chunk is stored. A file's final state can
        wait: lost in a crash, it leaves the file's last intent standing, whose chunk is then
        read again and skipped by the historian. So a file costs one catalog commit, not two.
        """
        self._unsaved[(stream.asset, stream.stream_type, resource)] = state.as_json()
        if now:
            self._write_states()

    def _write_states(self) -> None:
        if not self._unsaved:
            return
        conn = self.app.catalog.connection()
        with conn:
            for (asset, stream_type, resource), data in self._unsaved.items():
                self.app.receiver_state.put(self.name, asset, stream_type, resource, data, conn=conn)
        self._unsaved.clear()

    def _delete(self, source: FileSource, entry: FileEntry, streams: list[StreamSetup]) -> None:
        try:
            source.delete(entry.path)
        except SourceError as exc:
            for stream in streams:
                self._mark(stream, FILE, "warning", f"cannot delete {self._resource(source, entry)}: {exc}")
            return
        self.log.info("deleted %s: every stream has read it", self._resource(source, entry))
        for stream in streams:
            self._forget_missing(source, stream, {entry.path: FileState()}, set())

    def _report(self, stream: StreamSetup, resource: str, report: _FileReport, state: FileState) -> None:
        """Bad lines of the file as a parse marker; markers the file shows resolved are cleared."""
        action = stream.flow.parser.bad_lines_action
        if report.bad_lines:
            text = (f"{resource}: {report.bad_lines} bad line(s) skipped"
                    + (f"; {'; '.join(report.bad_examples)}" if report.bad_examples else ""))
            self.log.warning("%s", text)
            if action != "skip":
                self._mark(stream, PARSE, "error" if action == "error" else "warning", text)
        elif state.done and report.records_in:
            self._clear(stream, PARSE)
        if report.records_in:
            for name, _ in stream.flow.transforms:
                if name not in report.warned:
                    self._clear(stream, TRANSFORM_CATEGORY, component=name)

    def _transform_warn(self, stream: StreamSetup, transform: str, report: _FileReport):
        def warn(text: str) -> None:
            report.warned.add(transform)
            self.app.markers.raise_marker(transform, TRANSFORM, stream.asset, stream.stream_type,
                                          TRANSFORM_CATEGORY, "warning", text)
            self._raised.add((transform, stream.asset, stream.stream_type, TRANSFORM_CATEGORY))
        return warn

    def _mark(self, stream: StreamSetup, category: str, level: str, message: str) -> None:
        self.context.raise_marker(stream.asset, stream.stream_type, category, level, message)
        self._raised.add((self.name, stream.asset, stream.stream_type, category))

    def _clear(self, stream: StreamSetup, category: str, component: str | None = None) -> None:
        key = (component or self.name, stream.asset, stream.stream_type, category)
        if key in self._raised:
            self.app.markers.clear(key[0], stream.asset, stream.stream_type, category)
            self._raised.discard(key)
