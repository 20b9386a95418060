"""The smb receiver against a real Samba smbd on loopback."""

from __future__ import annotations

import datetime as dt

import pytest

from edge.pipeline.receivers.smb.receiver import SmbReceiver, split_shared_folder
from tests.integration.peers import samba
from tests.unit.pipeline.receivers.pipeline_parts import receiver_config, start_receiver

HEADER = "timestamp,temp,count\n"


def rows(start: int, count: int) -> str:
    return "".join(f"2024-05-01 12:00:{i:02d},{i + 0.25},{i}\n" for i in range(start, start + count))


def expected(start: int, count: int) -> list[tuple[int, float]]:
    base = int(dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    return [(base + i * 10**9, i + 0.25) for i in range(start, start + count)]


def smb_config(server, folder: str, **kwargs):
    connection = dict(server.connection, shared_folder=f"/{samba.SHARE}/{folder}")
    config = receiver_config(name="share_1", connections=[connection], **kwargs)
    config["protocol"] = "smb"
    return config


def test_shared_folder_names_the_share_and_a_folder_inside():
    assert split_shared_folder("/data/folder-with-files") == ("data", ["folder-with-files"])
    assert split_shared_folder("\\\\data\\a\\b") == ("data", ["a", "b"])


def test_files_on_a_share_land_in_the_historian(samba_server, parts):
    app = parts()
    folder = samba_server.share / "landing"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "A.CSV").write_text(HEADER + rows(0, 3))  # Windows names: filters ignore case
    (folder / "b.csv").write_text(HEADER + rows(3, 2))
    (folder / "skip.txt").write_text("x\n")
    runtime = start_receiver(app, smb_config(samba_server, "landing"), cls=SmbReceiver)
    try:
        assert runtime.poll().records_in == 5
        assert runtime.poll().records_in == 0
        with open(folder / "b.csv", "a") as handle:
            handle.write(rows(5, 2))
        assert runtime.poll().records_in == 2
    finally:
        runtime.close()
    assert app.points("press:cycle:temp") == expected(0, 7)
    assert app.markers_of("press", "cycle") == {}


def test_delete_completed_removes_files_from_the_share(samba_server, parts):
    app = parts()
    folder = samba_server.share / "deleting"
    folder.mkdir()
    for index in range(3):
        (folder / f"f{index}.csv").write_text(HEADER + rows(index * 10, 2))
    runtime = start_receiver(app, smb_config(samba_server, "deleting", delete_completed=True), cls=SmbReceiver)
    try:
        runtime.poll()
    finally:
        runtime.close()
    assert list(folder.iterdir()) == []
    assert len(app.points("press:cycle:count")) == 6


def test_a_wrong_password_raises_a_connection_marker(samba_server, parts):
    app = parts()
    (samba_server.share / "locked").mkdir()
    config = smb_config(samba_server, "locked")
    config["connections"][0]["password"] = "not-the-password"
    runtime = start_receiver(app, config, cls=SmbReceiver)
    try:
        runtime.poll()
    finally:
        runtime.close()
    level, message = app.markers_of("press", "cycle")["connection"]
    assert level == "error" and message.startswith(f"//127.0.0.1:{samba_server.port}/data/locked: cannot list")


def test_an_unreachable_server_is_retried_until_it_is_back(parts, tmp_path):
    reason = samba.available()
    if reason:
        pytest.skip(reason)
    server = samba.SambaServer(tmp_path / "smb").start()
    app = parts()
    (server.share / "in").mkdir()
    runtime = start_receiver(app, smb_config(server, "in"), cls=SmbReceiver)
    try:
        runtime.poll()  # connected
        server.stop()
        (server.share / "in" / "a.csv").write_text(HEADER + rows(0, 2))
        assert runtime.poll().records_in == 0
        assert app.markers_of("press", "cycle")["connection"][0] == "error"
        server.start()
        assert runtime.poll().records_in == 2
        assert "connection" not in app.markers_of("press", "cycle")
    finally:
        runtime.close()
        server.stop()
    assert app.points("press:cycle:temp") == expected(0, 2)
