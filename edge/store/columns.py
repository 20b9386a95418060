"""One column file of one tag: a flat array of fixed-size items, appended with pwrite, read
through a numpy memmap.

The file grows in chunks (ftruncate: sparse, so the chunk costs no disk until written) so the
reader's map stays valid for many appends. The disk blocks for rows an append is about to
acknowledge are allocated first (`allocate`, before the batch is logged): a full disk then
fails the append, never the later write of acknowledged rows to this file. Rows below the
published length never change, so a map taken by a reader stays correct while the writer
appends; a rewrite (delete) goes to a new file of the next generation and the old one is
only unlinked, never shrunk under a live map.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

MIN_CHUNK_BYTES = 64 << 10
MAX_CHUNK_BYTES = 64 << 20
SYNCFS_THRESHOLD = 256
PAGE = 4096
MAX_ALLOCATION_SLACK = 8 << 20  # allocated ahead of need: as much as the file holds, at most this
_IOV_BATCH = 512  # buffers per pwritev, below every system's IOV_MAX (1024 on Linux)


class ColumnFile:
    __slots__ = ("path", "dtype", "itemsize", "capacity", "allocated", "_fd", "_map", "_map_rows")

    def __init__(self, path: Path, dtype: np.dtype):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.itemsize = self.dtype.itemsize
        self._fd: int | None = None
        self._map: np.ndarray | None = None
        self._map_rows = 0
        self.allocated = 0  # rows whose blocks this object has allocated (below: written, or allocated)
        try:
            self.capacity = os.stat(self.path).st_size // self.itemsize
        except FileNotFoundError:
            self.capacity = 0

    # ---- writer side (under the table's commit lock) ----------------------------------------

    def fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def allocate(self, written_rows: int, rows: int) -> None:
        """Makes sure disk blocks exist for rows [written_rows, rows) (the rows below were
        written or allocated before), with some slack so most appends need no call; OSError
        (ENOSPC) when the disk has no room. Under the table's commit lock; a file descriptor of
        its own, since the flusher may be using the shared one."""
        if rows <= self.allocated:
            return
        start = max(self.allocated, written_rows) * self.itemsize
        need = rows * self.itemsize
        # Doubling (up to MAX_ALLOCATION_SLACK at a time): a few calls per tag, and at most
        # about as much allocated ahead as the tag holds.
        ahead = min(max(self.allocated * self.itemsize, PAGE), MAX_ALLOCATION_SLACK)
        end = -(-max(need, self.allocated * self.itemsize + ahead) // PAGE) * PAGE
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.posix_fallocate(fd, start, end - start)
        finally:
            os.close(fd)
        self.allocated = end // self.itemsize
        self.capacity = max(self.capacity, self.allocated)

    def reserve(self, rows: int) -> None:
        """Makes the file at least `rows` long, growing by a chunk proportional to its size."""
        if rows <= self.capacity:
            return
        current = self.capacity * self.itemsize
        chunk = min(max(MIN_CHUNK_BYTES, current // 2), MAX_CHUNK_BYTES)
        new_rows = max(rows, (current + chunk) // self.itemsize)
        os.ftruncate(self.fd(), new_rows * self.itemsize)
        self.capacity = new_rows

    def write_rows(self, row: int, end: int, values: np.ndarray) -> None:
        """Writes `values` (contiguous, this column's dtype) as rows [row, end)."""
        if end > self.capacity:
            self.reserve(end)
        fd = self._fd if self._fd is not None else self.fd()
        if os.pwrite(fd, values, row * self.itemsize) != (end - row) * self.itemsize:
            raise OSError(f"short write to {self.path.name}")

    def write_pieces(self, row: int, end: int, pieces: list[np.ndarray]) -> None:
        """Writes the pieces (contiguous, this column's dtype) one after another as rows
        [row, end), gathered by the kernel (pwritev) rather than copied together first."""
        if end > self.capacity:
            self.reserve(end)
        fd = self._fd if self._fd is not None else self.fd()
        at = row * self.itemsize
        for first in range(0, len(pieces), _IOV_BATCH):
            part = pieces[first:first + _IOV_BATCH]
            size = sum(piece.nbytes for piece in part)
            if os.pwritev(fd, part, at) != size:
                raise OSError(f"short write to {self.path.name}")
            at += size

    def write(self, row: int, values: np.ndarray) -> None:
        data = memoryview(values).cast("B")
        written = os.pwrite(self.fd(), data, row * self.itemsize)
        if written != data.nbytes:
            raise OSError(f"short write to {self.path.name}")

    def create_from(self, values: np.ndarray, sync: bool = True) -> None:
        """Writes a whole new file (a run's permutation), synced unless the caller syncs later."""
        fd = self.fd()
        os.ftruncate(fd, 0)
        if len(values):
            self.write(0, np.ascontiguousarray(values, dtype=self.dtype))
        if sync:
            os.fsync(fd)
        self.capacity = len(values)

    def copy_kept(self, source: np.ndarray, keep: np.ndarray, chunk_rows: int) -> int:
        """Writes the rows of `source` where `keep` is true (a delete's rewrite), chunk by chunk
        so a big tag never sits in memory; syncs; returns the rows written."""
        fd = self.fd()
        os.ftruncate(fd, 0)
        written = 0
        for start in range(0, len(source), chunk_rows):
            part = np.ascontiguousarray(source[start:start + chunk_rows][keep[start:start + chunk_rows]])
            if len(part):
                self.write(written, part)
                written += len(part)
        os.fsync(fd)
        self.capacity = written
        return written

    def truncate(self, rows: int) -> None:
        """Cuts the file to `rows` (recovery: whatever lies past the committed length goes)."""
        size = os.stat(self.path).st_size if self.path.exists() else -1
        if size < rows * self.itemsize:
            raise RuntimeError(f"{self.path} holds {max(size, 0)} bytes, fewer than the "
                               f"{rows} committed rows need; the data directory is damaged")
        os.truncate(self.path, rows * self.itemsize)
        self.capacity = rows
        self._map = None
        self._map_rows = 0

    # ---- reader side ------------------------------------------------------------------------

    def view(self, rows: int) -> np.ndarray:
        """The first `rows` items, mapped read-only (an empty array when there are none)."""
        if rows <= 0:
            return np.empty(0, dtype=self.dtype)
        mapped, mapped_rows = self._map, self._map_rows
        if mapped is None or mapped_rows < rows:
            size_rows = os.stat(self.path).st_size // self.itemsize
            # A plain array over the mapping (its base keeps the map alive): slices of a memmap
            # run numpy's Python-level memmap hooks on every slice and take.
            mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=(size_rows,)).view(np.ndarray)
            mapped_rows = size_rows
            self._map, self._map_rows = mapped, mapped_rows
        return mapped[:rows]

    def drop_map(self) -> None:
        self._map = None
        self._map_rows = 0

    @property
    def has_map(self) -> bool:
        return self._map is not None

    def disk_bytes(self) -> int:
        try:
            return os.stat(self.path).st_blocks * 512
        except FileNotFoundError:
            return 0


def sync_directory(directory: Path) -> None:
    """Makes the directory's entries (files created since) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(directory: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(directory, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)
    return True


def sync_files(paths, directory: Path) -> None:
    """Makes the files durable: one fsync each, or one syncfs of the whole file system when
    there are so many (thousands of tags) that syncing them one by one would take longer."""
    paths = list(paths)
    if len(paths) > SYNCFS_THRESHOLD and _syncfs(directory):
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # gone since (its table dropped): nothing left to make durable
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
