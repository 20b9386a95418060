"""Chunks: a file is read in pieces of whole records, so every piece parses on its own.

A chunk is at most `chunk_bytes` long and ends at a record end the parser finds; a record
longer than that doubles the read until it fits (up to MAX_CHUNK_BYTES, where the parser cuts
anyway). Where a record ends at `end` (a settled file's end, or how far the historian has had
the file), the chunk may end there without the parser finding a line end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.filestate import FileState
    from edge.pipeline.receivers.filecore.readahead import ReadAhead
    from edge.pipeline.receivers.filecore.source import OpenFile

CHUNK_BYTES = 4 << 20  # bytes read at a time; a record longer than this doubles it
MAX_CHUNK_BYTES = 256 << 20

# What a chunk is read as: (resource, offset, end, a record ends at end, chunk size). The
# read-ahead files its work under it, so a chunk read ahead is taken only for exactly this read.
Window = tuple[str, int, int, bool, int]


class ChunkReader:
    """Reads the chunks of whole records of a file, taking those read ahead when they match."""

    def __init__(self, read_ahead: ReadAhead, chunk_bytes: int = CHUNK_BYTES):
        self.read_ahead = read_ahead
        self.chunk_bytes = chunk_bytes

    def window(self, resource: str, state: FileState, offset: int, size: int, settled: bool) -> Window:
        """What `whole_records` will be asked for at `offset` of a file of `size` bytes: chunks
        end at `taken`, which was a record end, so what the historian had stays apart."""
        if offset < state.taken:
            return resource, offset, state.taken, True, self.chunk_bytes
        return resource, offset, size, settled, self.chunk_bytes

    def whole_records(self, handle: OpenFile, parser, resource: str, offset: int, end: int,
                      end_is_boundary: bool) -> bytes:
        """The bytes of whole records from `offset` up to at most `end` (empty: none yet).
        `end_is_boundary`: a record ends at `end` (the end of a settled file, or `taken`)."""
        read = self.read_ahead.window((resource, offset, end, end_is_boundary, self.chunk_bytes))
        if read is not None:
            return read
        return self.read_records(handle, parser, offset, end, end_is_boundary)

    def read_records(self, handle: OpenFile, parser, offset: int, end: int, end_is_boundary: bool) -> bytes:
        """`whole_records` read from the file itself."""
        size = self.chunk_bytes
        while True:
            window = handle.read_at(offset, min(size, end - offset))
            at_end = end_is_boundary and offset + len(window) >= end
            largest = size >= MAX_CHUNK_BYTES
            cut = parser.record_end(window, offset == 0, at_end, force=largest)
            if cut or at_end or len(window) < size or largest:
                return window[:cut]
            size *= 2  # one record longer than the window
