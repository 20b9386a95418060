"""Segment files: an outbox's queue on disk, as checksummed frames appended one batch at a time.

A segment is `seg-<number>.log`; numbers grow, so the oldest segment is the first. A frame is
a 12-byte header (meta length, data length, crc32 of both; little-endian uint32) then the meta
JSON (batch id, key, stream, record count, time range) and the data (the records, see
`encoding`). An
append is one write then fdatasync; a crash can leave a torn frame at the end of the newest
segment, which opening cuts off (it was never acknowledged). A segment is removed whole once
everything in it is sent (or dropped at the bound).
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HEADER = struct.Struct("<III")
PREFIX = "seg-"
SUFFIX = ".log"


@dataclasses.dataclass
class Frame:
    offset: int  # where the frame's header starts in its segment
    end: int  # just past the frame
    meta: dict[str, Any]
    data_offset: int
    data_length: int
    data: bytes | None = None  # read when checked
    damaged: bool = False  # whole, but its checksum does not match: a disk fault or a torn last append


def segment_name(number: int) -> str:
    return f"{PREFIX}{number:012d}{SUFFIX}"


def segment_numbers(folder: Path) -> list[int]:
    numbers = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        digits = path.name[len(PREFIX):-len(SUFFIX)]
        if digits.isdigit():
            numbers.append(int(digits))
    return sorted(numbers)


def frame_bytes(meta: dict[str, Any], data: bytes) -> bytes:
    head = json.dumps(meta, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(head), len(data), zlib.crc32(data, zlib.crc32(head))) + head + data


def read_frames(path: Path, start: int = 0, stop: int | None = None, check: bool = True) -> Iterator[Frame]:
    """The whole frames of a segment from `start` up to `stop` (its size when None), ending at
    the first torn one. With `check`, each frame's data is read and its checksum checked: a
    mismatch is a `damaged` frame (when its meta still reads) and the reading goes on."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size if stop is None else stop
        offset = start
        handle.seek(offset)
        while offset + HEADER.size <= size:
            meta_length, data_length, crc = HEADER.unpack(handle.read(HEADER.size))
            end = offset + HEADER.size + meta_length + data_length
            if end > size:
                return
            head = handle.read(meta_length)
            data = None
            if check:
                data = handle.read(data_length)
            else:
                handle.seek(data_length, os.SEEK_CUR)
            try:
                meta = json.loads(head)
            except ValueError:
                return
            damaged = data is not None and zlib.crc32(data, zlib.crc32(head)) != crc
            yield Frame(offset, end, meta, offset + HEADER.size + meta_length, data_length, data, damaged)
            offset = end


def fsync_folder(folder: Path) -> None:
    """Makes a file created or removed in `folder` survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, payload: bytes) -> None:
    """Replaces `path` by `payload` all or nothing, durably."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
