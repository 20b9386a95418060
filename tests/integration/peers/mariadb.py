"""A real MariaDB server on loopback for the SQL receiver tests (database_type mysql).

Its own data directory in a fresh temp folder, a free loopback port, no networking beyond
127.0.0.1, one user with a password and one database. The server runs as `nobody` like the
PostgreSQL peer; the tests' setup SQL goes in as root over the server's unix socket.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.integration.peers.certificates import ServerCertificate
from tests.loopback import free_port

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
RUN_AS = "nobody"
USER = "edge_reader"
PASSWORD = "maria-test-Passw0rd"
DATABASE = "plant"


def available() -> str | None:
    """Why MariaDB cannot run here, or None when it can."""
    if not (os.path.exists(MARIADBD) and os.path.exists(INSTALL_DB)):
        return "mariadb-server is not installed (tests/peers/install.sh installs it)"
    if os.geteuid() != 0:
        return "starting mariadbd as another user needs root"
    return None


class MariaDbServer:
    """With `tls`, the server also takes TLS connections, showing that certificate."""

    def __init__(self, tls: ServerCertificate | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="edge-maria-"))
        self.data = self.root / "data"
        self.socket = self.root / "mysqld.sock"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.root / "mariadbd.log"
        self._initialised = False
        self.tls = tls

    @property
    def connection(self) -> dict:
        """The SQL receiver's connection entry for this server."""
        return {"host": "127.0.0.1", "port": self.port, "username": USER, "password": PASSWORD,
                "database_type": "mysql", "database_name": DATABASE, "ssl": False}

    def _options(self) -> list[str]:
        return ["--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--user={RUN_AS}", "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M", f"--pid-file={self.root / 'mariadbd.pid'}", "--skip-name-resolve",
                *self._tls_options()]

    def _tls_options(self) -> list[str]:
        if self.tls is None:
            return []
        cert, key = self.tls.install(self.root, RUN_AS)
        return [f"--ssl-cert={cert}", f"--ssl-key={key}"]

    def start(self, timeout: float = 60) -> MariaDbServer:
        account = pwd.getpwnam(RUN_AS)
        if not self._initialised:
            os.chmod(self.root, 0o755)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            subprocess.run([INSTALL_DB, "--no-defaults", f"--datadir={self.data}", f"--user={RUN_AS}",
                            "--auth-root-authentication-method=socket", "--skip-test-db"],
                           check=True, capture_output=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([MARIADBD, *self._options()], stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            if self.socket.exists():
                try:
                    self.root_sql("SELECT 1")
                    break
                except subprocess.CalledProcessError:
                    pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("mariadbd did not become ready in time")
        if not self._initialised:
            self.root_sql(f"CREATE DATABASE {DATABASE}; "
                          f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; "
                          f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'127.0.0.1'")
            self._initialised = True
        return self

    def root_sql(self, sql: str) -> str:
        """Runs SQL as root over the unix socket (socket authentication)."""
        return subprocess.run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-B",
                               "-e", sql], check=True, capture_output=True, text=True).stdout

    def connect(self):
        """A PyMySQL connection as the test user (autocommit), to fill tables."""
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, database=DATABASE,
                               autocommit=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
