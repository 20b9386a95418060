"""The write-ahead log of one tag table: one durable write per batch.

An append is one record (header + payload, both checksummed) written to the current segment
and made durable with one fdatasync; only then is the batch acknowledged. The column files
behind it are written without syncing and made durable later, at a checkpoint, which records
the committed lengths in the catalog and then drops the segments it covered.

Segments are preallocated (`wal.<number>`), so a record's fdatasync does not also have to
journal a growing file size. Recovery reads every segment in order and stops inside a segment
at the first record that is incomplete or fails its checksum: that is the torn tail of a
write that was never acknowledged. A batch that failed after its record was written is
cancelled by an ABORT record, so replay skips it. A keyed append (KIND_APPEND_KEYED) carries
its batch key in the same record, so the key is durable exactly when the rows are; a
KIND_APPEND_SHARED record writes a time array that several tags share only once.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import struct
import threading
import zlib
from pathlib import Path

MAGIC = b"EWAL"
HEADER = struct.Struct("<4sHHQQII")  # magic, kind, reserved, seq, payload bytes, payload crc, header crc
KIND_APPEND = 1
KIND_ABORT = 2
KIND_APPEND_KEYED = 3  # an append carrying its batch key (edge.store.batch_keys)
KIND_APPEND_SHARED = 4  # an append whose tags share time arrays, written once (edge.store.batch)
SEGMENT_BYTES = 64 << 20
_PREFIX = "wal."


@dataclasses.dataclass(frozen=True)
class RecordRef:
    kind: int
    seq: int
    segment: int
    offset: int  # of the payload
    length: int


def _header(kind: int, seq: int, buffers) -> bytes:
    crc = 0
    length = 0
    for buf in buffers:
        view = memoryview(buf).cast("B")
        crc = zlib.crc32(view, crc)
        length += view.nbytes
    head = struct.pack("<4sHHQQI", MAGIC, kind, 0, seq, length, crc)
    return head + struct.pack("<I", zlib.crc32(head))


class WriteAheadLog:
    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._fd: int | None = None
        self._number = max(self.segment_numbers(), default=0)
        self._offset = 0
        self._size = 0
        self.bytes_written = 0  # since the last seal, for the checkpoint trigger

    def segment_numbers(self) -> list[int]:
        numbers = []
        for path in self.directory.glob(_PREFIX + "*"):
            suffix = path.name[len(_PREFIX):]
            if suffix.isdigit():
                numbers.append(int(suffix))
        return sorted(numbers)

    def _path(self, number: int) -> Path:
        return self.directory / f"{_PREFIX}{number:010d}"

    # ---- recovery -----------------------------------------------------------------------

    def scan(self) -> list[RecordRef]:
        """Every intact record of every segment, in order; aborted appends left out."""
        found: list[RecordRef] = []
        aborted: set[int] = set()
        for number in self.segment_numbers():
            with open(self._path(number), "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                offset = 0
                while offset + HEADER.size <= size:
                    handle.seek(offset)
                    raw = handle.read(HEADER.size)
                    magic, kind, _, seq, length, crc, head_crc = HEADER.unpack(raw)
                    if magic != MAGIC or zlib.crc32(raw[:-4]) != head_crc:
                        break
                    start = offset + HEADER.size
                    if start + length > size:
                        break
                    payload = handle.read(length)
                    if len(payload) != length or zlib.crc32(payload) != crc:
                        break
                    if kind == KIND_ABORT:
                        aborted.add(struct.unpack("<Q", payload)[0])
                    else:
                        found.append(RecordRef(kind, seq, number, start, length))
                    offset = start + length
        return [r for r in found if r.seq not in aborted]

    def read(self, ref: RecordRef) -> bytes:
        with open(self._path(ref.segment), "rb") as handle:
            handle.seek(ref.offset)
            return handle.read(ref.length)

    # ---- writing ------------------------------------------------------------------------

    def _open_segment(self, min_bytes: int) -> None:
        self._number += 1
        path = self._path(self._number)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        size = max(self.segment_bytes, min_bytes)
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError:
            size = 1 << 62  # no preallocation here: the file simply grows
        os.fsync(fd)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._offset, self._size = fd, 0, size

    def write(self, kind: int, seq: int, buffers: list) -> None:
        """Writes one record (not yet durable: call `sync`). OSError leaves the log usable:
        the caller cancels the record with `abort`, which continues in a fresh segment."""
        head = _header(kind, seq, buffers)
        total = len(head) + sum(memoryview(b).nbytes for b in buffers)
        if self._fd is None or self._offset + total > self._size:
            self._open_segment(total)
        written = os.pwritev(self._fd, [head, *buffers], self._offset)
        if written != total:
            raise OSError(f"short write to the write-ahead log ({written} of {total} bytes)")
        self._offset += total
        self.bytes_written += total

    @property
    def fd(self) -> int:
        return self._fd

    def sync(self) -> None:
        os.fdatasync(self._fd)

    def abort(self, seqs: list[int]) -> None:
        """Cancels records durably; the current segment, which may hold garbage after a failed
        write, is left behind and writing goes on in a new one."""
        self._open_segment(0)
        for seq in seqs:
            self.write(KIND_ABORT, seq, [struct.pack("<Q", seq)])
        self.sync()

    def seal(self) -> int:
        """Ends the current segment (the next write starts a new one, so an idle table keeps
        none); returns the number of the last segment holding records written so far."""
        sealed = self._number
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.bytes_written = 0
        return sealed

    def drop_through(self, number: int) -> None:
        """Deletes the segments up to `number`, whose records a checkpoint has made redundant."""
        for old in self.segment_numbers():
            if old <= number:
                self._path(old).unlink(missing_ok=True)

    def close(self, remove: bool = False) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if remove:
            for number in self.segment_numbers():
                self._path(number).unlink(missing_ok=True)


class PendingSync:
    __slots__ = ("done", "error")

    def __init__(self):
        self.done = threading.Event()
        self.error: OSError | None = None

    def wait(self) -> None:
        self.done.wait()
        if self.error is not None:
            raise self.error


class BackgroundSync:
    """Runs a log's fdatasync on its own thread, so the batch is applied to the column files
    while the disk works; the batch is published only once the sync has succeeded."""

    def __init__(self, name: str):
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            fd, pending = self._requests.get()
            if pending is None:
                return
            try:
                os.fdatasync(fd)
            except OSError as exc:
                pending.error = exc
            pending.done.set()

    def start(self, fd: int) -> PendingSync:
        pending = PendingSync()
        self._requests.put((fd, pending))
        return pending

    def stop(self) -> None:
        self._requests.put((None, None))
        self._thread.join(timeout=10)
