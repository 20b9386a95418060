"""Read-ahead: the next chunk is parsed on a second thread while the current one is stored.

Parsing a chunk needs nothing the storing of the previous one decides: its bytes are the
records after the previous chunk (or the start of the next file to read) and its parser
position is the one the previous chunk left. So while the receiver transforms and stores
chunk k (numpy, file writes and an fdatasync wait, most of it without the GIL), it reads the
bytes of chunk k+1 itself and a worker parses them.

Nothing depends on the guess being right: the receiver goes through its usual steps (the
intent is committed before anything is stored, in the same order as ever) and only takes the
workers' bytes and parse when they are for exactly the chunk it is at (same file, offset,
limits, parser and position); otherwise it reads and parses as without read-ahead. The
receiver hashes the bytes for the batch key itself: it waits for the parse anyway, and the
worker is the busier of the two.

`ChunksAhead` decides which chunks to read ahead; `ReadAhead` is the worker and the chunks
it holds. The next chunk of a file needs the parser position of the one before, so a file is
read ahead one chunk at a time; the first chunks of the next files start from their saved
state, so FILES_AHEAD of them are queued (small files are the usual case), and the worker
goes from one to the next without waiting. One worker: a second one made the parse 35% dearer in CPU
(the GIL and the shared cores) for 5% less wall time. At most IN_FLIGHT chunks are read
ahead, so memory stays flat. The worker lives for one pass of the receiver; file I/O stays
on the receiver's thread (an SMB session is not shared).
"""

from __future__ import annotations

import collections
import dataclasses
import queue
import threading
from typing import TYPE_CHECKING, Any

from edge.pipeline.parsing import Position
from edge.pipeline.receivers.filecore.filestate import FileState
from edge.pipeline.receivers.filecore.progress import resource_of
from edge.pipeline.receivers.filecore.settle import Readiness
from edge.pipeline.receivers.filecore.source import SourceError

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.chunks import ChunkReader
    from edge.pipeline.receivers.filecore.source import FileEntry, FileSource, OpenFile
    from edge.pipeline.receivers.filecore.streams import StreamSetup

WORKERS = 1
FILES_AHEAD = 2
IN_FLIGHT = 3


@dataclasses.dataclass(eq=False)
class _Job:
    window: tuple  # (resource, offset, limit, limit is a record end, chunk size): how `data` was read
    data: bytes
    parser: Any
    position: dict[str, Any]
    at_start: bool
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    parsed: Any = None  # None: the parse failed; the receiver parses again and sees why


class ReadAhead:
    """The worker that parses chunks read ahead, and the chunks it has, by window."""

    def __init__(self):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._jobs: collections.OrderedDict[tuple, _Job] = collections.OrderedDict()  # by window, oldest first

    def start(self, name: str) -> None:
        self._threads = [threading.Thread(target=self._run, name=f"readahead-{name}-{i}", daemon=True)
                         for i in range(WORKERS)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._jobs.clear()

    def has(self, window: tuple) -> bool:
        return window in self._jobs

    def submit(self, window: tuple, data: bytes, parser, position: dict[str, Any], at_start: bool) -> None:
        """Starts parsing a chunk the receiver will probably take soon."""
        if not self._threads or not data or window in self._jobs:
            return
        while len(self._jobs) >= IN_FLIGHT:
            self._jobs.popitem(last=False)  # a guess that did not come true
        job = self._jobs[window] = _Job(window, data, parser, position, at_start)
        self._queue.put(job)

    def window(self, window: tuple) -> bytes | None:
        """The bytes read ahead for exactly this window, if any."""
        job = self._jobs.get(window)
        return job.data if job is not None else None

    def _job_of(self, data: bytes) -> _Job | None:
        return next((job for job in self._jobs.values() if job.data is data), None)

    def parsed(self, data: bytes, parser, position: dict[str, Any], at_start: bool):
        """The workers' parse of exactly this chunk, or None."""
        job = self._job_of(data)
        if job is None or job.parser is not parser or job.position != position or job.at_start != at_start:
            return None
        job.done.wait()
        self._jobs.pop(job.window, None)
        return job.parsed

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                job.parsed = job.parser.parse(job.data, Position.from_json(job.position), job.at_start)
            except Exception:  # noqa: BLE001 - the receiver parses it again and handles the error
                job.parsed = None
            finally:
                job.done.set()


class ChunksAhead:
    """Which chunks the receiver reads ahead: the next one of the file it is at, then the
    first ones of the files after it."""

    def __init__(self, chunks: ChunkReader):
        self._chunks = chunks
        self._read_ahead = chunks.read_ahead

    def in_file(self, handle: OpenFile, stream: StreamSetup, resource: str, state: FileState, offset: int,
                size: int, settled: bool, position: dict[str, Any]) -> None:
        """Reads the chunk that will follow at `offset` and has it parsed."""
        if state.replay is not None and state.replay.start == offset:
            return  # that chunk is the ledger's, read exactly as it was
        window = self._chunks.window(resource, state, offset, size, settled)
        if self._read_ahead.has(window):
            return
        parser = stream.flow.parser
        data = self._chunks.read_records(handle, parser, offset, window[2], window[3])
        self._read_ahead.submit(window, data, parser, position, offset == 0)

    def in_next_files(self, source: FileSource, stream: StreamSetup, later: list[FileEntry],
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
            resource = resource_of(source, entry.path)
            settled = ready is Readiness.SETTLED
            if self._read_ahead.has(self._chunks.window(resource, state, state.offset, entry.size, settled)):
                continue
            try:
                handle = source.open(entry.path)
            except SourceError:
                return
            try:
                self.in_file(handle, stream, resource, state, state.offset, entry.size, settled, state.position)
            except SourceError:
                return
            finally:
                handle.close()
