"""GET/POST /machbase on a real server: every SQL example of the spec, tag tables through SQL,
the sandbox, a runaway query, and queries while appends stream in."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse

import pytest

SYS_AT_HOST = "Basic " + base64.b64encode(b"sys@localhost:test-admin-password").decode()


def q(client, sql: str, **params):
    query = urllib.parse.urlencode({"q": sql, **params})
    return client.get(f"/machbase?{query}", auth=SYS_AT_HOST)


def ok(response) -> dict:
    body = response.json
    assert body["error_code"] == 0, body
    return body


# The spec's samples, in its order -------------------------------------------------------------

def test_spec_ddl_dml_and_select(client):
    assert q(client, "create table test_table (name varchar(20), time datetime, value double)").json == \
        {"error_code": 0, "error_message": "No Error", "data": []}
    assert q(client, 'insert into test_table values ("test", "1999-01-01 00:00:00", 0)').json == \
        {"error_code": 0, "error_message": "No Error", "data": []}
    response = q(client, "select * from test_table")
    body = ok(response)
    assert body["columns"] == [{"name": "NAME", "type": 5, "length": 20}, {"name": "TIME", "type": 6, "length": 8},
                               {"name": "VALUE", "type": 20, "length": 8}]
    assert body["data"] == [{"NAME": "test", "TIME": "1999-01-01 00:00:00 000:000:000", "VALUE": 0.0}]
    assert b'"VALUE":0.000}' in response.body.replace(b" ", b"")
    assert q(client, "drop table test_table").json == {"error_code": 0, "error_message": "No Error", "data": []}
    assert q(client, "select * from test_table").json["error_code"] == 2025


def test_spec_append_to_a_log_table(client):
    ok(q(client, "create table append_table (name varchar(20), time datetime, value double)"))
    body = {"name": "append_table", "date_format": "YYYY-MM-DD",
            "values": [["test", "1999-01-01 00:00:01", 1], ["test", "1999-01-01 00:00:02", 2],
                       ["test", "1999-01-01 00:00:03", 3]]}
    assert client.post("/machbase", body).json == {"error_code": 0, "error_message": "No Error", "data": [],
                                                   "append_success": 3, "append_failure": 0}
    rows = ok(q(client, "select time, value from append_table order by time", m="1"))["data"]
    assert rows == [["1999-01-01 00:00:01 000:000:000", 1.0], ["1999-01-01 00:00:02 000:000:000", 2.0],
                    ["1999-01-01 00:00:03 000:000:000", 3.0]]


def test_spec_binary_append_and_select(client):
    payload = base64.b64encode(bytes(range(256))).decode()
    ok(q(client, "create table blob_table (v1 binary)"))
    assert client.post("/machbase", {"name": "blob_table", "date_format": "YYYY-MM-DD", "values": [[payload]]}).json \
        == {"error_code": 0, "error_message": "No Error", "data": [], "append_success": 1, "append_failure": 0}
    body = ok(q(client, "select * from blob_table"))
    assert body["columns"] == [{"name": "V1", "type": 57, "length": 67108864}]
    assert body["data"] == [{"V1": payload}]
    hexed = ok(q(client, "select to_hex(v1) from blob_table"))["data"]
    assert hexed == [{"TO_HEX(V1)": bytes(range(256)).hex().upper()}]


def test_spec_auth_with_user_at_host(client):
    missing = client.get("/machbase?" + urllib.parse.urlencode({"q": "select * from v$tag_stat"}), auth=None)
    assert missing.status == 401
    assert missing.json == {"error_code": 3118, "error_message": "There is No Authorization Header.", "data": []}
    body = ok(q(client, "select * from v$tag_stat"))
    assert [c["name"] for c in body["columns"]][:2] == ["NAME", "ROW_COUNT"]


def test_spec_scale_option(client):
    ok(q(client, "create table scale_table (c1 float, c2 double)"))
    ok(q(client, "insert into scale_table values (12345, 1234.012345)"))
    response = q(client, "select * from scale_table", s="5")
    body = ok(response)
    assert body["columns"] == [{"name": "C1", "type": 16, "length": 4}, {"name": "C2", "type": 20, "length": 8}]
    assert b'"C1":12345.00000' in response.body and b'"C2":1234.01235' in response.body
    assert b'"C2":1234.012' in q(client, "select * from scale_table", s="12").body  # out of range: 3


def test_spec_fetch_modes_on_a_tag_table(edge_server_factory):
    server = edge_server_factory("seoul", conf_lines=["TIMEZONE = Asia/Seoul"])
    client = server.client
    body = {"name": "tag", "values": [["tag1", 1_000_000_000 * 10**9, 1000000000], ["tag1", 1_000_000_001 * 10**9,
                                                                                   1000000001]]}
    assert client.post("/machbase", body).json["append_success"] == 2
    columns = [{"name": "NAME", "type": 5, "length": 80}, {"name": "TIME", "type": 6, "length": 8},
               {"name": "VALUE", "type": 20, "length": 8}]
    rows0 = q(client, "select * from tag limit 2", m="0")
    assert ok(rows0)["columns"] == columns
    assert rows0.json["data"] == [{"NAME": "tag1", "TIME": "2001-09-09 10:46:40 000:000:000", "VALUE": 1000000000.0},
                                  {"NAME": "tag1", "TIME": "2001-09-09 10:46:41 000:000:000", "VALUE": 1000000001.0}]
    assert b'"VALUE":1000000000.000}' in rows0.body
    rows1 = q(client, "select * from tag limit 2", m="1")
    assert rows1.json["data"] == [["tag1", "2001-09-09 10:46:40 000:000:000", 1000000000.0],
                                  ["tag1", "2001-09-09 10:46:41 000:000:000", 1000000001.0]]
    assert ok(q(client, "select to_char(time, 'YYYY-MM-DD HH24:MI') t from tag limit 1"))["data"] == \
        [{"T": "2001-09-09 10:46"}]


def test_spec_nulls_in_and_out(client):
    ok(q(client, "create table null_table (c1 varchar(10), c2 varchar(10), c3 varchar(10))"))
    values = [["data1", "data2", "data3"], ["data11", "data12", "data13"], ["data21", "data22", "data23"],
              [None, None, None]]
    assert client.post("/machbase", {"name": "null_table", "values": values}).json["append_success"] == 4
    ok(q(client, "create table null_types (c1 short, c2 integer, c3 long, c4 float, c5 double, c6 datetime, "
                 "c7 ipv4, c8 ipv6, c9 text, c10 binary, c11 varchar(3), c12 datetime)"))
    ok(q(client, "insert into null_types values (null, null, null, null, null, null, null, null, null, null, "
                 "null, null)"))
    assert ok(q(client, "select * from null_types"))["data"] == [{f"C{i}": None for i in range(1, 13)}]
    assert ok(q(client, "select * from null_table where c1 is null"))["data"] == [{"C1": None, "C2": None, "C3": None}]


# Tag tables through SQL ------------------------------------------------------------------------

def test_tag_table_queries_are_pushed_down_to_the_store(client):
    start = 1_600_000_000 * 10**9
    rows = [["pump", start + i * 10**9, float(i)] for i in range(600)]
    assert client.post("/machbase", {"name": "tag", "values": rows}).json["append_success"] == 600
    plan = ok(q(client, "explain query plan select * from tag where name = 'pump' and time between "
                        "'2020-09-13 12:26:40' and '2020-09-13 12:26:49' order by time", m="1"))["data"]
    assert "name=,time>=,time<=;order time" in plan[0][3]
    data = ok(q(client, f"select value from tag where name = 'pump' and time >= {start} "
                        f"and time < {start + 3 * 10**9}", m="1"))["data"]
    assert data == [[0.0], [1.0], [2.0]]
    body = ok(q(client, "select rollup('min', 1, time) m, avg(value), count(*) from tag where name = 'pump' "
                        "group by m order by m", m="1", f="YYYY-MM-DD HH24:MI:SS"))
    assert [row[2] for row in body["data"]] == [20, 60, 60, 60, 60, 60, 60, 60, 60, 60, 40]
    assert body["columns"][0] == {"name": "M", "type": 6, "length": 8}
    stat = ok(q(client, "select row_count, min_value, max_value from v$tag_stat where name = 'pump'", m="1"))
    assert stat["data"] == [[600, 0.0, 599.0]]
    assert ok(q(client, "delete from tag where name = 'pump' and time < " + str(start + 100 * 10**9))) == \
        {"error_code": 0, "error_message": "No Error", "data": [], "effect_rows": "100"}


def test_sql_insert_into_a_tag_table(client):
    ok(q(client, "insert into tag values ('valve', '2021-01-01 00:00:00', 1.5)"))
    assert ok(q(client, "select count(*) from tag where name = 'valve'", m="1"))["data"] == [[1]]


# Safety ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", ["attach database '/tmp/x.db' as x", "pragma writable_schema = 1",
                                       "select load_extension('x')", "vacuum", "begin"])
def test_forbidden_statements_answer_an_error_and_the_server_keeps_serving(client, statement):
    body = q(client, statement).json
    assert body["error_code"] == 2012 and body["data"] == []
    assert ok(q(client, "select 1 as one"))["data"] == [{"ONE": 1}]


def test_sql_errors_are_messages_not_tracebacks(client):
    body = q(client, "selec nothing").json
    assert body["error_code"] == 2010 and "syntax error" in body["error_message"]
    assert "Traceback" not in json.dumps(body)
    assert q(client, "select 1; select 2").json["error_code"] == 2010


def test_a_runaway_query_ends_with_an_error_while_others_are_answered(edge_server_factory):
    server = edge_server_factory("runaway", conf_lines=["REQUEST_TIMEOUT_MS = 1500"])
    client = server.client
    outcome = {}

    def runaway():
        began = time.monotonic()
        outcome["body"] = q(client, "with recursive c(x) as (select 1 union all select x + 1 from c) "
                                    "select count(*) from c").json
        outcome["seconds"] = time.monotonic() - began

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)
    answered = ok(q(client, "select 2 as two"))
    assert answered["data"] == [{"TWO": 2}] and thread.is_alive()
    thread.join(30)
    assert outcome["body"]["error_code"] == 2013
    assert ok(q(client, "select 3 as three"))["data"] == [{"THREE": 3}]


def test_queries_while_appends_stream_in(client):
    start = 1_700_000_000 * 10**9
    batches, size = 20, 500
    counts: list[int] = []
    failures: list = []
    done = threading.Event()

    def writer():
        try:
            for b in range(batches):
                rows = [["stream", start + (b * size + i) * 10**6, float(i)] for i in range(size)]
                body = client.post("/machbase", {"name": "tag", "values": rows}).json
                if body.get("append_success") != size:
                    failures.append(body)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set() or len(counts) < 3:
        body = q(client, "select count(*) from tag where name = 'stream'", m="1").json
        if body["error_code"]:
            failures.append(body)
            break
        counts.append(body["data"][0][0])
    thread.join(60)
    assert not failures
    assert all(c % size == 0 for c in counts) and counts == sorted(counts)
    assert ok(q(client, "select count(*) from tag where name = 'stream'", m="1"))["data"] == [[batches * size]]


# V$STMT: the spec's auth example, served -------------------------------------------------------

def test_spec_auth_example_select_from_v_stmt_lists_itself(client):
    body = ok(q(client, "select * from v$stmt"))
    assert body["columns"] == [{"name": "ID", "type": 8, "length": 4}, {"name": "SESS_ID", "type": 8, "length": 4},
                               {"name": "STATE", "type": 5, "length": 64},
                               {"name": "RECORD_SIZE", "type": 8, "length": 4},
                               {"name": "QUERY", "type": 5, "length": 32767}]
    [row] = body["data"]
    assert list(row) == ["ID", "SESS_ID", "STATE", "RECORD_SIZE", "QUERY"]
    assert (row["STATE"], row["RECORD_SIZE"], row["QUERY"]) == ("Execute", 0, "select * from v$stmt")
    assert isinstance(row["ID"], int) and isinstance(row["SESS_ID"], int)


def test_v_stmt_lists_a_slow_query_running_in_another_request(edge_server_factory):
    server = edge_server_factory("statements", conf_lines=["REQUEST_TIMEOUT_MS = 3000"])
    client = server.client
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    outcome = {}

    def runaway():
        outcome["body"] = q(client, slow).json

    thread = threading.Thread(target=runaway)
    thread.start()
    seen = []
    # Bounded: the slow query stops at REQUEST_TIMEOUT_MS, and the loop with it.
    while thread.is_alive() and not seen:
        seen = ok(q(client, "select sess_id, state, query from v$stmt where query like 'with recursive%'"))["data"]
    thread.join(30)
    assert outcome["body"]["error_code"] == 2013
    assert [(r["STATE"], r["QUERY"]) for r in seen] == [("Execute", slow)]
    mine = ok(q(client, "select sess_id, query from v$stmt"))["data"]
    assert [r["QUERY"] for r in mine] == ["select sess_id, query from v$stmt"]
