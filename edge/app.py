"""Wiring: settings -> catalog -> store -> sql, pipeline -> web, and the start/stop order of the program."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
import uuid
from pathlib import Path

from edge import __version__
from edge.catalog import Catalog
from edge.catalog.backup_status import BackupStatus
from edge.catalog.config_history import ConfigHistory
from edge.catalog.historian_ledger import HistorianLedger
from edge.catalog.markers import Markers
from edge.catalog.receiver_state import ReceiverState
from edge.catalog.runtime_state import RuntimeState
from edge.catalog.users import ADMIN, ADMIN_USER, Users
from edge.settings import Settings
from edge.system import sdnotify
from edge.system.allocator import keep_freed_memory
from edge.system.logs import setup_logging

log = logging.getLogger("edge.app")

INITIAL_PASSWORD_FILE = "initial-password"
DEVICE_ID_KEY = "device_id"


class EdgeApp:
    """Everything the program runs, built in dependency order; each layer gets only its ports."""

    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        setup_logging(settings.log_dir, settings.log_max_bytes, settings.log_backup_count)
        keep_freed_memory()
        log.info("edge %s starting, data in %s", __version__, settings.data_dir)

        self.catalog = Catalog(settings.data_dir / "catalog.db")
        self.users = Users(self.catalog)
        self.config_history = ConfigHistory(self.catalog)
        self.markers = Markers(self.catalog)
        self.receiver_state = ReceiverState(self.catalog)
        self.historian_ledger = HistorianLedger(self.catalog)
        self.backup_status = BackupStatus(self.catalog)
        self.runtime_state = RuntimeState(self.catalog)
        self.password_file = ensure_admin_user(self.users, settings.data_dir)

        from edge.store import TagStore

        self.store = TagStore(self.catalog, settings.data_dir / "tags")

        from edge.sql.engine import SqlEngine

        # Machbase SQL on <data-dir>/data.db and the store; CREATE/ALTER/DROP USER change self.users.
        self.sql = SqlEngine(self.store, settings, users=self.users)

        from edge.pipeline.config.configuration import FtxConfiguration
        from edge.pipeline.outbox.outboxes import Outboxes
        from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
        from edge.pipeline.runtime.scheduler import Scheduler
        from edge.pipeline.transmits.remotedatapost.backup import ConfigBackup

        # What every component is given: the store as a historian and the catalog books it writes.
        historian = Historian(self.store)
        books = Books(self.markers, self.receiver_state, self.historian_ledger, self.catalog)
        self.device_id = ensure_device_id(self.runtime_state)
        # Each transmit's store-and-forward queue: receivers append, the transmit's thread drains.
        self.outboxes = Outboxes(settings.data_dir / "outbox", settings.outbox_max_bytes, self.markers,
                                 self.device_id)
        self.pipeline_ports = ComponentPorts(historian, settings.historian_table, books, self.outboxes,
                                             settings.data_dir)
        self.configuration = FtxConfiguration(
            self.config_history, mask_secrets=settings.mask_secrets,
            tag_name_bytes=lambda: historian.name_length(settings.historian_table))
        self.scheduler = Scheduler(self.configuration, self.runtime_state, self.pipeline_ports)
        self.config_backup = ConfigBackup(self.configuration, self.backup_status, self.device_id,
                                          settings.config_backup_hours * 3600.0)

        from edge.time.timezone import TimeZone
        from edge.web.ports import FtxPorts, HistorianPorts, HttpPorts
        from edge.web.server import build_wsgi

        self.wsgi = build_wsgi(
            HttpPorts(self.users, settings.http_auth, settings.max_request_size, settings.login_attempts),
            FtxPorts(self.configuration, self.scheduler, self.markers, self.backup_status,
                     settings.data_dir, settings.log_dir),
            HistorianPorts(self.sql, self.store, TimeZone(settings.timezone), settings.http_max_mem,
                           settings.historian_table))
        self._server = None
        self._watchdog: sdnotify.Watchdog | None = None
        self._signalled = False
        self._stopping = threading.Event()

    def serve(self) -> None:
        """Binds the port, starts the pipeline as it was last asked to be, serves until SIGTERM."""
        from edge.web.server import create_server

        self._server = create_server(self.wsgi, self.settings)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self.scheduler.resume()
            self.config_backup.start()
            self._start_watchdog()
            host = self.settings.http_bind
            url = f"http://{f'[{host}]' if ':' in host else host}:{self._server.effective_port}"
            log.info("serving on %s", url)
            # On the terminal too: the one true statement of where the program serves (settings,
            # flags and the port bound all applied), which ./build.sh run shows as its own.
            print(f"edge: serving on {url} (data in {self.settings.data_dir})", flush=True)
            if self.password_file is not None:
                print(f"edge: the password of user '{ADMIN_USER}' is in {self.password_file}", flush=True)
            sdnotify.notify("READY=1\nSTATUS=serving")
            # Returns once a signal asked the server to stop: at its first pass if the signal
            # came while starting.
            self._server.run()
        finally:
            self.stop()

    def _on_signal(self, signum, frame):
        if self._signalled:
            return  # already on the way out; a second SIGTERM must not cut stop() short
        self._signalled = True
        log.info("signal %d: stopping", signum)
        # The loop ends (stop() then runs in order); nothing is raised here, in whatever code
        # the main thread was running when the signal came.
        self._server.request_stop()

    def _start_watchdog(self) -> None:
        interval = sdnotify.watchdog_interval()
        if interval is None:
            return
        self._watchdog = sdnotify.Watchdog(interval, {
            "http": lambda: self._serving_loop_answers(interval / 2),
            "catalog": self._catalog_answers,
        })
        self._watchdog.start()
        log.info("systemd watchdog: pinging every %.1f s while healthy", interval)

    def _serving_loop_answers(self, timeout: float) -> str | None:
        """Whether waitress's loop (main thread) runs a task handed to it within `timeout` s."""
        answered = threading.Event()
        self._server.trigger.pull_trigger(answered.set)
        if answered.wait(timeout):
            return None
        return f"the HTTP serving loop did not answer within {timeout:.1f} s"

    def _catalog_answers(self) -> str | None:
        self.catalog.connection().execute("SELECT count(*) FROM runtime_state").fetchone()
        return None

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._watchdog is not None:
            self._watchdog.stop()
        sdnotify.notify("STOPPING=1")
        log.info("stopping")
        if self._server is not None:
            self._server.close()
            self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        self.config_backup.stop()
        self.scheduler.shutdown()
        self.outboxes.close()
        self.sql.close()
        self.store.close()
        try:
            self.catalog.close()
        except Exception as exc:  # a thread stuck in a pass may still hold its connection
            log.warning("closing the catalog: %s", exc)
        log.info("stopped")
        logging.shutdown()


def ensure_device_id(runtime_state: RuntimeState) -> str:
    """This appliance's id for the cloud: made once, kept in the catalog, so stable per data directory."""
    device_id = runtime_state.get(DEVICE_ID_KEY)
    if not device_id:
        device_id = uuid.uuid4().hex
        runtime_state.set(DEVICE_ID_KEY, device_id)
    return device_id


def ensure_admin_user(users: Users, data_dir: Path) -> Path | None:
    """On first start (no admin yet) creates the admin `sys` from $EDGE_ADMIN_PASSWORD or a
    generated password.

    A generated password is written to <data-dir>/initial-password (mode 0600), the only place
    it is ever shown; returns that path, or None when the password came from the environment
    or an admin existed already. Once there is an admin, nothing is created: a `sys` removed
    in favour of another admin stays removed.
    """
    if users.admin_count() > 0:
        path = data_dir / INITIAL_PASSWORD_FILE
        return path if path.exists() else None
    password = os.environ.get("EDGE_ADMIN_PASSWORD")
    if password:
        users.create(ADMIN_USER, password, ADMIN)
        return None
    password = secrets.token_urlsafe(18)
    path = data_dir / INITIAL_PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    os.chmod(path, 0o600)
    users.create(ADMIN_USER, password, ADMIN)
    log.warning("created user %s; its password is in %s", ADMIN_USER, path)
    return path
