"""HTTP_CPU: the one CPU on which the HTTP server's threads wait for work, and run queries.

Every request crosses threads twice: waitress's connection loop hands it to a worker, and the
worker hands the answer back to the loop. When the two wait on different CPUs, each crossing
wakes an idle CPU, which on a small box or a VM costs as much as a small query itself: the
hourly average of a 10,000-point tag came back 10-20% sooner with the threads waiting on one
CPU, against the same server without, the two taking turns in one run.

So the loop and the idle workers wait on one CPU, and a query (the lanes' query share:
/machiot reads, /machbase statements) runs there too: moving the worker to every CPU and back
around each query cost a small one 5-10% more (the scheduler moved the worker to the idle
CPU, and the move back is a migration). A query's work holds the GIL nearly throughout, so
it gains little from a second core; and under `./build.sh bench load` (64 connections) the
server answered 290-297 requests/s with queries here against 130-134 with HTTP_CPU = off,
where HTTP threads on two CPUs handed the GIL back and forth across them. Other work
(appends, the /v1 API) runs on every CPU: it may run long, and the threads it starts (a
reload's receivers and transmits) inherit the CPUs of the thread that starts them. A table's
flush thread, which a `create tag table` statement starts, puts itself back on every CPU
(edge.store.background).
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
