"""POST /write and /ping as InfluxDB 1.x answers them, against a live server; the points read
back through /machiot."""

import base64
import gzip
import json
import urllib.parse

import pytest

from tests.conftest import ADMIN_PASSWORD


def raw_points(client, tag: str, table: str = "TAG"):
    """[(time, value)] of a tag, read back by SQL (its name may hold characters /machiot splits on)."""
    query = f"select time, value from {table} where name = '{tag.replace(chr(39), chr(39) * 2)}'"
    response = client.get("/machbase?m=1&q=" + urllib.parse.quote(query))
    assert response.status == 200 and response.json["error_code"] == 0, response.body
    return [tuple(row) for row in response.json["data"]]


def write(client, body, query="db=TAG&precision=s", headers=None, auth=True):
    data = body.encode() if isinstance(body, str) else body
    return client.request("POST", "/write?" + query, body=data, headers={"Content-Type": "text/plain", **(headers or {})},
                          auth=auth)


def test_ping_answers_204_without_credentials(client):
    response = client.get("/ping", auth=None)
    assert response.status == 204 and response.headers["X-Influxdb-Version"] == "1.8.10"
    verbose = client.get("/ping?verbose=true", auth=None)
    assert verbose.status == 200 and verbose.json == {"version": "1.8.10"}


def test_write_stores_every_numeric_field_and_answers_204(client):
    response = write(client, "boiler,line=l1 temp=81.5,on=t,count=3i,state=\"ok\" 1000000000\n"
                             "boiler,line=l1 temp=82 1000000060")
    assert response.status == 204 and response.body == b""
    assert response.headers["X-Edge-Strings-Skipped"] == "1"
    rows = raw_points(client, "boiler.line=l1.temp")
    assert [r[1] for r in rows] == [81.5, 82.0]
    assert raw_points(client, "boiler.line=l1.on")[0][1] == 1.0
    assert raw_points(client, "boiler.line=l1.count")[0][1] == 3.0


def test_partial_write_stores_good_lines_and_names_the_bad_one(client):
    response = write(client, "pw v=1 1\npw v=oops 2\npw v=3 3")
    assert response.status == 400
    assert response.json == {"error": "partial write: unable to parse 'pw v=oops 2': invalid number 'oops' dropped=1"}
    assert [r[1] for r in raw_points(client, "pw.v")] == [1.0, 3.0]


def test_all_lines_bad_is_400_without_partial(client):
    response = write(client, "nothing")
    assert response.status == 400 and response.json == {"error": "unable to parse 'nothing': missing fields"}


def test_unknown_database_is_404_as_influx_says(client):
    response = write(client, "m v=1", query="db=nosuch")
    assert response.status == 404 and response.json == {"error": 'database not found: "nosuch"'}


def test_no_db_writes_to_the_historian_table_and_db_names_another_tag_table(client):
    assert write(client, "nodb v=5 1", query="precision=s").status == 204
    assert raw_points(client, "nodb.v")[0][1] == 5.0
    created = client.get("/machbase?q=" + urllib.parse.quote(
        "create tag table influxtab (name varchar(40) primary key, time datetime basetime, value double summarized)"))
    assert created.json["error_code"] == 0, created.body
    assert write(client, "other v=6 1", query="db=influxtab&precision=s").status == 204
    assert raw_points(client, "other.v", "INFLUXTAB")[0][1] == 6.0


def test_bad_precision_is_400(client):
    response = write(client, "m v=1 1", query="precision=weeks")
    assert response.status == 400 and "invalid precision" in response.json["error"]


def test_gzip_body(client):
    response = write(client, gzip.compress(b"gz v=7 1\ngz v=8 2"), headers={"Content-Encoding": "gzip"})
    assert response.status == 204
    assert [r[1] for r in raw_points(client, "gz.v")] == [7.0, 8.0]


def test_gzip_body_of_two_members(client):
    body = gzip.compress(b"gz2 v=1 1\n") + gzip.compress(b"gz2 v=2 2")
    assert write(client, body, headers={"Content-Encoding": "gzip"}).status == 204
    assert [r[1] for r in raw_points(client, "gz2.v")] == [1.0, 2.0]


def test_gzip_bomb_is_413(client):
    response = write(client, gzip.compress(b"m v=1 1\n" * (9 << 20)), headers={"Content-Encoding": "gzip"})
    assert response.status == 413 and "MAX_REQUEST_SIZE" in response.json["error"]


def test_broken_gzip_is_400_and_stores_nothing(client):
    response = write(client, gzip.compress(b"gzbad v=1 1")[:-6], headers={"Content-Encoding": "gzip"})
    assert response.status == 400 and "gzip" in response.json["error"]
    assert raw_points(client, "gzbad.v") == []


def test_body_not_utf8_is_400(client):
    response = write(client, b"m v=1 \xff")
    assert response.status == 400 and "UTF-8" in response.json["error"]


@pytest.mark.parametrize("form", ["basic", "token", "query"])
def test_credentials_in_each_influx_form(client, form):
    headers, query = {}, "db=TAG&precision=s"
    if form == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"sys:{ADMIN_PASSWORD}".encode()).decode()
    elif form == "token":
        headers["Authorization"] = f"Token sys:{ADMIN_PASSWORD}"
    else:
        query += "&u=sys&p=" + urllib.parse.quote(ADMIN_PASSWORD)
    response = write(client, f"auth_{form} v=1 1", query=query, headers=headers, auth=False)
    assert response.status == 204, response.body


def test_wrong_or_missing_credentials_are_401_in_influx_form(client):
    missing = write(client, "m v=1 1", auth=False)
    assert missing.status == 401 and set(missing.json) == {"error"}
    wrong = write(client, "m v=1 1", query="db=TAG&u=sys&p=nope", auth=False)
    assert wrong.status == 401 and set(wrong.json) == {"error"}


def test_influxdb_client_from_pypi_writes_to_the_box(edge_server):
    from influxdb import InfluxDBClient

    db = InfluxDBClient("127.0.0.1", edge_server.port, "sys", ADMIN_PASSWORD, "TAG", timeout=30)
    assert db.ping() == "1.8.10"
    points = [{"measurement": "pyclient", "tags": {"site": "north", "line": "2"}, "time": 1_600_000_000 + i,
               "fields": {"speed": float(i), "count": i, "ok": i % 2 == 0, "note": "text"}} for i in range(50)]
    assert db.write_points(points, time_precision="s", batch_size=20) is True
    db.write(["pyclient,line=2,site=north speed=99 1600000100"], params={"db": "TAG", "precision": "s"},
             protocol="line")
    rows = raw_points(edge_server.client, "pyclient.line=2.site=north.speed")
    assert [r[1] for r in rows] == [float(i) for i in range(50)] + [99.0]
    assert [r[1] for r in raw_points(edge_server.client, "pyclient.line=2.site=north.ok")] == [1.0, 0.0] * 25
    assert len(raw_points(edge_server.client, "pyclient.line=2.site=north.count")) == 50
    db.close()


def test_a_reader_may_not_write_and_gets_403_in_influx_form(client):
    created = client.get("/machbase?q=" + urllib.parse.quote("CREATE USER influxreader IDENTIFIED BY 'pw-reader'"))
    assert created.json["error_code"] == 0, created.body
    response = write(client, "m v=1 1", query="db=TAG&u=influxreader&p=pw-reader", auth=False)
    assert response.status == 403 and set(response.json) == {"error"}


def test_query_answers_where_data_is_read(client):
    response = client.request("POST", "/query?q=CREATE+DATABASE+telegraf", auth=None)
    assert response.status == 401  # credentials first, as everywhere
    response = client.request("POST", "/query?q=CREATE+DATABASE+telegraf")
    assert response.status == 400 and "/machbase" in response.json["error"]


def test_ping_head(client):
    response = client.request("HEAD", "/ping", auth=None)
    assert response.status == 204
