"""Chunk intents: each chunk's byte range, batch key and parser position, committed before the
chunk goes to the historian.

The batch key is derived from the receiver, the stream, the file, the offset, the chunk's
bytes and the parser/transform configuration. A crash after the intent replays that very
chunk under that key, and the historian skips a key it has stored (see `filestate`). A chunk
the historian has had already (before a restream, see `HistorianLedger`) gets key "" and no
intent: it stores nothing, so there is nothing to replay.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from edge.pipeline.receivers.filecore.filestate import HEAD_BYTES, FileState, PendingChunk, chunk_digest, \
    head_digest

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.chunks import ChunkReader
    from edge.pipeline.receivers.filecore.progress import FileProgress
    from edge.pipeline.receivers.filecore.source import FileEntry, OpenFile
    from edge.pipeline.receivers.filecore.streams import StreamSetup

Chunk = tuple[bytes, PendingChunk]


class ChunkIntents:
    """Hands out a file's next chunk with its intent on disk."""

    def __init__(self, receiver: str, chunks: ChunkReader, progress: FileProgress):
        self._receiver = receiver
        self._chunks = chunks
        self._progress = progress

    def next_chunk(self, handle: OpenFile, stream: StreamSetup, entry: FileEntry, state: FileState,
                   resource: str, settled: bool) -> Chunk | None:
        """The next chunk of whole records with its intent committed, or None when none is ready."""
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
        data = self._chunks.whole_records(handle, stream.flow.parser, resource, state.offset,
                                          state.taken if had else entry.size, had or settled)
        if not data:
            return None
        if had:
            pending = PendingChunk(state.offset, state.offset + len(data), "", state.position)
        else:
            key, digest = self.batch_key(stream, resource, state.offset, data)
            pending = PendingChunk(state.offset, state.offset + len(data), key, state.position, digest)
        state.pending = pending
        if state.offset == 0:
            state.head_length = min(len(data), HEAD_BYTES)
            state.head = head_digest(data)
        if not had:
            self._progress.save(stream, resource, state)  # the intent, committed before anything is stored
        return data, pending

    def _replayed_chunk(self, handle: OpenFile, stream: StreamSetup, resource: str, entry: FileEntry,
                        state: FileState) -> Chunk | None:
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
        self._progress.save(stream, resource, state)
        return data, pending

    def batch_key(self, stream: StreamSetup, resource: str, offset: int, data: bytes) -> tuple[str, str]:
        """(batch key, digest of the chunk's bytes)."""
        digest = chunk_digest(data)  # here, not on the parse worker: this thread has time to spare
        key = hashlib.blake2b(digest_size=16)
        for part in (self._receiver, stream.asset, stream.stream_type, resource, str(offset), stream.flow.digest,
                     digest):
            key.update(part.encode("utf-8"))
            key.update(b"\0")
        return key.hexdigest(), digest
