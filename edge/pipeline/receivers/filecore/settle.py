"""When a listed file may be read: the rule that keeps files being written from being read half way.

A file is *settled* when this receiver has seen the same size and modification time for at
least `settle_seconds` (measured on this machine's monotonic clock across listings, so a file
server's clock does not matter), or, for a local folder, when its modification time is already
that old. A settled file is read to its end, an unterminated last line included.

A file that keeps changing is not read while it changes, except one that has been growing
for `growing_after_seconds`: a logger appending to one file all day would otherwise never be
read. Of such a file only whole records (lines ending in a newline) are read; the rest waits.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

from edge.pipeline.receivers.filecore.source import FileEntry
from edge.time.units import NS_PER_SECOND

DEFAULT_SETTLE_SECONDS = 1.0
DEFAULT_GROWING_AFTER_SECONDS = 60.0


class Readiness(enum.Enum):
    WAIT = "wait"  # changed since the last listing: leave it for now
    WHOLE_RECORDS = "whole_records"  # still growing, for long: read its complete records
    SETTLED = "settled"  # read it to the end


class Settler:
    """Remembers each file's last listing; one per connection, kept for the runtime's life."""

    def __init__(self, settle_seconds: float = DEFAULT_SETTLE_SECONDS,
                 growing_after_seconds: float = DEFAULT_GROWING_AFTER_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic, wall_ns: Callable[[], int] = time.time_ns):
        self.settle_seconds = settle_seconds
        self.growing_after_seconds = growing_after_seconds
        self._monotonic = monotonic
        self._wall_ns = wall_ns
        self._seen: dict[str, _Seen] = {}
        self._last_listing: float | None = None

    def observe(self, entries: Iterable[FileEntry], local_clock: bool) -> dict[str, Readiness]:
        """Readiness of every listed file; forgets files that are gone."""
        now = self._monotonic()
        wall = self._wall_ns()
        seen: dict[str, _Seen] = {}
        readiness: dict[str, Readiness] = {}
        for entry in entries:
            before = self._seen.get(entry.path)
            if before is None:
                record = _Seen(entry.size, entry.mtime_ns, now, now)
            elif (before.size, before.mtime_ns) == (entry.size, entry.mtime_ns):
                record = before
            else:
                # Still changing since the previous listing: the same bout of writing goes on.
                still = before.unchanged_since == self._last_listing
                record = _Seen(entry.size, entry.mtime_ns, now, before.changing_since if still else now)
            seen[entry.path] = record
            old = local_clock and (wall - entry.mtime_ns) / NS_PER_SECOND >= self.settle_seconds
            if self.settle_seconds <= 0 or now - record.unchanged_since >= self.settle_seconds or old:
                readiness[entry.path] = Readiness.SETTLED
            elif now - record.changing_since >= self.growing_after_seconds:
                readiness[entry.path] = Readiness.WHOLE_RECORDS
            else:
                readiness[entry.path] = Readiness.WAIT
        self._seen = seen
        self._last_listing = now
        return readiness


class _Seen(NamedTuple):
    size: int
    mtime_ns: int
    unchanged_since: float  # monotonic time of the listing that first saw this size and mtime
    changing_since: float  # monotonic time the current bout of changes began
