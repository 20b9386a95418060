"""SIGTERM stops the program whatever the main thread is running when it comes: here, start-up
code and a finalizer in it, where an exception raised by the handler would be swallowed."""

from __future__ import annotations

import gc
import os
import signal
import threading

import pytest

from edge.app import EdgeApp
from edge.settings import load_settings
from tests.loopback import free_port


class SignalledWhenCollected:
    """Sends this process SIGTERM from its finalizer: the handler then runs inside __del__."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))  # bytecode after the kill: the handler runs here, in the finalizer


@pytest.mark.parametrize("where", ["start-up", "a finalizer during start-up"])
def test_sigterm_while_starting_stops_the_program_once_started(tmp_path, monkeypatch, where):
    monkeypatch.setenv("EDGE_ADMIN_PASSWORD", "unit-test-password")
    app = EdgeApp(load_settings(None, {"DATA_DIR": str(tmp_path / "data"), "HTTP_PORT_NO": str(free_port())}))
    resume = app.scheduler.resume

    def resume_signalled():
        if where == "start-up":
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            cycle = SignalledWhenCollected()
            cycle.itself = cycle  # freed only by the collector, as start-up garbage is
            del cycle
            gc.collect()
        resume()

    monkeypatch.setattr(app.scheduler, "resume", resume_signalled)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    rescued = []

    def rescue():  # a lost signal would leave serve() looping: end the test, and fail it
        rescued.append(True)
        app._server.request_stop()

    guard = threading.Timer(60, rescue)
    guard.start()
    try:
        app.serve()
    finally:
        guard.cancel()
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert not rescued
    assert app._stopping.is_set()  # stop() ran: pipeline, store and catalog closed in order
