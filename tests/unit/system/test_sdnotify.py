import logging
import os
import socket
import threading

import pytest

from edge.system import sdnotify


@pytest.fixture
def notify_socket(monkeypatch):
    """A real unix datagram socket in the abstract namespace, set as $NOTIFY_SOCKET."""
    name = f"@edge-test-{os.getpid()}-{threading.get_ident()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", name)
    yield sock
    sock.close()


def drain(sock) -> list[str]:
    sock.setblocking(False)
    messages = []
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        return messages


def test_notify_sends_one_datagram_per_state(notify_socket):
    assert sdnotify.notify("READY=1\nSTATUS=serving") is True
    assert notify_socket.recv(4096) == b"READY=1\nSTATUS=serving"


def test_notify_without_systemd_does_nothing(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False


def test_notify_to_a_vanished_socket_reports_failure(monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", "@edge-test-nobody-listens-here")
    assert sdnotify.notify("READY=1") is False


@pytest.mark.parametrize("usec, pid, expected", [
    ("30000000", None, 15.0), ("30000000", "own", 15.0), ("30000000", "1", None), (None, None, None),
    ("soon", None, None), ("200000", None, 0.5)])
def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process(monkeypatch, usec, pid, expected):
    for key, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", str(os.getpid()) if pid == "own" else pid)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    assert sdnotify.watchdog_interval() == expected


def test_watchdog_pings_only_while_every_check_passes(notify_socket, caplog):
    script = [None, None, "stuck", "stuck", None]
    done = threading.Event()

    def scripted_check():
        if script:
            return script.pop(0)
        done.set()
        return "stuck for good"

    watchdog = sdnotify.Watchdog(0.005, {"always": lambda: None, "scripted": scripted_check})
    with caplog.at_level(logging.INFO, logger="edge.system.sdnotify"):
        watchdog.start()
        assert done.wait(10)
        watchdog.stop()
    assert drain(notify_socket) == ["WATCHDOG=1"] * 3
    problems = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert problems == ["unhealthy, withholding the watchdog ping: scripted: stuck",
                        "unhealthy, withholding the watchdog ping: scripted: stuck for good"]


def test_watchdog_treats_a_crashing_check_as_unhealthy(notify_socket):
    calls = threading.Event()

    def broken():
        calls.set()
        raise OSError("disk gone")

    watchdog = sdnotify.Watchdog(0.005, {"catalog": broken})
    watchdog.start()
    assert calls.wait(10)
    watchdog.stop()
    assert drain(notify_socket) == []
