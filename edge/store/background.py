"""A thread of a table's that runs the work handed to it, in order: the column flush, so the
appender goes on with its next batch meanwhile."""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("edge.store")

# Every CPU the process may use, as the store is loaded (before the HTTP server keeps its
# threads on one CPU, HTTP_CPU): a thread starts on the CPUs of the thread that starts it, and
# a table created by a query would otherwise flush on the HTTP server's CPU.
EVERY_CPU = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


class BackgroundWork:
    def __init__(self, name: str):
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if EVERY_CPU is not None:
            try:
                os.sched_setaffinity(0, EVERY_CPU)
            except OSError:  # a CPU gone (offline, taken by a cgroup): it flushes where it started
                pass
        while True:
            work = self._requests.get()
            if work is None:
                return
            try:
                work()
            except Exception:  # noqa: BLE001 - the thread must outlive one failed piece of work
                log.exception("%s: background work failed", self._thread.name)

    def start(self, work: Callable[[], None]) -> None:
        self._requests.put(work)

    def stop(self) -> None:
        """Ends the thread once the work handed to it so far is done."""
        self._requests.put(None)
        self._thread.join(timeout=10)
