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
(see `filestate`). Restream purges the state, so files are read again; the historian ledger,
which a restream leaves alone, says how far the historian has had each file, so those
records go to no historian again (see `ledger`).

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
import functools
import hashlib
from typing import Any

from edge.errors import EdgeError
from edge.pipeline.batch import RecordBatch
from edge.pipeline.runtime.historian_sink import HistorianSink
from edge.pipeline.parsers.spreadsheet.parser import ParserConfigError, Position
from edge.pipeline.receivers.filecore.filestate import (HEAD_BYTES, FileState, PendingChunk, chunk_digest,
                                                        head_digest)
from edge.pipeline.receivers.filecore.readahead import FILES_AHEAD, ReadAhead
from edge.pipeline.receivers.filecore.settle import Readiness, Settler
from edge.pipeline.receivers.filecore.source import FileEntry, FileSource, OpenFile, SourceError
from edge.pipeline.runtime.context import TRANSFORM, ComponentContext, PollResult
from edge.pipeline.runtime.streamflow import FlowConfigError, StreamFlow

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
        self.books = context.books
        config = context.config
        self.name = context.name
        self.delete_completed = bool(config.get("delete_completed", False))
        self.sink = HistorianSink(context.historian, context.historian_table)
        self.sinks = [self.sink]  # an outbox for transmits joins here
        self.ledger = context.books.historian_ledger
        self.read_ahead = ReadAhead()
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
            for marker in self.books.markers.for_stream(stream.asset, stream.stream_type):
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
            self.read_ahead.start(self.name)
            try:
                records_in, records_out = self._read_source(source, listing, readiness)
            finally:
                self.read_ahead.stop()
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
            known = self._ledger_entries(source, stream)
            self._forget_missing(source, stream, set(states) | set(known), {e.path for e in files})
            if stream.flow is None:
                continue
            try:
                for index, entry in enumerate(files):
                    if self.context.stop.is_set():
                        break
                    state = states.get(entry.path) or FileState()
                    if not state.unchanged(entry.size, entry.mtime_ns):
                        later = functools.partial(self._read_ahead_files, source, stream, files[index + 1:], states,
                                                  known, readiness)
                        state, report = self._read_file(source, stream, entry, state, readiness[entry.path],
                                                        known.get(entry.path) if entry.path not in states else None,
                                                        later)
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
                   readiness: Readiness, known: dict | None = None, read_ahead_later=None
                   ) -> tuple[FileState, _FileReport]:
        """Reads a file on; `known`: its historian ledger entry, when its state was lost;
        `read_ahead_later()` reads ahead the files after it."""
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
            if known is not None:
                state = self._reading_again(handle, entry, known, resource)
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

                def ahead(end: int, position: dict) -> None:
                    if end < entry.size:
                        self._read_ahead(handle, stream, resource, state, end, entry.size, settled, position)
                    elif read_ahead_later is not None:
                        read_ahead_later()

                self._store_chunk(stream, resource, state, chunk, report, ahead)
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

    def _reading_again(self, handle: OpenFile, entry: FileEntry, known: dict, resource: str) -> FileState:
        """The state for reading a file again whose historian ledger entry is `known`: the
        historian has had [0, taken) if it is still that file (the same first bytes, not
        shorter), else it is a new file."""
        state = FileState.reading_again(known)
        if not state.taken and state.replay is None:
            return FileState()
        if entry.size < state.taken or not self._grew(handle, entry, state):
            self.log.info("%s is not the file the historian had: reading it as a new one", resource)
            return FileState()
        self.log.info("%s is read again: the historian has had its first %d bytes", resource, state.taken)
        return state

    def _next_chunk(self, handle: OpenFile, stream: StreamSetup, entry: FileEntry, state: FileState,
                    resource: str, settled: bool) -> tuple[bytes, PendingChunk] | None:
        """The next chunk of whole records with its intent committed, or None when none is ready.
        A chunk the historian has had already (key "") needs no intent: it stores nothing."""
        if state.pending is not None:  # a chunk whose storing was interrupted: the same bytes again
            pending = state.pending
            return handle.read_at(pending.start, pending.end - pending.start), pending
        if state.offset >= entry.size:
            return None
        had = state.offset < state.taken
        if not had and state.replay is not None:
            chunk = self._replayed_chunk(handle, stream, resource, entry, state)
            if chunk is not None:
                return chunk
        # Chunks end at `taken`, which was a record end: what the historian had stays apart.
        data = self._whole_records(handle, stream.flow.parser, resource, state.offset,
                                   state.taken if had else entry.size, had or settled)
        if not data:
            return None
        if had:
            pending = PendingChunk(state.offset, state.offset + len(data), "", state.position)
        else:
            key, digest = self._batch_key(stream, resource, state.offset, data)
            pending = PendingChunk(state.offset, state.offset + len(data), key, state.position, digest)
        state.pending = pending
        if state.offset == 0:
            state.head_length = min(len(data), HEAD_BYTES)
            state.head = head_digest(data)
        if not had:
            self._save(stream, resource, state)  # the intent, committed before anything is stored
        return data, pending

    def _whole_records(self, handle: OpenFile, parser, resource: str, offset: int, end: int,
                       end_is_boundary: bool) -> bytes:
        """The bytes of whole records from `offset` up to at most `end` (empty: none yet).
        `end_is_boundary`: a record ends at `end` (the end of a settled file, or `taken`)."""
        read = self.read_ahead.window((resource, offset, end, end_is_boundary, self.chunk_bytes))
        if read is not None:
            return read
        return self._read_records(handle, parser, offset, end, end_is_boundary)

    def _read_ahead(self, handle: OpenFile, stream: StreamSetup, resource: str, state: FileState, offset: int,
                    size: int, settled: bool, position: dict) -> None:
        """Reads the chunk that will follow at `offset` (see `readahead`) and has it parsed."""
        if state.replay is not None and state.replay.start == offset:
            return  # that chunk is the ledger's, read exactly as it was
        window = self._ahead_window(resource, state, offset, size, settled)
        if self.read_ahead.has(window):
            return
        parser = stream.flow.parser
        data = self._read_records(handle, parser, offset, window[2], window[3])
        self.read_ahead.submit(window, data, parser, position, offset == 0)

    def _read_ahead_files(self, source: FileSource, stream: StreamSetup, later: list[FileEntry],
                          states: dict[str, FileState], known: dict[str, dict], readiness: dict[str, Readiness]
                          ) -> None:
        """Reads ahead the first chunks of the next FILES_AHEAD files to read, where their
        state says where they go on (no intent to replay, not read again after a restream)."""
        ahead = 0
        for entry in later:
            if ahead >= FILES_AHEAD:
                return
            state = states.get(entry.path) or FileState()
            ready = readiness[entry.path]
            if state.unchanged(entry.size, entry.mtime_ns) or (ready is Readiness.WAIT and state.pending is None):
                continue
            if state.pending is not None or (entry.path not in states and entry.path in known) \
                    or state.offset >= entry.size:
                return  # read as it was (an intent, the ledger) or not at all: no guess past it
            ahead += 1
            resource = self._resource(source, entry)
            settled = ready is Readiness.SETTLED
            if self.read_ahead.has(self._ahead_window(resource, state, state.offset, entry.size, settled)):
                continue
            try:
                handle = source.open(entry.path)
            except SourceError:
                return
            try:
                self._read_ahead(handle, stream, resource, state, state.offset, entry.size, settled, state.position)
            except SourceError:
                return
            finally:
                handle.close()

    def _ahead_window(self, resource: str, state: FileState, offset: int, size: int, settled: bool) -> tuple:
        """What `_whole_records` will be asked for at `offset`: (resource, offset, end, end is a
        record end, chunk size)."""
        if offset < state.taken:
            return resource, offset, state.taken, True, self.chunk_bytes
        return resource, offset, size, settled, self.chunk_bytes

    def _read_records(self, handle: OpenFile, parser, offset: int, end: int, end_is_boundary: bool) -> bytes:
        size = self.chunk_bytes
        while True:
            window = handle.read_at(offset, min(size, end - offset))
            at_end = end_is_boundary and offset + len(window) >= end
            largest = size >= MAX_CHUNK_BYTES
            cut = parser.record_end(window, offset == 0, at_end, force=largest)
            if cut or at_end or len(window) < size or largest:
                return window[:cut]
            size *= 2  # one record longer than the window

    def _replayed_chunk(self, handle: OpenFile, stream: StreamSetup, resource: str, entry: FileEntry,
                        state: FileState) -> tuple[bytes, PendingChunk] | None:
        """The chunk the ledger had pending, handed over again under its own batch key (the
        historian skips it if it stored it), when the file still holds those very bytes."""
        replay, state.replay = state.replay, None
        if replay.start != state.offset or replay.end > entry.size or not replay.digest:
            return None
        data = handle.read_at(replay.start, replay.end - replay.start)
        if chunk_digest(data) != replay.digest:
            return None
        pending = PendingChunk(replay.start, replay.end, replay.key, state.position, replay.digest)
        state.pending = pending
        self._save(stream, resource, state)
        return data, pending

    def _store_chunk(self, stream: StreamSetup, resource: str, state: FileState,
                     chunk: tuple[bytes, PendingChunk], report: _FileReport, ahead=None) -> None:
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
            batch = flow.transform(batch, lambda name: self._transform_warn(stream, name, report))
            historian = bool(pending.key)  # else the historian has had these records
            if len(batch):
                for sink in self.sinks:
                    if sink is self.sink and not historian:
                        continue
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
        if historian:
            state.taken = pending.end
        report.records_in += parsed.rows + parsed.bad_lines
        report.records_out += len(batch)
        report.bad_lines += parsed.bad_lines
        report.bad_examples.extend(parsed.bad_examples[:3 - len(report.bad_examples)])

    def _batch_key(self, stream: StreamSetup, resource: str, offset: int, data: bytes) -> tuple[str, str]:
        """(batch key, digest of the chunk's bytes)."""
        digest = chunk_digest(data)  # here, not on the parse worker: this thread has time to spare
        key = hashlib.blake2b(digest_size=16)
        for part in (self.name, stream.asset, stream.stream_type, resource, str(offset), stream.flow.digest, digest):
            key.update(part.encode("utf-8"))
            key.update(b"\0")
        return key.hexdigest(), digest

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
        rows = self.books.receiver_state.all_for_stream(self.name, stream.asset, stream.stream_type)
        return {resource[len(prefix):]: FileState.from_json(value) for resource, value in rows.items()
                if resource.startswith(prefix)}

    def _ledger_entries(self, source: FileSource, stream: StreamSetup) -> dict[str, dict]:
        prefix = source.label + _RESOURCE_SEPARATOR
        rows = self.ledger.for_stream(self.name, stream.asset, stream.stream_type)
        return {resource[len(prefix):]: entry for resource, entry in rows.items() if resource.startswith(prefix)}

    def _forget_missing(self, source: FileSource, stream: StreamSetup, paths, present: set[str]) -> None:
        """Drops the state and ledger entry of files no longer there, so a new file of the
        same name is read as a new file."""
        gone = [self._resource_of(source, path) for path in paths if path not in present]
        if gone:
            self.books.receiver_state.delete(self.name, stream.asset, stream.stream_type, gone)
            self.ledger.delete(self.name, stream.asset, stream.stream_type, gone)

    def _save(self, stream: StreamSetup, resource: str, state: FileState, now: bool = True) -> None:
        """Records the file's state; `now=False` lets it wait for the next commit.

        Only an intent must be on disk before its chunk is stored. A file's final state can
        wait: lost in a crash, it leaves the file's last intent standing, whose chunk is then
        read again and skipped by the historian. So a file costs one catalog commit, not two.
        """
        self._unsaved[(stream.asset, stream.stream_type, resource)] = (state.as_json(), state.ledger_entry())
        if now:
            self._write_states()

    def _write_states(self) -> None:
        """Commits the unsaved file states, each with its historian ledger entry."""
        if not self._unsaved:
            return
        with self.books.transaction() as conn:
            for (asset, stream_type, resource), (data, ledger_entry) in self._unsaved.items():
                self.books.receiver_state.put(self.name, asset, stream_type, resource, data, conn=conn)
                self.ledger.put(conn, self.name, asset, stream_type, resource, ledger_entry)
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
            self._forget_missing(source, stream, [entry.path], set())

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
            self.books.markers.raise_marker(transform, TRANSFORM, stream.asset, stream.stream_type,
                                          TRANSFORM_CATEGORY, "warning", text)
            self._raised.add((transform, stream.asset, stream.stream_type, TRANSFORM_CATEGORY))
        return warn

    def _mark(self, stream: StreamSetup, category: str, level: str, message: str) -> None:
        self.context.raise_marker(stream.asset, stream.stream_type, category, level, message)
        self._raised.add((self.name, stream.asset, stream.stream_type, category))

    def _clear(self, stream: StreamSetup, category: str, component: str | None = None) -> None:
        key = (component or self.name, stream.asset, stream.stream_type, category)
        if key in self._raised:
            self.books.markers.clear(key[0], stream.asset, stream.stream_type, category)
            self._raised.discard(key)

