"""The pipeline scheduler: starts, stops and reports one thread per configured service.

Whether the pipeline should run (the desired state) is kept in the catalog under
`ftx.desired`, so the program comes back as it was left: `resume()` at start-up starts it
unless it was stopped through the API (a first start runs it). Control calls are serialised;
stopping waits a bounded time for each thread's current pass, and a thread still busy after
that is reported and left to finish on its own (its successor waits for it before polling).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edge.errors import FTX_INTERNAL, EdgeError
from edge.pipeline import registry
from edge.pipeline.runtime.restream import plan_restream, purge_streams
from edge.pipeline.runtime.context import RECEIVER, TRANSMIT, PollResult
from edge.pipeline.runtime.service_thread import RUNNING, STOPPED, ServiceThread
from edge.pipeline.runtime.services import (ServiceSpec, configured_services, configured_streams, marker_owners,
                                            service_key)

if TYPE_CHECKING:
    from edge.catalog.runtime_state import RuntimeState
    from edge.pipeline.runtime.ports import ComponentPorts, ConfigurationSource

log = logging.getLogger("edge.pipeline.scheduler")

DESIRED_KEY = "ftx.desired"
LAST_TRANSMIT_KEY = "ftx.last_data_transmit"
FAILED = "failed"
STOP_TIMEOUT = 10.0  # seconds a stop waits, in all, for the threads' current passes

FindComponent = Callable[[str, str], Any]


class Scheduler:
    """Runs the services of the configuration in force.

    `configuration` is read at every start and status; `runtime_state` keeps the desired
    state and the last transmit; `ports` go to every component the scheduler runs.
    """

    def __init__(self, configuration: ConfigurationSource, runtime_state: RuntimeState, ports: ComponentPorts,
                 find_component: FindComponent = registry.find, stop_timeout: float = STOP_TIMEOUT):
        self._configuration = configuration
        self._runtime_state = runtime_state
        self._ports = ports
        self._find_component = find_component
        self._stop_timeout = stop_timeout
        self._control = threading.RLock()
        self._running = False
        self._failure: str | None = None  # why the last start failed, while it stands
        self._services: dict[str, ServiceThread] = {}  # by ServiceSpec.key
        self._lingering: dict[str, threading.Thread] = {}  # stopped but still in a pass
        self._last_transmit: dict[str, Any] | None = None

    # -- control ---------------------------------------------------------------------------

    def resume(self) -> None:
        """At start-up: runs the pipeline unless it was last stopped on purpose."""
        with self._control:
            self._forget_unconfigured()
            if self._desired() != RUNNING:
                log.info("pipeline stays stopped, as it was left")
                return
            try:
                self._start_services()
            except EdgeError as err:
                log.error("pipeline could not start: %s", err.text)

    def start(self) -> str:
        with self._control:
            self._set_desired(RUNNING)
            if not self._running:
                self._start_services()
            return RUNNING

    def stop(self) -> str:
        with self._control:
            self._set_desired(STOPPED)
            self._stop_services()
            return STOPPED

    def restart(self) -> str:
        with self._control:
            self._set_desired(RUNNING)
            self._stop_services()
            self._start_services()
            return RUNNING

    def reload(self) -> None:
        """After a new configuration is saved: clears the markers of components it no longer
        has and, when running, restarts every service on it."""
        with self._control:
            if self._running:
                self._stop_services()  # first, so no old service raises a marker after the clearing
                self._forget_unconfigured()
                self._start_services()
            else:
                self._forget_unconfigured()

    def shutdown(self) -> None:
        """Program exit: stops the threads and keeps the desired state for the next start."""
        with self._control:
            self._stop_services()

    def restream(self, request: Any) -> int:
        """Purges the receiver state and markers of the streams `request` names.

        `request` is `{"<receiver>": [{"asset": ..., "stream_type": ...}]}`; it is checked in
        full before anything changes (EdgeError 400). A named receiver that is running is
        stopped for the purge and started again, so it reads the streams from the start.
        Returns the number of receiver_state rows purged.
        """
        with self._control:
            config = self._configuration.body()
            targets = plan_restream(request, config)
            paused: list[ServiceThread] = []
            try:
                for key in dict.fromkeys(service_key(RECEIVER, t.receiver) for t in targets):
                    service = self._services.get(key)
                    if service is None or not service.is_alive():
                        continue
                    service.request_stop()
                    paused.append(service)
                    if not service.join(time.monotonic() + self._stop_timeout):
                        service.note_stuck(self._stop_timeout)
                        raise EdgeError(FTX_INTERNAL, f"Data receiver {service.spec.name!r} did not finish its "
                                                      "current pass in time; nothing was purged", FTX_INTERNAL)
                purged = purge_streams(self._ports.books, targets, configured_streams(config))
            finally:
                for service in paused:
                    self._replace(service)
            log.info("restreamed %s: %d receiver state rows purged",
                     ", ".join(f"{t.receiver}/{t.stream}" for t in targets), purged)
            return purged

    # -- reporting -------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """`factorytx` of /v1/status: overall status and one entry per configured service."""
        services = dict(self._services)
        shown: dict[str, Any] = {}
        for spec in configured_services(self._configuration.body()):
            service = services.pop(spec.key, None)
            if service is None or service.spec != spec:
                service = self._service_for(spec, {})
            shown[spec.name] = service.snapshot()
        for service in services.values():
            if service.is_alive():  # configured no more, still running until the next reload
                shown[service.spec.name] = service.snapshot()
        return {"status": self._overall(), "services": shown}

    def last_data_transmit(self) -> dict[str, Any]:
        """What a transmit last sent and when ({} until one has sent something), and under
        `transmits` each configured transmit's outbox (see `Outbox.status`)."""
        if self._last_transmit is None:
            stored = self._runtime_state.get(LAST_TRANSMIT_KEY)
            self._last_transmit = json.loads(stored) if stored else {}
        shown = dict(self._last_transmit)
        names = self._transmit_names()
        if names and self._ports.outboxes is not None:
            shown["transmits"] = self._ports.outboxes.status(names)
        return shown

    def _transmit_names(self) -> list[str]:
        return [spec.name for spec in configured_services(self._configuration.body())
                if spec.component_type == TRANSMIT]

    @property
    def running(self) -> bool:
        return self._running

    # -- inside ----------------------------------------------------------------------------

    def _overall(self) -> str:
        if self._failure is not None:
            return FAILED
        if not self._running:
            return STOPPED
        if any(s.crashed for s in self._services.values()):
            return FAILED
        return RUNNING

    def _forget_unconfigured(self) -> None:
        """What components the configuration in force no longer has left behind goes."""
        self._clear_stale_markers()
        self._retire_stale_outboxes()

    def _clear_stale_markers(self) -> None:
        """Deletes the markers no component of the configuration in force could have raised (a
        renamed or removed component, a stream gone): they would show on a stream that now
        belongs to someone else, or come back with a stream added again. A failure is logged;
        the configuration stays in force."""
        markers = self._ports.books.markers
        try:
            owners = marker_owners(self._configuration.body())
            stale = [m for m in markers.every()
                     if (m.component, m.component_type, m.asset, m.stream_type) not in owners]
            if stale:
                markers.clear_markers(stale)
                log.info("cleared %d marker(s) of components no longer configured: %s", len(stale),
                         ", ".join(sorted({f"{m.component} on {m.asset}:{m.stream_type}" for m in stale})))
        except Exception as exc:
            log.error("cannot clear the markers of components no longer configured: %s", exc)

    def _retire_stale_outboxes(self) -> None:
        """Deletes the outboxes of transmits the configuration in force no longer has (removed
        or renamed): nothing would send what they queue, and each may hold OUTBOX_MAX_BYTES of
        disk. Not while a stuck pass of an earlier service may still append to one: the next
        reload or start-up does it. A failure is logged; the configuration stays in force."""
        outboxes = self._ports.outboxes
        if outboxes is None:
            return
        if any(thread.is_alive() for thread in self._lingering.values()):
            log.warning("outboxes of transmits no longer configured are kept while a stopped service is stuck")
            return
        try:
            gone = outboxes.retire(self._transmit_names())
            if gone:
                log.warning("deleted the outbox(es) of transmits no longer configured: %s", ", ".join(gone))
        except Exception as exc:
            log.error("cannot delete the outboxes of transmits no longer configured: %s", exc)

    def _desired(self) -> str:
        try:
            return self._runtime_state.get(DESIRED_KEY, RUNNING)
        except Exception as exc:
            log.error("cannot read the desired pipeline state, assuming running: %s", exc)
            return RUNNING

    def _set_desired(self, state: str) -> None:
        try:
            self._runtime_state.set(DESIRED_KEY, state)
        except Exception as exc:
            raise EdgeError(FTX_INTERNAL, f"Cannot record the pipeline state: {exc}", FTX_INTERNAL) from exc

    def _start_services(self) -> None:
        try:
            config = self._configuration.body()
            services = {spec.key: self._service_for(spec, config) for spec in configured_services(config)}
        except Exception as exc:
            self._failure = f"cannot read the configuration: {exc}"
            raise EdgeError(FTX_INTERNAL, f"Cannot start the pipeline: {self._failure}", FTX_INTERNAL) from exc
        started: list[ServiceThread] = []
        try:
            for service in services.values():
                service.start()
                started.append(service)
        except RuntimeError as exc:  # no more threads
            for service in started:
                service.request_stop()
            self._failure = f"cannot start a thread: {exc}"
            self._services = services
            raise EdgeError(FTX_INTERNAL, f"Cannot start the pipeline: {self._failure}", FTX_INTERNAL) from exc
        self._services = services
        self._running = True
        self._failure = None
        for service in services.values():
            if not service.runnable:
                log.warning("%s %s", service.spec.key, service.last_error)
        # Only services with a thread run; one without a runtime is configured, not running.
        running = sum(1 for service in services.values() if service.runnable)
        log.info("pipeline started: %d of %d services running", running, len(services))

    def _stop_services(self) -> None:
        services = list(self._services.values())
        for service in services:
            service.request_stop()
        deadline = time.monotonic() + self._stop_timeout
        for service in services:
            if not service.join(deadline):
                service.note_stuck(self._stop_timeout)
                self._lingering[service.spec.key] = service.thread
        self._lingering = {k: t for k, t in self._lingering.items() if t.is_alive()}
        if self._running:
            log.info("pipeline stopped")
        self._running = False
        self._failure = None

    def _replace(self, old: ServiceThread) -> None:
        """A fresh thread for a service paused by a restream, if the pipeline still runs."""
        if not self._running:
            return
        service = self._service_for(old.spec, self._configuration.body(), predecessor=old.thread)
        self._services[old.spec.key] = service
        try:
            service.start()
        except RuntimeError as exc:
            self._failure = f"cannot start a thread: {exc}"
            log.error("cannot restart %s after restream: %s", old.spec.key, exc)

    def _service_for(self, spec: ServiceSpec, config: dict[str, Any],
                     predecessor: threading.Thread | None = None) -> ServiceThread:
        runtime_class, unavailable = self._runtime_class(spec)
        if predecessor is None:
            predecessor = self._lingering.get(spec.key)
        return ServiceThread(spec, runtime_class, self._ports, config, unavailable=unavailable,
                             predecessor=predecessor, on_pass=self._on_pass)

    def _runtime_class(self, spec: ServiceSpec) -> tuple[type | None, str | None]:
        # The reason is the service's last_error while its status is `unknown`.
        kind = spec.component_type.lower()
        component = self._find_component(spec.section, spec.type_name)
        if component is None:
            return None, f"not running: there is no {kind} of type {spec.type_name!r}"
        try:
            runtime_class = component.load_runtime()
        except Exception as exc:  # e.g. its protocol library is missing
            return None, f"not running: cannot load the {spec.type_name} runtime: {type(exc).__name__}: {exc}"
        if runtime_class is None:
            consequence = "nothing is sent" if spec.component_type == TRANSMIT else "nothing is read"
            return None, (f"not running: the {spec.type_name} {kind} has no runtime on this appliance yet, "
                          f"so {consequence}")
        return runtime_class, None

    def _on_pass(self, spec: ServiceSpec, result: PollResult, when: str) -> None:
        if spec.component_type != TRANSMIT or result.records_out <= 0:
            return
        sent = {"transmit_name": spec.name, "transmit_type": spec.type_name,
                "records": result.records_out, "timestamp": when}
        self._last_transmit = sent
        self._runtime_state.set(LAST_TRANSMIT_KEY, json.dumps(sent))
