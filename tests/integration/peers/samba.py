"""A real Samba smbd on loopback for the SMB receiver tests (see RECIPES.md).

Standalone server, unprivileged port, every directory in a temp folder, one share `data`
backed by `<tmp>/share`, one user. Started in the foreground and stopped by its pid.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.loopback import free_port

USER = "edgesmbtest"
PASSWORD = "smb-test-Passw0rd"
SHARE = "data"


def _smbd() -> str | None:
    return shutil.which("smbd") or next((p for p in ("/usr/sbin/smbd",) if os.path.exists(p)), None)


def available() -> str | None:
    """Why Samba cannot run here, or None when it can."""
    if _smbd() is None or shutil.which("smbpasswd") is None:
        return "samba is not installed (tests/peers/install.sh installs it)"
    if os.geteuid() != 0:
        return "starting smbd with its own user database needs root"
    return None


class SambaServer:
    def __init__(self, root: Path):
        self.root = root
        self.share = root / "share"
        self.port = free_port()
        self.conf = root / "smb.conf"
        self.process: subprocess.Popen | None = None
        self.log_path = root / "smbd.out"

    @property
    def connection(self) -> dict:
        """The SMB receiver's connection for this server's share."""
        return {"host": "127.0.0.1", "port": self.port, "username": USER, "password": PASSWORD,
                "shared_folder": SHARE}

    def start(self, timeout: float = 30) -> SambaServer:
        for name in ("share", "state", "cache", "lock", "pid", "priv", "log"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        r = self.root
        self.conf.write_text(f"""[global]
server role = standalone server
smb ports = {self.port}
interfaces = 127.0.0.1
bind interfaces only = yes
state directory = {r}/state
cache directory = {r}/cache
lock directory = {r}/lock
pid directory = {r}/pid
private dir = {r}/priv
log file = {r}/log/smbd.log
passdb backend = tdbsam:{r}/priv/passdb.tdb
disable spoolss = yes
load printers = no
printcap name = /dev/null
map to guest = never
server min protocol = SMB2

[{SHARE}]
path = {self.share}
read only = no
valid users = {USER}
force user = root
""")
        if subprocess.run(["id", USER], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", USER], check=True, capture_output=True)
        subprocess.run(["smbpasswd", "-c", str(self.conf), "-s", "-a", USER], input=f"{PASSWORD}\n{PASSWORD}\n",
                       text=True, check=True, capture_output=True)
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen([_smbd(), "-F", "--no-process-group", "-s", str(self.conf),
                                             "--debug-stdout"], stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)  # smbd signals its process group on exit
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"smbd exited with {self.process.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("smbd did not open its port in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
