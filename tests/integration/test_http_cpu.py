"""HTTP_CPU in a running server: its connection loop and idle workers wait on the one CPU,
the other threads run anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.waiting import wait_for

CPUS = frozenset(os.sched_getaffinity(0))
pytestmark = pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs to tell one from all")


def thread_cpus(pid: int) -> dict[int, frozenset[int]]:
    """{thread id: the CPUs it may run on} (the main thread's id is the process's)."""
    return {int(task.name): frozenset(os.sched_getaffinity(int(task.name)))
            for task in Path(f"/proc/{pid}/task").iterdir()}


@pytest.mark.parametrize("setting, one", [("auto", max(CPUS)), (str(min(CPUS)), min(CPUS))])
def test_the_loop_and_idle_workers_wait_on_one_cpu(edge_server_factory, setting, one):
    server = edge_server_factory(conf_lines=[f"HTTP_CPU = {setting}", "HTTP_THREADS = 3"])
    assert server.client.get("/health").status == 200
    # The loop and the three idle workers (the one that served /health goes back once its
    # answer is handed over); every other thread (the store's housekeeping, the pipeline's) on
    # every CPU. Python does not name threads for the system to tell them apart.
    pinned = [{one}] * 4

    def settled():
        found = thread_cpus(server.process.pid)
        return found if sorted(found.values(), key=len)[:5] == pinned + [CPUS] else None

    cpus = wait_for(settled, timeout=10, what="four threads on the one CPU, one on all")
    assert cpus[server.process.pid] == {one}
    assert sorted(cpus.values(), key=len) == pinned + [CPUS] * (len(cpus) - 4)


def test_off_moves_no_thread(edge_server_factory):
    server = edge_server_factory(conf_lines=["HTTP_CPU = off"])
    assert server.client.get("/health").status == 200
    assert set(thread_cpus(server.process.pid).values()) == {CPUS}
