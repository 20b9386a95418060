"""Users with roles through the real server: SQL user statements, `edge user ...` beside a
running server, a reader's 403s and allowed reads on all three APIs, the last-admin rule."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse

import pytest

from tests.conftest import REPO, Client

READER_PASSWORD = "Hmi-Reader-pw1"
SECRET = "N0t-in-any-log"
TAG_TABLE = "users_tags"


@pytest.fixture(scope="module")
def reader(edge_server) -> Client:
    """`scada`, made a reader by Machbase's CREATE USER, and a tag table with two points."""
    admin = edge_server.client
    assert q(admin, f"CREATE USER scada IDENTIFIED BY '{READER_PASSWORD}'") == \
        {"error_code": 0, "error_message": "No Error", "data": []}
    assert q(admin, f"create tag table {TAG_TABLE} (name varchar(20) primary key, time datetime basetime, "
                    f"value double summarized)")["error_code"] == 0
    assert q(admin, "create table users_log (a integer)")["error_code"] == 0
    assert admin.post(f"/machiot/datapoints/raw/{TAG_TABLE}",
                      {"values": [["t1", "2021-01-02 03:04:05", 1.5], ["t1", "2021-01-02 03:04:06", 2.5]]}
                      ).json["error_code"] == 0
    return Client(edge_server.url, "scada", READER_PASSWORD)


def q(client: Client, statement: str, method: str = "GET") -> dict:
    if method == "GET":
        return client.get("/machbase?" + urllib.parse.urlencode({"q": statement})).json
    return client.post("/machbase", urllib.parse.urlencode({"q": statement}),
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).json


def edge_user(server, *args: str, password: str | None = None, env_password: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "EDGE_USER_PASSWORD"}
    env["PYTHONPATH"] = str(REPO)
    if env_password is not None:
        env["EDGE_USER_PASSWORD"] = env_password
    return subprocess.run([sys.executable, "-m", "edge", "user", *args, "--data-dir", str(server.data_dir)],
                          input=(password + "\n") if password is not None else "", capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=60)


def admin_view(client: Client) -> tuple:
    """What the refused requests below could have changed, as the admin sees it."""
    return (q(client, f"select name, time, value from {TAG_TABLE} order by time")["data"],
            q(client, "select * from users_log")["data"],
            q(client, f"select name from _{TAG_TABLE}_meta order by name")["data"],
            [q(client, f"select count(*) from {table}")["error_code"] for table in ("sneaky", "t2")],
            client.get("/v1/config").json,
            client.get("/v1/status").json["response"]["factorytx"]["status"])


def forbidden_ftx(response) -> None:
    assert response.status == 403, response.body
    body = response.json
    assert body["success"] is False and body["error"]["code"] == 403
    assert "needs the admin role" in body["error"]["text"]


def forbidden_machbase(response) -> None:
    assert response.status == 403, response.body
    body = response.json
    assert body["error_code"] == 3125 and body["data"] == []
    assert "admin role" in body["error_message"]


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v1/config", {"data_receiver": [], "transforms": [], "data_transmit": []}),
    ("POST", "/v1/ftx/start", None),
    ("POST", "/v1/ftx/stop", None),
    ("POST", "/v1/ftx/restart", None),
    ("POST", "/v1/restream", {"data_receiver": "r", "asset": "a", "stream_type": "s"}),
])
def test_a_reader_may_not_change_config_or_control_the_pipeline(edge_server, reader, method, path, body):
    before = admin_view(edge_server.client)
    forbidden_ftx(reader.request(method, path, body=body))
    assert admin_view(edge_server.client) == before


@pytest.mark.parametrize("method, path, body", [
    ("POST", f"/machiot/datapoints/raw/{TAG_TABLE}", {"values": [["t1", "2021-01-02 03:04:07", 9.0]]}),
    ("POST", f"/machiot-rest-api/v1/datapoints/raw/{TAG_TABLE}", {"values": [["t1", "2021-01-02 03:04:07", 9.0]]}),
    ("DELETE", f"/machiot/datapoints/raw/{TAG_TABLE}/t1", None),
    ("POST", f"/machiot/tags/list/{TAG_TABLE}", {"values": [["t9"]]}),
    ("PUT", f"/machiot/tags/list/{TAG_TABLE}/t1", {"values": []}),
    ("DELETE", f"/machiot/tags/list/{TAG_TABLE}/t1", None),
    ("POST", "/machbase", {"name": TAG_TABLE, "date_format": "YYYY-MM-DD HH24:MI:SS",
                           "values": [["t1", "2021-01-02 03:04:07", 9.0]]}),
    ("POST", "/machbase", {"name": "users_log", "values": [[1]]}),
])
def test_a_reader_may_not_append_or_edit_tags(edge_server, reader, method, path, body):
    before = admin_view(edge_server.client)
    forbidden_machbase(reader.request(method, path, body=body))
    assert admin_view(edge_server.client) == before


@pytest.mark.parametrize("statement", [
    f"insert into {TAG_TABLE} values ('t1', '2021-01-02 03:04:07', 9)",
    "insert into users_log values (5)",
    f"delete from {TAG_TABLE} where name = 't1'",
    "update users_log set a = 1",
    "create table sneaky (a integer)",
    f"drop table {TAG_TABLE}",
    "create tag table t2 (name varchar(20) primary key, time datetime basetime, value double summarized)",
    "with x as (select 1) insert into users_log select * from x",
    f"create user mole identified by '{SECRET}' role admin",
    "alter user sys identified by 'taken-over'",
    "drop user sys",
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_readers_writing_statements_are_forbidden(edge_server, reader, statement, method):
    before = admin_view(edge_server.client)
    answer = q(reader, statement, method)
    assert answer["error_code"] == 3125, answer
    assert SECRET not in answer["error_message"]
    assert admin_view(edge_server.client) == before
    assert Client(edge_server.url, "mole", SECRET).get("/v1/status").status == 401
    assert edge_server.client.get("/v1/status").status == 200


def test_a_reader_may_query_and_read_status(edge_server, reader):
    assert q(reader, f"select name, value from {TAG_TABLE} order by time")["data"] == \
        [{"NAME": "t1", "VALUE": 1.5}, {"NAME": "t1", "VALUE": 2.5}]
    assert q(reader, f"select count(*) as n from {TAG_TABLE}", "POST")["data"] == [{"N": 2}]
    raw = reader.get(f"/machiot/datapoints/raw/{TAG_TABLE}/t1/2021-01-02T03:04:00/2021-01-02T03:05:00")
    assert raw.status == 200 and [row["VALUE"] for row in raw.json["data"]] == [1.5, 2.5]
    assert reader.get(f"/machiot/tags/count/{TAG_TABLE}/t1").json["data"] == [{"name": "t1", "count": 2}]
    assert reader.get(f"/machiot/tags/list/{TAG_TABLE}").json["error_code"] == 0
    for path in ("/v1/status", "/v1/config", "/v1/streams", "/v1/config/templates"):
        answer = reader.get(path)
        assert answer.status == 200 and answer.json["success"] is True, (path, answer.body)
    validate = reader.post("/v1/config/validate", {"data_receiver": [], "transforms": [], "data_transmit": []})
    assert validate.status == 200 and validate.json["success"] is True
    assert reader.get("/v1/log/stream/factorytx_web.log").status == 200


def test_user_statements_manage_users_and_never_log_the_password(edge_server):
    admin = edge_server.client
    assert q(admin, f"create user op1 identified by '{SECRET}' role admin", "POST")["error_code"] == 0
    op1 = Client(edge_server.url, "OP1", SECRET)  # names are case-insensitive
    assert op1.post("/v1/ftx/stop").json["success"] is True  # an admin controls
    assert q(op1, "alter user op1 identified by 'second-pw' role reader")["error_code"] == 0
    assert op1.get("/v1/status").status == 401  # the old password, remembered or not, is gone
    op1 = Client(edge_server.url, "op1", "second-pw")
    forbidden_ftx(op1.post("/v1/ftx/start"))
    malformed = q(admin, f"create user op2 identified by '{SECRET}' role boss")
    assert malformed["error_code"] == 2010 and SECRET not in malformed["error_message"]
    assert q(admin, "drop user op1")["error_code"] == 0
    assert op1.get("/v1/status").status == 401
    logs = edge_server.data_dir / "logs"
    texts = [path.read_text(errors="replace") for path in logs.iterdir() if path.is_file()]
    assert any("created user op1 (admin)" in text for text in texts)
    assert not any(SECRET in text or "second-pw" in text for text in texts)


def test_the_last_admin_can_be_neither_dropped_nor_demoted(edge_server):
    admin = edge_server.client
    for statement in ("drop user sys", "alter user sys role reader"):
        answer = q(admin, statement)
        assert answer["error_code"] == 2212, answer
        assert "last admin" in answer["error_message"]
    assert admin.get("/v1/status").status == 200
    assert admin.post("/v1/ftx/stop").json["success"] is True


def test_edge_user_cli_works_beside_the_running_server(edge_server):
    admin = edge_server.client
    added = edge_user(edge_server, "add", "hmi", "--role", "reader", password="cli-pw-1")
    assert added.returncode == 0, added.stderr
    assert "cli-pw-1" not in added.stdout + added.stderr
    hmi = Client(edge_server.url, "hmi", "cli-pw-1")
    assert hmi.get("/v1/status").status == 200
    forbidden_ftx(hmi.post("/v1/ftx/start"))

    changed = edge_user(edge_server, "passwd", "hmi", env_password="cli-pw-2")
    assert changed.returncode == 0, changed.stderr
    assert hmi.get("/v1/status").status == 401  # the server sees the change at once
    assert Client(edge_server.url, "hmi", "cli-pw-2").get("/v1/status").status == 200

    listed = edge_user(edge_server, "list")
    assert listed.returncode == 0
    rows = [line.split("\t")[:2] for line in listed.stdout.splitlines()]
    assert ["hmi", "reader"] in rows and ["sys", "admin"] in rows and ["scada", "reader"] in rows

    duplicate = edge_user(edge_server, "add", "HMI", "--role", "admin", password="x")
    assert duplicate.returncode == 1 and "User hmi already exists." in duplicate.stderr
    no_password = edge_user(edge_server, "add", "nopw", "--role", "reader")
    assert no_password.returncode == 1 and "no password" in no_password.stderr
    last = edge_user(edge_server, "remove", "sys")
    assert last.returncode == 1 and "last admin" in last.stderr
    demote = edge_user(edge_server, "role", "sys", "--role", "reader")
    assert demote.returncode == 1 and "last admin" in demote.stderr

    removed = edge_user(edge_server, "remove", "hmi")
    assert removed.returncode == 0, removed.stderr
    assert Client(edge_server.url, "hmi", "cli-pw-2").get("/v1/status").status == 401
    assert admin.get("/v1/status").status == 200
    names = [line.split("\t")[0] for line in edge_user(edge_server, "list").stdout.splitlines()]
    assert "hmi" not in names and "nopw" not in names and "sys" in names


def test_edge_user_refuses_a_data_directory_without_a_catalog(edge_server, tmp_path):
    missing = subprocess.run([sys.executable, "-m", "edge", "user", "list", "--data-dir", str(tmp_path / "nope")],
                             capture_output=True, text=True, cwd=REPO, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert missing.returncode == 1 and "no catalog" in missing.stderr
    assert not (tmp_path / "nope").exists()


def test_the_password_is_never_an_argument():
    helped = subprocess.run([sys.executable, "-m", "edge", "user", "add", "x", "--role", "reader", "--password",
                             "pw"], capture_output=True, text=True, cwd=REPO, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert helped.returncode == 2 and "unrecognized arguments" in helped.stderr
