"""A real PostgreSQL 15 server on loopback for the SQL receiver tests and bench.

Its own cluster in a fresh temp folder (not under pytest's root-only tmp dir: the server runs
as the unprivileged user `nobody`, since postgres refuses root), on a free loopback port, with
password (SCRAM) login over TCP for one user and database. Started in the foreground and
stopped by its pid; `stop(fast=False)` kills it outright (as a crash or power cut would) and
`start()` again brings back the same cluster on the same port.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.integration.peers.certificates import ServerCertificate
from tests.loopback import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
RUN_AS = "nobody"
USER = "edge_reader"
PASSWORD = "pg-test-Passw0rd"
DATABASE = "plant"


def available() -> str | None:
    """Why PostgreSQL cannot run here, or None when it can."""
    if not (BIN / "postgres").exists():
        return "postgresql 15 is not installed (tests/peers/install.sh installs it)"
    if os.geteuid() != 0:
        return "starting postgres as another user needs root"
    return None


class PostgresServer:
    """With `tls`, the server also takes TLS connections, showing that certificate."""

    def __init__(self, port: int | None = None, tls: ServerCertificate | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="edge-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.root / "postgres.log"
        self._initialised = False
        self.tls = tls

    @property
    def connection(self) -> dict:
        """The SQL receiver's connection entry for this server."""
        return {"host": "127.0.0.1", "port": self.port, "username": USER, "password": PASSWORD,
                "database_type": "postgresql", "database_name": DATABASE, "ssl": False}

    def _as_user(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", RUN_AS, "--", *command], check=True, capture_output=True,
                              text=True, **kwargs)

    def _initdb(self) -> None:
        account = pwd.getpwnam(RUN_AS)
        os.chmod(self.root, 0o755)
        self.sockets.mkdir()
        password_file = self.root / "password"
        password_file.write_text(PASSWORD + "\n")
        for path in (self.root, self.sockets, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
        self._as_user(str(BIN / "initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={password_file}",
                      "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        password_file.unlink()
        self._initialised = True

    def start(self, timeout: float = 60) -> PostgresServer:
        if not self._initialised:
            self._initdb()
        log = open(self.log_path, "ab")
        os.chown(self.log_path, pwd.getpwnam(RUN_AS).pw_uid, -1)
        self.process = subprocess.Popen(
            ["runuser", "-u", RUN_AS, "--", str(BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.sockets), "-c", "fsync=off", "-c", "shared_buffers=32MB",
             "-c", "max_connections=30", *self._tls_options()],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            if subprocess.run([str(BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]).returncode == 0:
                self._create_database()
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("postgres did not become ready in time")

    def _tls_options(self) -> list[str]:
        if self.tls is None:
            return []
        cert, key = self.tls.install(self.root, RUN_AS)
        return ["-c", "ssl=on", "-c", f"ssl_cert_file={cert}", "-c", f"ssl_key_file={key}"]

    def _create_database(self) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", database="postgres")
        if not exists.strip():
            self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")

    def psql(self, sql: str, database: str = DATABASE) -> str:
        """Runs SQL as the cluster's owner over the unix socket; returns psql's unaligned output."""
        return self._as_user(str(BIN / "psql"),
                             "-h", str(self.sockets), "-p", str(self.port), "-U", USER, "-d", database,
                             "-v", "ON_ERROR_STOP=1", "-At", "-c", sql).stdout

    def connect(self):
        """A pg8000 DB-API connection as the test user (autocommit), to fill tables."""
        import pg8000.dbapi

        conn = pg8000.dbapi.connect(user=USER, password=PASSWORD, host="127.0.0.1", port=self.port,
                                    database=DATABASE)
        conn.autocommit = True
        return conn

    def stop(self, fast: bool = True) -> None:
        """Stops the server: a fast shutdown, or with fast=False a SIGKILL of the whole group."""
        if self.process is not None and self.process.poll() is None:
            if fast:
                self.process.terminate()  # runuser passes SIGTERM on: postgres's smart/fast shutdown
            else:
                os.killpg(self.process.pid, 9)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        if not fast:
            # Backends of a killed postmaster can linger a moment; wait until the port is free.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as sock:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    try:
                        sock.bind(("127.0.0.1", self.port))
                        break
                    except OSError:
                        time.sleep(0.2)
            (self.data / "postmaster.pid").unlink(missing_ok=True)
            for lock in self.sockets.glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
