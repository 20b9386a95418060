"""HTTP_CPU: idle HTTP workers wait on one CPU and serve queries there; serving other work,
they and the threads they start may run on every CPU."""

from __future__ import annotations

import os
import threading

import pytest

from edge.web.lanes import LaneDispatcher
from edge.web.wake_cpu import WakeCpu
from tests.unit.web.test_lanes import DISPATCHER, Work
from tests.waiting import wait_for

CPUS = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else frozenset()
pytestmark = pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs to tell one from all")
ONE = max(CPUS) if CPUS else 0


def cpus_of(thread: threading.Thread) -> frozenset[int]:
    return frozenset(os.sched_getaffinity(thread.native_id))


class Serving(Work):
    """A task that notes the CPUs its worker, and a thread it starts, may run on."""

    def service(self):
        self.worker_cpus = frozenset(os.sched_getaffinity(0))
        seen = []
        started = threading.Thread(target=lambda: seen.append(frozenset(os.sched_getaffinity(0))))
        started.start()
        started.join()
        self.started_cpus = seen[0]
        super().service()


def test_idle_workers_wait_on_the_one_cpu_and_serve_other_work_than_queries_on_every_cpu():
    before = set(threading.enumerate())
    lanes = LaneDispatcher(DISPATCHER, query_threads=1, wake=WakeCpu(ONE))
    lanes.set_thread_count(2)
    workers = [t for t in threading.enumerate() if t not in before]
    assert len(workers) == 2
    try:
        work = Serving(b"GET /v1/status HTTP/1.1\r\n\r\n", threading.Event())
        lanes.add_task(work)
        assert work.started.wait(10)
        assert work.worker_cpus == CPUS
        assert work.started_cpus == CPUS  # a reload's receivers are not kept on the HTTP CPU
        busy = {t for t in workers if cpus_of(t) == CPUS}
        assert len(busy) == 1
        assert all(cpus_of(t) == {ONE} for t in workers if t not in busy)
        work.release.set()
        wait_for(lambda: all(cpus_of(t) == {ONE} for t in workers), timeout=10, what="the worker back on the one CPU")
        assert [cpus_of(t) for t in workers] == [{ONE}] * len(workers)
    finally:
        lanes.shutdown()
        os.sched_setaffinity(0, CPUS)


def test_a_query_is_served_on_the_one_cpu():
    lanes = LaneDispatcher(DISPATCHER, query_threads=1, wake=WakeCpu(ONE))
    lanes.set_thread_count(2)
    try:
        work = Serving(b"GET /machbase?q=select+1 HTTP/1.1\r\n\r\n", threading.Event())
        work.release.set()
        lanes.add_task(work)
        assert work.started.wait(10)
        assert work.worker_cpus == {ONE}
    finally:
        lanes.shutdown()


def test_no_cpu_moves_no_thread():
    wake = WakeCpu(None)
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {ONE})
    try:
        wake.run_anywhere()
        assert os.sched_getaffinity(0) == {ONE}
        os.sched_setaffinity(0, CPUS)
        wake.wait_here()
        assert os.sched_getaffinity(0) == CPUS
    finally:
        os.sched_setaffinity(0, before)
