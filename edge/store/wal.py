"""The write-ahead log of one tag table: one durable write per batch.

An append is one record (header + payload, both checksummed) written to the current segment
and made durable with one fdatasync; only then is the batch acknowledged. The column files
behind it are written without syncing and made durable later, at a checkpoint, which records
the committed lengths in the catalog and then drops the segments it covered.

Segments are preallocated (`wal.<number>`), so a record's fdatasync does not also have to
journal a growing file size. They are written with O_DIRECT where the file system allows it:
the log is written once and read only by recovery, so passing it through the page cache
would only cost a copy into freshly allocated cache pages and push useful pages out. Direct
writes need aligned memory, offsets and lengths, so records are gathered in a page-aligned
staging buffer and each sync writes what it holds padded with zeros to a 4 KiB boundary;
the next record starts there. (Where O_DIRECT is refused, records go through the page cache
as written and the padding is not needed.)

Recovery reads every segment in order and stops inside a segment at the first record that
is incomplete or fails its checksum (after a record it looks for the next one right behind
it, then at the next 4 KiB boundary): that is the torn tail of a write that was never
acknowledged. A batch that failed after its record was written is
cancelled by an ABORT record, so replay skips it. A keyed append (KIND_APPEND_KEYED) carries
its batch key in the same record, so the key is durable exactly when the rows are; a
KIND_APPEND_SHARED record writes a time array that several tags share only once.
"""

from __future__ import annotations

import dataclasses
import errno
import mmap
import os
import struct
import zlib
from pathlib import Path

MAGIC = b"EWAL"
HEADER = struct.Struct("<4sHHQQII")  # magic, kind, reserved, seq, payload bytes, payload crc, header crc
KIND_APPEND = 1
KIND_ABORT = 2
KIND_APPEND_KEYED = 3  # an append carrying its batch key (edge.store.batch_keys)
KIND_APPEND_SHARED = 4  # an append whose tags share time arrays, written once (edge.store.batch)
SEGMENT_BYTES = 64 << 20
ALIGN = 4096  # direct I/O granularity: a multiple of every common logical block size
STAGE_BYTES = 4 << 20  # the staging buffer of direct writes; longer records pass through it in parts
_PREFIX = "wal."


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


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
    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES, direct: bool = True):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = _aligned(segment_bytes)
        self._fd: int | None = None
        self._number = max(self.segment_numbers(), default=0)
        self._offset = 0  # end of what has been handed to the file system
        self._size = 0
        self._unsynced = False  # this segment holds writes no fdatasync has covered yet
        self._want_direct = direct and hasattr(os, "O_DIRECT")
        self._stage: mmap.mmap | None = None  # set while the current segment is written directly
        self._staged = 0  # bytes in the staging buffer, to be written at _offset
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
                while True:
                    record = _read_record(handle, offset, size)
                    if record is None and _aligned(offset) != offset:  # the padding of a direct write
                        offset = _aligned(offset)
                        record = _read_record(handle, offset, size)
                    if record is None:
                        break
                    kind, seq, length, payload = record
                    start = offset + HEADER.size
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
        self._close_segment()
        self._number += 1
        path = self._path(self._number)
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL
        fd = None
        if self._want_direct:
            try:
                fd = os.open(path, flags | os.O_DIRECT, 0o644)
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: this file system has no direct I/O
                    raise
                self._want_direct = False
        if fd is None:
            fd = os.open(path, flags, 0o644)
        size = max(self.segment_bytes, _aligned(min_bytes))
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
        self._fd, self._offset, self._size = fd, 0, size
        if self._want_direct and self._stage is None:
            self._stage = mmap.mmap(-1, STAGE_BYTES)  # page-aligned, as direct I/O wants
        self._staged = 0

    def _close_segment(self) -> None:
        """Leaves the current segment: what it holds is written and synced first, since an
        append group may have records on both sides of a segment boundary."""
        if self._fd is None:
            return
        try:
            if self._staged or self._unsynced:
                self.sync()
        finally:
            os.close(self._fd)
            self._fd = None
            self._staged = 0

    @property
    def _direct(self) -> bool:
        return self._want_direct and self._stage is not None

    def write(self, kind: int, seq: int, buffers: list) -> None:
        """Adds one record (not yet durable: call `sync`). OSError leaves the log usable:
        the caller cancels the record with `abort`, which continues in a fresh segment."""
        head = _header(kind, seq, buffers)
        total = len(head) + sum(memoryview(b).nbytes for b in buffers)
        if self._fd is None or _aligned(self._offset + self._staged + total) > self._size:
            self._open_segment(total)
        self.bytes_written += total
        self._unsynced = True
        if self._direct:
            for buf in (head, *buffers):
                self._stage_bytes(memoryview(buf).cast("B"))
            return
        written = os.pwritev(self._fd, [head, *buffers], self._offset)
        if written != total:
            raise _short_write(written, total)
        self._offset += total

    def _stage_bytes(self, view: memoryview) -> None:
        while len(view):
            if self._staged == STAGE_BYTES:
                self._write_stage()
            n = min(STAGE_BYTES - self._staged, len(view))
            self._stage[self._staged:self._staged + n] = view[:n]
            self._staged += n
            view = view[n:]

    def _write_stage(self) -> None:
        """Writes the staging buffer at the end of the segment, padded to a 4 KiB boundary."""
        if not self._staged:
            return
        padded = _aligned(self._staged)
        self._stage[self._staged:padded] = bytes(padded - self._staged)
        written = os.pwrite(self._fd, memoryview(self._stage)[:padded], self._offset)
        if written != padded:
            raise _short_write(written, padded)
        self._offset += padded
        self._staged = 0

    def sync(self) -> None:
        """Makes every record added so far durable (writing staged ones first)."""
        self._write_stage()
        os.fdatasync(self._fd)
        self._unsynced = False

    def abort(self, seqs: list[int]) -> None:
        """Cancels records durably; the current segment, which may hold garbage after a failed
        write, is left behind and writing goes on in a new one."""
        self._discard_segment()
        self._open_segment(0)
        for seq in seqs:
            self.write(KIND_ABORT, seq, [struct.pack("<Q", seq)])
        self.sync()

    def _discard_segment(self) -> None:
        """Closes the current segment without writing what is staged (a failed group's)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._staged = 0
        self._unsynced = False

    def seal(self) -> int:
        """Ends the current segment (the next write starts a new one, so an idle table keeps
        none); returns the number of the last segment holding records written so far."""
        sealed = self._number
        self._close_segment()
        self.bytes_written = 0
        return sealed

    def drop_through(self, number: int) -> None:
        """Deletes the segments up to `number`, whose records a checkpoint has made redundant."""
        for old in self.segment_numbers():
            if old <= number:
                self._path(old).unlink(missing_ok=True)

    def close(self, remove: bool = False) -> None:
        self._discard_segment()
        if self._stage is not None:
            self._stage.close()
            self._stage = None
        if remove:
            for number in self.segment_numbers():
                self._path(number).unlink(missing_ok=True)


def _short_write(written: int, wanted: int) -> OSError:
    """A write to a regular file stops short when the file system has no room left."""
    return OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (short write to the write-ahead log, "
                                 f"{written} of {wanted} bytes)")


def _read_record(handle, offset: int, size: int) -> tuple[int, int, int, bytes] | None:
    """(kind, seq, payload length, payload) of an intact record at `offset`, else None."""
    if offset + HEADER.size > size:
        return None
    handle.seek(offset)
    raw = handle.read(HEADER.size)
    magic, kind, _, seq, length, crc, head_crc = HEADER.unpack(raw)
    if magic != MAGIC or zlib.crc32(raw[:-4]) != head_crc:
        return None
    if offset + HEADER.size + length > size:
        return None
    payload = handle.read(length)
    if len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return kind, seq, length, payload
