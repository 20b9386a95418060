"""A table's flush thread runs on every CPU the process may use, whichever thread started it."""

from __future__ import annotations

import os
import threading

import pytest

from edge.store.background import EVERY_CPU, BackgroundWork

pytestmark = pytest.mark.skipif(EVERY_CPU is None or len(EVERY_CPU) < 2, reason="needs two CPUs")


def test_a_flush_thread_started_from_a_thread_on_one_cpu_runs_on_every_cpu():
    seen = []

    def start_pinned():  # as a query that creates a table does, on the HTTP server's CPU
        os.sched_setaffinity(0, {max(EVERY_CPU)})
        work = BackgroundWork("store-flush-test")
        done = threading.Event()
        work.start(lambda: (seen.append(frozenset(os.sched_getaffinity(0))), done.set()))
        assert done.wait(10)
        work.stop()

    thread = threading.Thread(target=start_pinned)
    thread.start()
    thread.join()
    assert seen == [EVERY_CPU]


def test_work_runs_in_order_and_a_failure_does_not_end_the_thread():
    work = BackgroundWork("store-flush-test")
    done, order = threading.Event(), []
    work.start(lambda: order.append(1))
    work.start(lambda: 1 / 0)
    work.start(lambda: (order.append(2), done.set()))
    assert done.wait(10)
    work.stop()
    assert order == [1, 2]
