"""systemd's notify protocol, spoken directly: one datagram to $NOTIFY_SOCKET per state.

No libsystemd: the protocol is a line of `KEY=VALUE` sent to a unix datagram socket, whose
name starts with '@' for the abstract namespace.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger("edge.system.sdnotify")


def notify(state: str) -> bool:
    """Sends e.g. "READY=1"; False when not run by systemd or the send failed."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
        return True
    except OSError as exc:
        log.warning("cannot notify systemd (%s): %s", state.split("=", 1)[0], exc)
        return False


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None when there is no watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    # A Nuitka onefile binary runs the program in a child of the process systemd started, and
    # names that parent in NUITKA_ONEFILE_PARENT: the watchdog is meant for us then too.
    if not usec or (pid and pid not in (str(os.getpid()), os.environ.get("NUITKA_ONEFILE_PARENT"))):
        return None
    try:
        return max(int(usec) / 1e6 / 2, 0.5)
    except ValueError:
        return None


HealthCheck = Callable[[], "str | None"]


class Watchdog:
    """Sends WATCHDOG=1 every `interval` seconds while every health check passes.

    A check returns None when healthy or a text saying what is wrong. While any check fails
    no ping goes out, so systemd (WatchdogSec) restarts a program that is stuck, not one
    that merely has a thread still ticking.
    """

    def __init__(self, interval: float, checks: dict[str, HealthCheck]):
        self.interval = interval
        self._checks = checks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._unhealthy: str | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        # No ping goes out once stop is set; a check still waiting need not be waited for.
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def _run(self) -> None:
        # Fixed rate: a slow check must not stretch the time between pings past WatchdogSec.
        next_ping = time.monotonic()
        while not self._stop.is_set():
            problem = self._first_problem()
            if self._stop.is_set():
                break
            if problem is None:
                if self._unhealthy is not None:
                    log.warning("healthy again; watchdog pings resume")
                    self._unhealthy = None
                notify("WATCHDOG=1")
            elif problem != self._unhealthy:
                log.error("unhealthy, withholding the watchdog ping: %s", problem)
                self._unhealthy = problem
            next_ping = max(next_ping + self.interval, time.monotonic())
            self._stop.wait(next_ping - time.monotonic())

    def _first_problem(self) -> str | None:
        for name, check in self._checks.items():
            if self._stop.is_set():
                return None
            try:
                problem = check()
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is not None:
                return f"{name}: {problem}"
        return None
