"""A full disk under the data directory (a small tmpfs mounted for the test): appends and
config saves answer a clear error in their envelope, nothing acknowledged is lost, reads keep
working, and writes work again once space returns - also across a restart."""

import contextlib
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

DISK_MB = 24


@contextlib.contextmanager
def small_disk(directory: Path):
    """A tmpfs of DISK_MB at `directory`; skips the test where mounting is not permitted."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the data directory needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(directory)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def fill(directory: Path) -> Path:
    """Takes every free byte of the file system with one file (unbuffered writes, smaller and
    smaller, until none fits)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        size = 1 << 20
        while size >= 512:
            try:
                os.write(fd, b"\0" * size)
            except OSError:
                size //= 2
    finally:
        os.close(fd)
    return filler


def append(client, tag: str, start: int, count: int):
    rows = [[tag, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1_600_000_000 + start + k)), float(start + k)]
            for k in range(count)]
    return client.post("/machiot/v1/datapoints/raw/TAG", {"values": rows})


def stored(client, tag: str) -> list[float]:
    query = urllib.parse.quote(f"select value from tag where name = '{tag}' order by time")
    response = client.get(f"/machbase?m=1&q={query}")
    assert response.status == 200 and response.json["error_code"] == 0, response.body
    return [row[0] for row in response.json["data"]]


def test_full_disk_refuses_writes_clearly_keeps_reads_and_acknowledged_points(edge_server_factory, tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        server = edge_server_factory("disk/data", conf_lines=[f"LOG_DIR = {tmp_path / 'logs'}", "TIMEZONE = UTC"])
        client = server.client
        acknowledged = []
        for i in range(5):
            response = append(client, "before", i * 100, 100)
            assert response.status == 200 and response.json["append_success"] == 100
            acknowledged += [float(i * 100 + k) for k in range(100)]
        filler = fill(disk)

        # Appends now fail clearly (and fail whole); every acknowledged point stays readable.
        refused = 0
        for i in range(5, 400):
            response = append(client, "before", i * 100, 100)
            if response.status == 200:
                assert response.json["append_success"] == 100
                acknowledged += [float(i * 100 + k) for k in range(100)]
                continue
            assert response.status == 507, response.body
            assert response.json["error_code"] == 2900 and "disk" in response.json["error_message"]
            refused += 1
            if refused == 3:
                break
        assert refused == 3, "the disk never filled"
        assert stored(client, "before") == acknowledged
        assert client.get("/machiot/v1/tags/list/TAG").status == 200

        influx = client.request("POST", "/write?precision=s", body=b"full v=1 1", headers={"Content-Type": "text/plain"})
        assert influx.status == 507 and "disk" in influx.json["error"], influx.body

        # The catalog too: a configuration save answers in the FactoryTX envelope.
        config = {"data_receiver": [], "transforms": [], "data_transmit": []}
        saved = client.post("/v1/config", config)
        assert saved.status == 507 and saved.json["success"] is False
        assert saved.json["error"]["code"] == 507 and "disk" in saved.json["error"]["text"]
        assert client.get("/v1/config").status == 200
        failed_sql = client.get("/machbase?q=" + urllib.parse.quote("create table full_log (v integer)"))
        assert failed_sql.json["error_code"] in (0, 2900), failed_sql.body

        # Space returns: appends and saves work again, without a restart.
        filler.unlink()
        after = append(client, "after", 0, 10)
        assert after.status == 200 and after.json["append_success"] == 10, after.body
        assert client.post("/v1/config", config).json["success"] is True
        assert stored(client, "before") == acknowledged
        assert stored(client, "after") == [float(k) for k in range(10)]

        # Nothing acknowledged is lost by a restart either, and nothing refused appears.
        server.stop()
        server.start()
        assert stored(server.client, "before") == acknowledged
        assert stored(server.client, "after") == [float(k) for k in range(10)]
        server.stop()
