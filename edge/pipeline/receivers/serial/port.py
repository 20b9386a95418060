"""One serial port read by a thread of its own, its lines queued with their receive times.

A device talks whenever it likes, so the port is read all the time, not once per poll: the
thread blocks in a read (at most the connection's `timeout`), frames what arrived into lines
and stamps each with the time it arrived (`time.time_ns()` after the read that completed it).
The receiver's poll takes the queued lines (`take`). When the port cannot be opened or fails
(unplugged, removed), the thread closes it, keeps the reason in `problem` and opens it again
after 1 s, then 2, 4 ... up to 30 s; `problem` is None again once it is open. pyserial is
imported by the thread.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

from edge.pipeline.receivers.serial.lines import LineFramer

FIRST_RETRY_S = 1.0
LAST_RETRY_S = 30.0
QUEUE_LIMIT = 100_000  # lines kept for the poll; the oldest go when a poll is that late


class PortReader:
    def __init__(self, connection: dict[str, Any], terminator: bytes, log: logging.Logger):
        self.port = str(connection["port"])
        self._settings = {"baudrate": int(connection.get("baudrate", 9600)),
                          "bytesize": int(connection.get("bytesize", 8)),
                          "parity": str(connection.get("parity", "N")),
                          "stopbits": connection.get("stopbits", 1),
                          "timeout": float(connection.get("timeout", 1))}
        self._framer = LineFramer(terminator)
        self._log = log
        self._lines: collections.deque[tuple[int, bytes]] = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.problem: str | None = None  # why the port is not open now
        self.is_open = False
        self._dropped = 0  # lines lost to QUEUE_LIMIT since the last take
        self._thread = threading.Thread(target=self._run, name=f"serial {self.port}", daemon=True)

    def start(self) -> PortReader:
        self._thread.start()
        return self

    def take(self) -> tuple[list[tuple[int, bytes]], int]:
        """The lines received since the last take, oldest first, as (receive time ns, line), and
        how many were dropped since then because the queue was full."""
        with self._lock:
            lines = list(self._lines)
            self._lines.clear()
            dropped, self._dropped = self._dropped, 0
        return lines, dropped

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        import serial

        delay = FIRST_RETRY_S
        while not self._stop.is_set():
            try:
                device = serial.Serial(self.port, exclusive=True, **self._settings)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._failed(f"cannot open {self.port}: {_reason(exc)}")
                self._stop.wait(delay)
                delay = min(delay * 2, LAST_RETRY_S)
                continue
            delay = FIRST_RETRY_S
            self.is_open, self.problem = True, None
            try:
                self._read(device)
            except (serial.SerialException, OSError) as exc:
                self._failed(f"{self.port} failed: {_reason(exc)}")
                self._stop.wait(delay)
            finally:
                self.is_open = False
                try:
                    device.close()
                except (serial.SerialException, OSError):
                    pass

    def _read(self, device) -> None:
        while not self._stop.is_set():
            data = device.read(max(1, device.in_waiting))
            if not data:
                continue
            received = time.time_ns()
            lines = self._framer.feed(data)
            if lines:
                with self._lock:
                    self._lines.extend((received, line) for line in lines)
                    over = len(self._lines) - QUEUE_LIMIT
                    for _ in range(max(0, over)):
                        self._lines.popleft()
                    if over > 0:
                        self._dropped += over

    def _failed(self, text: str) -> None:
        if text != self.problem:
            self._log.warning("%s", text)
        self.problem = text


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:300]
