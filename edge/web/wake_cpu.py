"""HTTP_CPU: the one CPU on which the HTTP server's threads wait for work.

Every request crosses threads twice: waitress's connection loop hands it to a worker, and the
worker hands the answer back to the loop. When the two wait on different CPUs, each crossing
wakes an idle CPU, which on a small box or a VM costs as much as a small query itself: the
hourly average of a 10,000-point tag came back 10-20% sooner with the threads waiting on one
CPU, against the same server without, the two taking turns in one run.

So the loop and the idle workers wait on one CPU. A worker serving a request may run on any:
a long query's C code (SQLite, numpy) moves to a free core, and the threads a request starts
(a reload's receivers and transmits, a new table's flush thread) do not inherit the one CPU.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger("edge.web")


class WakeCpu:
    """Moves the calling thread between the one CPU (`wait_here`) and every CPU the process
    may use (`run_anywhere`). With no CPU both do nothing."""

    def __init__(self, cpu: int | None):
        self.cpu = cpu
        self._here = frozenset({cpu})
        self._anywhere = frozenset(os.sched_getaffinity(0)) if cpu is not None else None

    def wait_here(self) -> None:
        self._pin(self._here)

    def run_anywhere(self) -> None:
        self._pin(self._anywhere)

    def _pin(self, cpus) -> None:
        if self.cpu is None:
            return
        try:
            os.sched_setaffinity(0, cpus)
        except OSError as exc:  # the CPU went offline, or a cgroup took it away: serve unpinned
            log.warning("HTTP_CPU %d: cannot keep HTTP threads there (%s); no thread is moved from now on",
                        self.cpu, exc)
            self.cpu = None
