"""build.sh: it parses, and `./build.sh run` says where it really serves (the flags given win)."""

from __future__ import annotations

import hashlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.loopback import free_port

DEADLINE_SECONDS = 60


def test_build_script_parses():
    assert subprocess.run(["bash", "-n", str(REPO / "build.sh")], capture_output=True).returncode == 0


def checkout_with_venv(folder: Path) -> Path:
    """build.sh in `folder` with a .venv that `dev` finds ready: its python is this one, and
    its `edge` runs this checkout's program, as the console script pip writes would."""
    shutil.copy(REPO / "build.sh", folder / "build.sh")
    shutil.copy(REPO / "pyproject.toml", folder / "pyproject.toml")
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    edge = bin_dir / "edge"
    edge.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m edge "$@"\n')
    edge.chmod(0o755)
    digest = hashlib.sha256((folder / "pyproject.toml").read_bytes()).hexdigest()
    (folder / ".venv" / ".edge-installed").write_text(digest + "\n")
    return folder / "build.sh"


def lines_until(process: subprocess.Popen, wanted: int) -> list[str]:
    """The process's first output lines, until `wanted` lines start with "edge: " or it ends."""
    lines: list[str] = []
    buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while sum(line.startswith("edge: ") for line in lines) < wanted and time.monotonic() < deadline:
        if not selector.select(timeout=0.2):
            continue
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        lines += [line.decode(errors="replace") for line in complete]
    return lines


def test_run_prints_the_port_address_and_data_dir_given_not_its_defaults(tmp_path):
    script = checkout_with_venv(tmp_path)
    port = free_port()
    data = tmp_path / "elsewhere"
    env = {key: value for key, value in os.environ.items() if key != "EDGE_ADMIN_PASSWORD"}
    env.update(PYTHONPATH=str(REPO), PYTHON=sys.executable)
    process = subprocess.Popen(["bash", str(script), "run", "--http-port", str(port), "--bind", "127.0.0.2",
                                "--data-dir", str(data)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = lines_until(process, 2)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    ours = [line for line in lines if line.startswith("edge: ")]
    assert ours == [f"edge: serving on http://127.0.0.2:{port} (data in {data})",
                    f"edge: the password of user 'sys' is in {data / 'initial-password'}"], lines
    assert not any("5657" in line for line in lines), lines
