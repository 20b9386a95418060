"""systemd's notify protocol, spoken directly: one datagram to $NOTIFY_SOCKET per state.

No libsystemd: the protocol is a line of `KEY=VALUE` sent to a unix datagram socket, whose
name starts with '@' for the abstract namespace.
"""

from __future__ import annotations

import logging
import os
import socket

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
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 1e6 / 2, 0.5)
    except ValueError:
        return None
