"""How many wrong passwords one client address may try: a leaky bucket per address.

A password check costs tens of milliseconds of scrypt by design, which slows one guesser but
lets a few of them keep the box's two cores busy, and a plant network is not the place to
let anyone guess for long. Each failed check fills the address's bucket by one; the bucket
drains by one every `drain_seconds`. A full bucket refuses the next check before any scrypt
runs, until it has drained below full: `limit` wrong passwords at once, then one every
`drain_seconds`.

Only checks that would run scrypt are counted and refused: a client whose credentials verified
before (remembered by the authenticator) or that holds a session goes on, so a guesser behind
the same address as a working client does not stop that client.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger("edge.web")

DRAIN_SECONDS = 6.0  # one more attempt every 6 s once the bucket is full: 10 a minute
MAX_ADDRESSES = 4096  # buckets kept at most; the least recently failed go first


class Throttled(Exception):
    """A password check refused unchecked: `address` tried too many wrong ones."""

    def __init__(self, address: str | None, retry_after: int):
        super().__init__(refusal_text(address, retry_after))
        self.retry_after = retry_after


def refusal_text(address: str | None, retry_after: int) -> str:
    return f"Too many wrong passwords from {address or 'this address'}; try again in {retry_after} s"


class LoginThrottle:
    def __init__(self, limit: int, drain_seconds: float = DRAIN_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit  # 0: no limit
        self._drain = drain_seconds
        self._clock = clock
        # address -> (level, when it was last updated)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str | None) -> int:
        """Whole seconds until `address` may try a password again; 0 when it may now."""
        if not self.limit:
            return 0
        with self._lock:
            level = self._level(address or "", self._clock())
        if level <= self.limit - 1:
            return 0
        return max(1, math.ceil((level - (self.limit - 1)) * self._drain))

    def failed(self, address: str | None) -> None:
        """A wrong password came from `address`."""
        if not self.limit:
            return
        key = address or ""
        with self._lock:
            now = self._clock()
            level = self._level(key, now) + 1
            self._buckets[key] = (level, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > MAX_ADDRESSES:
                self._buckets.popitem(last=False)
        if self.limit - 1 < level <= self.limit:
            log.warning("%d wrong passwords from %s: further attempts from there are refused for a while",
                        self.limit, key or "an unknown address")

    def _level(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return 0.0
        level, since = found
        return max(0.0, level - (now - since) / self._drain)
