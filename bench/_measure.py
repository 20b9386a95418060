"""What every benchmark measures with: a free loopback port, the median of timed runs."""

from __future__ import annotations

import socket
import statistics
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def median_ms(fn, runs: int) -> float:
    """Median wall time of `fn(i)` for i in range(runs), in milliseconds."""
    samples = []
    for i in range(runs):
        began = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1e3
