"""One transmit's outbox: a durable, bounded queue of record batches, sent in order.

Files in the outbox's folder:

- `seg-<n>.log`: the queued batches (see `segments`), oldest segment first; a segment is
  removed whole once every batch in it is sent, or dropped at the bound;
- `cursor.json`: how far sending got (segment, frame offset, records of that frame already
  sent) with the send counters, rewritten in place after every confirmed send. It is not
  synced: a kill -9 keeps it (the kernel has it), and a power cut that loses it only makes
  the oldest queued batches go again, so a send does not wait for the disk;
- `keys.log`: batch keys of removed segments, so a batch replayed after a crash is not queued
  again though its first copy is already sent (the newest KEPT_KEYS keys count);
- `losses.json`: what the bound dropped, per stream (records, first and last record time).

Appends are idempotent per batch key: a key among the newest KEPT_KEYS queued is skipped, as
the historian skips a key it stored (a receiver replays only the batch it was storing when it
crashed, so recent keys are enough). A batch with the empty key (a restream of records the
historian had) is always queued: the cloud gets a restream again, as in FactoryTX.

Bound: when the segments hold more than `max_bytes`, the oldest segments are dropped whole
until they fit (the segment being written stays), and the records they held unsent are
added to the loss record and reported through `on_loss` (an error marker of the transmit on
each stream). Nothing else drops a record, but a disk fault: a batch whose bytes no longer
decode is skipped and reported the same way.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.catalog.database import utc_timestamp
from edge.errors import STORAGE_FAILURE, EdgeError
from edge.pipeline.batch import RecordBatch
from edge.pipeline.outbox.encoding import decode_batch, encode_batch, piece
from edge.pipeline.outbox.segments import (fsync_folder, frame_bytes, read_frames, segment_name, segment_numbers,
                                           write_atomically)

log = logging.getLogger("edge.pipeline.outbox")

KEPT_KEYS = 10_000
MIN_SEGMENT_BYTES = 64 * 1024
MAX_SEGMENT_BYTES = 8 * 1024 * 1024
CURSOR_FILE = "cursor.json"
CURSOR_BYTES = 512
KEYS_FILE = "keys.log"
LOSSES_FILE = "losses.json"

Cursor = tuple[int, int, int]  # (segment number, frame offset, records of that frame sent)
# on_loss(asset, stream_type, {"records", "first", "last"}) with the stream's losses so far.
OnLoss = Callable[[str, str, dict[str, Any]], None]


@dataclasses.dataclass
class Segment:
    """What a segment file holds, kept in memory so appends and status never read it."""

    number: int
    size: int = 0
    records: int = 0
    oldest: int | None = None  # least record time (ns) in it
    keys: list[str] = dataclasses.field(default_factory=list)
    streams: dict[tuple[str, str], list] = dataclasses.field(default_factory=dict)  # -> [records, t0, t1]

    def add(self, meta: dict[str, Any], length: int) -> None:
        self.size += length
        self.records += meta["n"]
        if meta.get("key"):
            self.keys.append(meta["key"])
        _tally(self.streams, meta, meta["n"])
        if meta.get("t0") is not None and (self.oldest is None or meta["t0"] < self.oldest):
            self.oldest = meta["t0"]


@dataclasses.dataclass
class Take:
    """Records read for one send: the pieces in queue order and where the cursor goes after."""

    pieces: list[dict[str, Any]]
    records: int
    start: Cursor
    end: Cursor
    records_in_end_segment: int
    payload: Any = None  # what the transmit made of the pieces to send them (see OutboxSender.prepare)


class Outbox:
    def __init__(self, folder: Path, name: str, max_bytes: int, on_loss: OnLoss | None = None):
        self.folder = folder
        self.name = name  # the transmit's name, for messages
        self.max_bytes = max_bytes
        self.segment_bytes = max(MIN_SEGMENT_BYTES, min(MAX_SEGMENT_BYTES, max_bytes // 8))
        self._on_loss = on_loss
        self._lock = threading.Lock()
        self._segments: dict[int, Segment] = {}  # in number order
        self._keys: collections.deque[str] = collections.deque()
        self._key_set: set[str] = set()
        self._write_fd: int | None = None
        self._cursor_fd: int | None = None
        self._write_number: int | None = None
        self._cursor: Cursor = (0, 0, 0)
        self._head_sent = 0  # records of the first segment already sent
        self._sent = {"records_sent": 0, "last_success": None}
        self._error: dict[str, Any] = {"last_error": None, "last_error_time": None}
        self._losses: dict[str, dict[str, Any]] = {}
        # The last batch a take decoded, (segment number, frame, decoded data): a batch larger
        # than a request is sent over several takes, read, checked and decoded once.
        self._last_read: tuple[int, Any, dict[str, Any]] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self._open()

    # -- appending (receiver threads) -------------------------------------------------------

    def append(self, batch: RecordBatch, key: str) -> int:
        """Queues `batch` durably; returns its records, or 0 when `key` was queued before."""
        if key and key in self._key_set:
            return 0
        meta, data = encode_batch(batch)
        meta = {"id": key or uuid.uuid4().hex, "key": key, **meta}
        blob = frame_bytes(meta, data)
        with self._lock:
            if key and key in self._key_set:
                return 0
            fd, segment = self._writable()
            try:
                _write_all(fd, blob)
                os.fdatasync(fd)
            except OSError as exc:
                _truncate_quietly(fd, segment.size)
                raise EdgeError(STORAGE_FAILURE, f"the outbox of transmit {self.name!r} cannot queue the batch: "
                                                 f"{exc}") from exc
            segment.add(meta, len(blob))
            if key:
                self._remember(key)
            self._enforce_bound()
        return meta["n"]

    def _writable(self) -> tuple[int, Segment]:
        segment = self._segments.get(self._write_number) if self._write_number is not None else None
        if segment is None or segment.size >= self.segment_bytes:
            self._close_writer()
            numbers = list(self._segments) + [self._cursor[0]]
            number = max(numbers) + 1
            path = self.folder / segment_name(number)
            self._write_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fsync_folder(self.folder)
            self._write_number = number
            segment = self._segments[number] = Segment(number)
            self._normalise_cursor()
        return self._write_fd, segment

    def _enforce_bound(self) -> None:
        while sum(s.size for s in self._segments.values()) > self.max_bytes and len(self._segments) > 1:
            oldest = next(iter(self._segments.values()))
            lost = self._unsent_streams(oldest)
            self._remove_segment(oldest)
            for (asset, stream_type), (records, first, last) in lost.items():
                if records:
                    self._record_loss(asset, stream_type, records, first, last)
            self._normalise_cursor()

    def _record_loss(self, asset: str, stream_type: str, records: int, first: int | None, last: int | None) -> None:
        key = json.dumps([asset, stream_type])
        loss = self._losses.setdefault(key, {"records": 0, "first": None, "last": None})
        loss["records"] += records
        if first is not None:
            loss["first"] = first if loss["first"] is None else min(loss["first"], first)
            loss["last"] = last if loss["last"] is None else max(loss["last"], last)
        write_atomically(self.folder / LOSSES_FILE, json.dumps(self._losses).encode())
        log.error("outbox of transmit %s is full (%d bytes): dropped %d unsent record(s) of %s:%s",
                  self.name, self.max_bytes, records, asset, stream_type)
        if self._on_loss is not None:
            try:
                self._on_loss(asset, stream_type, dict(loss))
            except Exception:
                log.exception("reporting the outbox loss of transmit %s", self.name)

    # -- sending (the transmit's thread) ----------------------------------------------------

    def take(self, max_records: int, max_bytes: int, after: Take | None = None) -> Take | None:
        """The next records to send, in queue order: at most `max_records`, and about
        `max_bytes` of queued data (at least one record); None when nothing is queued.

        With `after` (a take not yet confirmed), the records that follow it: read ahead while
        `after` is being sent, and confirmed only after it. Such a take may hold no records
        (only empty or damaged batches to step past): confirming it moves the cursor."""
        with self._lock:
            self._normalise_cursor()
            start = self._cursor if after is None else self._past_segment_end(after.end)
            plan = [(s.number, s.size) for s in self._segments.values() if s.number >= start[0]]
        pieces: list[dict[str, Any]] = []
        records = used = in_end = 0
        end = start
        for number, size in plan:
            begin = start[1] if number == start[0] else 0
            if begin >= size:
                continue
            in_end = 0
            try:
                frames = self._frames(number, begin, size)
                for frame in frames:
                    count_all = frame.meta["n"]
                    first = start[2] if (number, frame.offset) == start[:2] else 0
                    left = count_all - first
                    per_record = frame.data_length / max(count_all, 1)
                    count = min(left, max_records - records, int((max_bytes - used) // max(per_record, 1)))
                    if count <= 0 and records == 0 and left > 0:
                        count = 1
                    if left > 0 and count <= 0:
                        return self._taken(pieces, records, start, end, in_end, after)
                    if count > 0:
                        try:
                            if frame.damaged:
                                raise ValueError("checksum mismatch")
                            data = self._decoded(number, frame)
                        except (ValueError, KeyError, TypeError):  # a disk fault: what it held is lost
                            log.error("outbox of transmit %s: damaged batch at %s:%d skipped", self.name,
                                      segment_name(number), frame.offset)
                            count = left
                            with self._lock:
                                self._record_loss(frame.meta["asset"], frame.meta["stream_type"], left,
                                                  frame.meta.get("t0"), frame.meta.get("t1"))
                        else:
                            pieces.append(piece(frame.meta["id"], frame.meta, data, first, first + count))
                            records += count
                            in_end += count
                            used += per_record * count
                    end = (number, frame.offset, first + count) if first + count < count_all else (number, frame.end, 0)
                    if records >= max_records or used >= max_bytes:
                        return self._taken(pieces, records, start, end, in_end, after)
            except FileNotFoundError:  # dropped at the bound meanwhile
                break
        return self._taken(pieces, records, start, end, in_end, after)

    def _frames(self, number: int, begin: int, size: int):
        """The frames of segment `number` from `begin` to `size`, checked (see take)."""
        last = self._last_read
        if last is not None and last[0] == number and last[1].offset == begin and last[1].end <= size:
            yield last[1]
            begin = last[1].end
        yield from read_frames(self.folder / segment_name(number), begin, size, check=True)

    def _decoded(self, number: int, frame) -> dict[str, Any]:
        last = self._last_read
        if last is not None and last[0] == number and last[1].offset == frame.offset:
            return last[2]
        data = decode_batch(frame.data)
        self._last_read = (number, frame, data)
        return data

    def _past_segment_end(self, place: Cursor) -> Cursor:
        """`place`, or the start of the next segment when it is the end of a whole segment or
        in one already removed (sent whole, or dropped at the bound): where the cursor is or
        will be once a take ending at `place` is confirmed (see _normalise_cursor)."""
        segment = self._segments.get(place[0])
        if segment is not None and (place[1] < segment.size or place[0] == self._write_number):
            return place
        return next(((n, 0, 0) for n in self._segments if n > place[0]), place)

    def _taken(self, pieces, records, start, end, in_end, after) -> Take | None:
        if records:
            return Take(pieces, records, start, end, in_end)
        if end != start:  # only empty or damaged batches: step past them
            if after is not None:  # in order: once `after` is confirmed
                return Take([], 0, start, end, 0)
            self.confirm(Take([], 0, start, end, 0))
        return None

    def confirm(self, take: Take) -> None:
        """The destination accepted `take`: the cursor moves past it (durably)."""
        with self._lock:
            self._sent["records_sent"] += take.records
            if take.records:
                self._sent["last_success"] = utc_timestamp()
            if self._cursor == take.start:  # else the bound dropped what it was reading
                self._head_sent = self._head_sent + take.records if take.end[0] == take.start[0] \
                    else take.records_in_end_segment
                self._cursor = take.end
            self._normalise_cursor()
            self._save_cursor()

    def record_error(self, text: str) -> None:
        with self._lock:
            self._error = {"last_error": text, "last_error_time": utc_timestamp()}

    def status(self) -> dict[str, Any]:
        """The outbox as /v1/status shows it under last_data_transmit."""
        with self._lock:
            oldest = [s.oldest for s in self._segments.values() if s.oldest is not None]
            queued = sum(s.records for s in self._segments.values()) - self._head_sent
            return {
                "last_success": self._sent["last_success"],
                "records_sent": self._sent["records_sent"],
                "records_queued": queued,
                "bytes_queued": sum(s.size for s in self._segments.values()) - self._sent_bytes(),
                "oldest_queued_record_time": _time_text(min(oldest)) if oldest and queued else None,
                "last_error": self._error["last_error"],
                "last_error_time": self._error["last_error_time"],
                "records_dropped": sum(loss["records"] for loss in self._losses.values()),
            }

    def close(self) -> None:
        with self._lock:
            self._close_writer()
            if self._cursor_fd is not None:
                os.close(self._cursor_fd)
                self._cursor_fd = None

    def _sent_bytes(self) -> int:
        """Bytes of the first segment before the cursor: sent, kept until the segment goes."""
        return self._cursor[1] if self._cursor[0] in self._segments else 0

    # -- inside -----------------------------------------------------------------------------

    def _open(self) -> None:
        try:
            saved = json.loads((self.folder / CURSOR_FILE).read_text())
            self._cursor = tuple(saved["cursor"])
            self._sent = {"records_sent": saved["records_sent"], "last_success": saved["last_success"]}
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as exc:
            log.error("outbox of transmit %s: unreadable %s (%s); sending starts at the oldest batch",
                      self.name, CURSOR_FILE, exc)
        try:
            self._losses = json.loads((self.folder / LOSSES_FILE).read_text())
        except (FileNotFoundError, ValueError):
            pass
        try:
            for line in (self.folder / KEYS_FILE).read_text().split():
                self._remember(line)
        except FileNotFoundError:
            pass
        numbers = segment_numbers(self.folder)
        for index, number in enumerate(numbers):
            newest = index == len(numbers) - 1
            path = self.folder / segment_name(number)
            segment = Segment(number)
            frames = list(read_frames(path, check=False)) if not newest else []
            if newest:  # checked: its last append may be torn
                frames = [dataclasses.replace(f, data=None) for f in read_frames(path, check=True)]
                if frames and frames[-1].damaged:  # the last append, half written: never acknowledged
                    frames.pop()
            for frame in frames:
                segment.add(frame.meta, frame.end - frame.offset)
                if frame.meta.get("key"):
                    self._remember(frame.meta["key"])
            if newest and path.stat().st_size > segment.size:  # a torn append, never acknowledged
                log.warning("outbox of transmit %s: cut a torn batch off %s", self.name, path.name)
                os.truncate(path, segment.size)
            self._segments[number] = segment
        if self._cursor[0] in self._segments:
            head = self._segments[self._cursor[0]]
            self._head_sent = self._cursor[2] + sum(
                f.meta["n"] for f in read_frames(self.folder / segment_name(head.number), 0, self._cursor[1],
                                                 check=False))
        self._normalise_cursor()

    def _normalise_cursor(self) -> None:
        """Removes fully sent segments and points the cursor at the first unsent record."""
        while self._segments:
            first = next(iter(self._segments.values()))
            number, offset, _ = self._cursor
            if number < first.number or number not in self._segments:
                self._cursor, self._head_sent = (first.number, 0, 0), 0
                continue
            if number == first.number and offset >= first.size and number != self._write_number:
                self._remove_segment(first)
                continue
            if number > first.number:  # segments before the cursor were sent: a crash kept them
                self._remove_segment(first)
                continue
            break

    def _remove_segment(self, segment: Segment) -> None:
        if segment.keys:
            with open(self.folder / KEYS_FILE, "a") as handle:
                handle.write("".join(f"{k}\n" for k in segment.keys))
                handle.flush()
                os.fsync(handle.fileno())
            self._compact_keys()
        if segment.number == self._write_number:
            self._close_writer()
        (self.folder / segment_name(segment.number)).unlink(missing_ok=True)
        fsync_folder(self.folder)
        del self._segments[segment.number]
        if self._last_read is not None and self._last_read[0] == segment.number:
            self._last_read = None
        if self._cursor[0] == segment.number:
            self._head_sent = 0

    def _compact_keys(self) -> None:
        path = self.folder / KEYS_FILE
        if path.stat().st_size > 2 * KEPT_KEYS * 33:
            lines = path.read_text().split()[-KEPT_KEYS:]
            write_atomically(path, "".join(f"{k}\n" for k in lines).encode())

    def _remember(self, key: str) -> None:
        if key in self._key_set:
            return
        self._keys.append(key)
        self._key_set.add(key)
        if len(self._keys) > KEPT_KEYS:
            self._key_set.discard(self._keys.popleft())

    def _unsent_streams(self, segment: Segment) -> dict[tuple[str, str], list]:
        if segment.number != self._cursor[0] or (self._cursor[1] == 0 and self._cursor[2] == 0):
            return segment.streams
        unsent: dict[tuple[str, str], list] = {}
        for frame in read_frames(self.folder / segment_name(segment.number), self._cursor[1], segment.size,
                                 check=False):
            skip = self._cursor[2] if frame.offset == self._cursor[1] else 0
            _tally(unsent, frame.meta, frame.meta["n"] - skip)
        return unsent

    def _save_cursor(self) -> None:
        payload = json.dumps({"cursor": list(self._cursor), **self._sent}).encode()
        if self._cursor_fd is None:
            self._cursor_fd = os.open(self.folder / CURSOR_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
        # One write at offset 0, padded to a fixed size, so an older, longer text never shows
        # past the end of a newer one (JSON ignores the trailing spaces).
        os.pwrite(self._cursor_fd, payload.ljust(max(CURSOR_BYTES, len(payload))), 0)

    def _close_writer(self) -> None:
        if self._write_fd is not None:
            os.close(self._write_fd)
            self._write_fd = None
            self._write_number = None


def _tally(streams: dict[tuple[str, str], list], meta: dict[str, Any], records: int) -> None:
    entry = streams.setdefault((meta["asset"], meta["stream_type"]), [0, None, None])
    entry[0] += records
    if meta.get("t0") is not None:
        entry[1] = meta["t0"] if entry[1] is None else min(entry[1], meta["t0"])
        entry[2] = meta["t1"] if entry[2] is None else max(entry[2], meta["t1"])


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(blob)
    while view:
        view = view[os.write(fd, view):]


def _truncate_quietly(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass


def _time_text(ns: int) -> str:
    return utc_timestamp(dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc))
