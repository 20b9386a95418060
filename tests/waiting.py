"""Waiting for what a live peer or server does: poll a condition with a generous deadline, never
sleep and hope."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1,
             what: str = "condition") -> Any:
    """The first true value `predicate()` gives within `timeout` seconds; AssertionError after."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout:g} s: {what}")


def poll_until(runtime, condition: Callable[[], Any], what: str = "condition", timeout: float = 30.0) -> Any:
    """Runs a receiver's passes (`runtime.poll()`) until `condition()` holds, as its service
    thread would; AssertionError after `timeout` seconds."""
    def polled():
        runtime.poll()
        return condition()
    return wait_for(polled, timeout, interval=0.05, what=what)
