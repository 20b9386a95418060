"""The worker lanes: which requests are queries, and that queries never take every worker."""

from __future__ import annotations

import threading

import bottle
import pytest
from waitress.adjustments import Adjustments
from waitress.parser import HTTPRequestParser

from edge.web.dispatch import Dispatcher, Mount
from edge.web.envelope import FTX, MACHBASE
from edge.web.lanes import LaneDispatcher, is_query
from edge.web.wake_cpu import WakeCpu

DISPATCHER = Dispatcher([Mount(["/v1"], bottle.Bottle(), FTX),
                         Mount(["/machbase"], bottle.Bottle(), MACHBASE, queries=True),
                         Mount(["/machiot", "/machiot-rest-api"], bottle.Bottle(), MACHBASE, queries=True)],
                        authenticator=None, max_request_size=1024)


def parsed(raw: bytes) -> HTTPRequestParser:
    request = HTTPRequestParser(Adjustments())
    while raw and not request.completed:  # the head, then the body, as the channel feeds it
        raw = raw[request.received(raw):]
    assert request.completed
    return request


@pytest.mark.parametrize("raw, query", [
    (b"GET /machbase?q=select+1 HTTP/1.1\r\n\r\n", True),
    (b"POST /machbase?q=select+1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", True),
    (b"POST /machbase HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n"
     b"q=select+1", True),
    (b"GET /machiot/datapoints/raw/tag/press HTTP/1.1\r\n\r\n", True),
    (b"GET /machiot-rest-api/tags/list/tag HTTP/1.1\r\n\r\n", True),
    (b"POST /machbase HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", False),
    (b"POST /machiot/datapoints/raw/tag HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", False),
    (b"DELETE /machiot/datapoints/raw/tag/2026-01-01 HTTP/1.1\r\n\r\n", False),
    (b"GET /v1/status HTTP/1.1\r\n\r\n", False),
    (b"GET /health HTTP/1.1\r\n\r\n", False),
    (b"GET /machbasement HTTP/1.1\r\n\r\n", False),
    (b"NOT A REQUEST\r\n\r\n", False),
])
def test_statements_and_historian_reads_are_queries_appends_and_the_rest_are_not(raw, query):
    assert is_query(parsed(raw), DISPATCHER) is query


class Work:
    """A task as waitress hands it over: a channel whose first request is parsed."""

    def __init__(self, raw: bytes, release: threading.Event):
        self.requests = [parsed(raw)]
        self.release = release
        self.started = threading.Event()
        self.cancelled = False

    def service(self):
        self.started.set()
        self.release.wait(30)

    def cancel(self):
        self.cancelled = True


def test_queries_wait_their_turn_while_other_work_finds_a_worker():
    lanes = LaneDispatcher(DISPATCHER, query_threads=2, wake=WakeCpu(None))
    lanes.set_thread_count(3)
    release = threading.Event()
    try:
        queries = [Work(b"GET /machbase?q=select+1 HTTP/1.1\r\n\r\n", release) for _ in range(4)]
        for work in queries:
            lanes.add_task(work)
        assert all(work.started.wait(10) for work in queries[:2])
        status = Work(b"GET /v1/status HTTP/1.1\r\n\r\n", threading.Event())
        status.release.set()
        lanes.add_task(status)
        assert status.started.wait(10)  # the third worker, though two queries wait
        assert not any(work.started.is_set() for work in queries[2:])
        release.set()
        assert all(work.started.wait(10) for work in queries[2:])  # queued, not refused
    finally:
        release.set()
        lanes.shutdown(timeout=10)
