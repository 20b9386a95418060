"""One service of the pipeline: its thread, its runtime object and what it has done.

The thread builds the component's runtime, then loops: poll, then wait poll_interval seconds
on the stop Event, so a stop takes effect as soon as the current pass ends. An exception in a
pass is logged to `edge.pipeline.<name>`, counted and kept as last_error; the next interval
tries again. An error marker the component raises counts the same way (a receiver that
cannot list its folder, or cannot store a stream, raises a marker and ends its pass well):
status shows its errors, whichever way they were reported. The runtime is built and closed
on the service's own thread, so poll() and close() never run at the same time.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edge.catalog.database import utc_timestamp
from edge.pipeline.runtime.context import ComponentContext, PollResult
from edge.pipeline.runtime.services import ServiceSpec

if TYPE_CHECKING:
    from edge.catalog.markers import Marker
    from edge.pipeline.runtime.ports import ComponentPorts

RUNNING = "running"
STOPPED = "stopped"
UNKNOWN = "unknown"
ERROR_LEVEL = "error"  # markers of this level count as the service's errors

# How often a new thread looks whether its predecessor's last pass has ended.
_PREDECESSOR_CHECK_SECONDS = 0.2

OnPass = Callable[[ServiceSpec, PollResult, str], None]


class ServiceThread:
    """A configured receiver or transmit as the scheduler runs it."""

    def __init__(self, spec: ServiceSpec, runtime_class: type | None, ports: ComponentPorts,
                 full_config: dict[str, Any], unavailable: str | None = None,
                 predecessor: threading.Thread | None = None, on_pass: OnPass | None = None):
        self.spec = spec
        self._runtime_class = runtime_class
        self._ports = ports
        self._full_config = full_config
        self._predecessor = predecessor
        self._on_pass = on_pass
        self._log = logging.getLogger(f"edge.pipeline.{spec.name}")
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.crashed = False  # the thread ended without being asked to
        self.status = UNKNOWN if runtime_class is None else STOPPED
        self.last_run: str | None = None
        self.last_error: str | None = unavailable
        self.last_error_time: str | None = None
        self.error_count = 0
        self.records_in = 0
        self.records_out = 0

    @property
    def runnable(self) -> bool:
        return self._runtime_class is not None

    def start(self) -> None:
        if not self.runnable:
            return
        self.status = RUNNING
        self.thread = threading.Thread(target=self._run, name=self.spec.key, daemon=True)
        try:
            self.thread.start()
        except RuntimeError:
            self.status = STOPPED
            self.thread = None
            raise

    def request_stop(self) -> None:
        self.stop_event.set()

    def join(self, deadline: float) -> bool:
        """Waits until monotonic `deadline` for the current pass to end; False if still busy."""
        if self.thread is None:
            return True
        self.thread.join(max(0.0, deadline - time.monotonic()))
        return not self.thread.is_alive()

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def note_stuck(self, seconds: float) -> None:
        with self._lock:
            self.last_error = (f"did not finish its pass within {seconds:g} s of being stopped; "
                               "it stops when that pass ends")
            self.last_error_time = utc_timestamp()
        self._log.warning("%s %s", self.spec.key, self.last_error)

    def snapshot(self) -> dict[str, Any]:
        """The service as /v1/status shows it."""
        with self._lock:
            return {
                "status": self.status,
                "component_type": self.spec.component_type,
                "type": self.spec.type_name,
                "poll_interval": self.spec.poll_interval,
                "last_run": self.last_run,
                "records_in": self.records_in,
                "records_out": self.records_out,
                "error_count": self.error_count,
                "last_error": self.last_error,
                "last_error_time": self.last_error_time,
            }

    def _run(self) -> None:
        runtime = None
        try:
            self._await_predecessor()
            context = ComponentContext(self._counting_ports(), self.spec.name, self.spec.component_type,
                                       self.spec.config, self._full_config, self.stop_event)
            while not self.stop_event.is_set():
                try:
                    if runtime is None:
                        runtime = self._runtime_class(context)
                    result = runtime.poll()
                    if not isinstance(result, PollResult):
                        raise TypeError(f"poll() returned {type(result).__name__}, expected PollResult")
                except Exception as exc:
                    self._record_failure(exc)
                else:
                    self._record_pass(result)
                if self.stop_event.wait(self.spec.poll_interval):
                    break
        except BaseException as exc:  # SystemExit and the like from component code: this thread ends
            self._log.critical("%s: thread ended by %r", self.spec.key, exc)
        finally:
            if runtime is not None:
                try:
                    runtime.close()
                except Exception:
                    self._log.exception("%s: close() failed", self.spec.key)
            with self._lock:
                self.status = STOPPED
                if not self.stop_event.is_set():
                    self.crashed = True
                    self.last_error = "the service thread ended unexpectedly"
                    self.last_error_time = utc_timestamp()
            self._log.info("%s stopped", self.spec.key)

    def _await_predecessor(self) -> None:
        # A pass from before a restart may still be running; two passes of one component at
        # once would read the same resources twice, so this thread starts when that one ends.
        previous = self._predecessor
        if previous is None or not previous.is_alive():
            return
        waiting = "waiting for the pass started before the restart to finish"
        with self._lock:
            self.last_error = waiting
        while previous.is_alive() and not self.stop_event.wait(_PREDECESSOR_CHECK_SECONDS):
            pass
        with self._lock:
            if self.last_error == waiting:
                self.last_error = None
        self._predecessor = None

    def _counting_ports(self) -> ComponentPorts:
        """The ports, with a markers book that reports the component's error markers here."""
        books = self._ports.books
        markers = books.markers.reporting_to(self._record_marker)
        return dataclasses.replace(self._ports, books=dataclasses.replace(books, markers=markers))

    def _record_marker(self, marker: Marker) -> None:
        if marker.level != ERROR_LEVEL:
            return
        with self._lock:
            self.error_count += 1
            self.last_error = f"{marker.asset}:{marker.stream_type}: {marker.message}"
            self.last_error_time = marker.timestamp

    def _record_pass(self, result: PollResult) -> None:
        now = utc_timestamp()
        with self._lock:
            self.last_run = now
            self.records_in += result.records_in
            self.records_out += result.records_out
        if self._on_pass is not None:
            try:
                self._on_pass(self.spec, result, now)
            except Exception:
                self._log.exception("%s: recording the pass failed", self.spec.key)

    def _record_failure(self, exc: Exception) -> None:
        self._log.error("%s: pass failed: %s", self.spec.key, exc, exc_info=exc)
        with self._lock:
            self.last_run = utc_timestamp()
            self.error_count += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.last_error_time = self.last_run
