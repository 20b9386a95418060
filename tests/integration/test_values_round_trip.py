"""What goes in comes out the same, or is refused, on a real server: infinity and integers
beyond 64 bits fail their append row on /machiot and /machbase and fail an SQL INSERT into a
tag table and a log table; afterwards every way of asking for the same aggregate (SQL, the
tag API's calculated values and its per-tag statistics) gives the same answer."""

from __future__ import annotations

import urllib.parse

import pytest

BIG = "123456789012345678901234567890"
HOUR = "2021-03-04 05:00:00"


def q(client, sql: str, **params) -> dict:
    return client.get("/machbase?" + urllib.parse.urlencode({"q": sql, **params})).json


def post(client, path: str, text: str) -> dict:
    return client.post(path, text.encode()).json


@pytest.fixture(scope="module")
def plant(edge_server):
    """A tag table where tag a holds 5, -2, 4 and tag b holds 7.5 in one hour, after every
    refused try of the tests below; and a log table."""
    client = edge_server.client
    assert q(client, "create tag table plant (name varchar(20) primary key, time datetime basetime, "
                     "value double summarized)")["error_code"] == 0
    assert q(client, "create table journal (name varchar(20), v double, i long)")["error_code"] == 0
    rows = '["a","2021-03-04 05:00:01",5],["a","2021-03-04 05:00:02",-2],["b","2021-03-04 05:00:03",7.5]'
    assert post(client, "/machiot/datapoints/raw/plant", f'{{"values":[{rows}]}}')["append_success"] == 3
    return client


@pytest.mark.parametrize("path", ["/machiot/datapoints/raw/plant", "/machiot/v1/datapoints/raw/plant"])
def test_machiot_append_counts_infinity_and_big_integers_as_failures(plant, path):
    for value in ("1e400", "-1e400", BIG, "-" + BIG):
        answer = post(plant, path, f'{{"values":[["a","{HOUR}",{value}],["c","{HOUR}",1]]}}')
        assert (answer["error_code"], answer["append_success"], answer["append_failure"]) == (0, 1, 1), value
    # alone in a body, a big integer is read by the fast JSON decoder, which would make it a float
    answer = post(plant, path, f'{{"values":[["a","{HOUR}",{BIG}]]}}')
    assert (answer["append_success"], answer["append_failure"]) == (0, 1)
    assert q(plant, "delete from plant where name = 'c'")["error_code"] == 0


def test_machbase_append_counts_them_as_failures_in_tag_and_log_tables(plant):
    for value in ("1e400", "-1e400", BIG):
        answer = post(plant, "/machbase", f'{{"name":"plant","values":[["a","{HOUR}",{value}]]}}')
        assert (answer["error_code"], answer["append_success"], answer["append_failure"]) == (0, 0, 1)
        answer = post(plant, "/machbase", f'{{"name":"journal","values":[["x",{value},1],["y",1,{value}],'
                                          f'["z",2,3]]}}')
        assert (answer["error_code"], answer["append_success"], answer["append_failure"]) == (0, 1, 2)
    assert q(plant, "select name, v, i from journal where name <> 'z'")["data"] == []


def test_tag_metadata_counts_infinity_and_big_integers_as_failures(plant):
    assert q(plant, "create tag table gauges (name varchar(20) primary key, time datetime basetime, "
                    "value double summarized) metadata (span double)")["error_code"] == 0
    answer = post(plant, "/machiot/tags/list/gauges",
                  f'{{"values":[["g1",1e400],["g2",{BIG}],["g3",-1e400],["g4",2.5]]}}')
    assert (answer["error_code"], answer["append_success"], answer["append_failure"]) == (0, 1, 3)
    answer = plant.patch("/machiot/tags/list/gauges/g4", b'{"span": 1e400}').json
    assert answer["error_code"] == 2100 and "not a finite number" in answer["error_message"]
    answer = plant.patch("/machiot/tags/list/gauges/g4", f'{{"span": {BIG}}}'.encode()).json
    assert answer["error_code"] == 2100 and "beyond 64 bits" in answer["error_message"]
    assert q(plant, "select * from _gauges_meta", m="1")["data"] == [["g4", 2.5]]


@pytest.mark.parametrize("table, row", [("plant", "'a', '2021-03-04 05:00:09', {}"), ("journal", "'x', {}, 1"),
                                        ("journal", "'x', 1, {}")])
def test_sql_insert_of_infinity_or_a_big_integer_fails_the_statement(plant, table, row):
    for literal, text in (("1e999", "Number 1e999 is out of range: numbers are 64-bit doubles"),
                          ("-1e999", "Number 1e999 is out of range: numbers are 64-bit doubles"),
                          (BIG, f"Number {BIG} is out of range: integers are 64-bit")):
        answer = q(plant, f"insert into {table} values ({row.format(literal)})")
        assert answer["error_code"] == 2100 and answer["error_message"].startswith(text), answer
    answer = q(plant, f"insert into {table} values ({row.format('1e308 * 10')})")
    assert answer["error_code"] == 2015, answer
    assert "sys." not in answer["error_message"] and "int()" not in answer["error_message"]
    assert q(plant, "select count(*) from journal where name = 'x'", m="1")["data"] == [[0]]
    assert q(plant, "select count(*) from plant where time = '2021-03-04 05:00:09'", m="1")["data"] == [[0]]


def test_every_path_answers_the_same_aggregates(plant):
    # one more point for a, then every refused try of the tests above: they changed nothing
    assert post(plant, "/machiot/datapoints/raw/plant", '{"values":[["a","2021-03-04 05:00:04",4]]}')[
        "append_success"] == 1
    for value in ("1e400", BIG):
        post(plant, "/machiot/datapoints/raw/plant", f'{{"values":[["a","2021-03-04 05:00:05",{value}]]}}')
        q(plant, f"insert into plant values ('b', '2021-03-04 05:00:06', {value.replace('400', '999')})")
    table = q(plant, "select max(value), min(value), sum(value), count(*) from plant", m="1")["data"]
    assert table == [[7.5, -2.0, 14.5, 4]]
    assert q(plant, "select max(value) + 0, min(value) + 0, sum(value) + 0 from plant", m="1")["data"] == \
        [[7.5, -2.0, 14.5]]
    assert q(plant, "select min(value) from plant where name = 'a'", m="1")["data"] == \
        q(plant, "select min(value) + 0 from plant where name = 'a'", m="1")["data"] == [[-2.0]]
    hour = plant.get("/machiot/datapoints/calculated/plant/a,b/2021-03-04/2021-03-05/sum,avg,max,min,count/0/hour/1"
                     ).json["data"]
    assert hour == [{"time": "2021-03-04 05:00:00 000:000:000", "sum": 14.5, "avg": 3.625, "max": 7.5, "min": -2.0,
                     "count": 4}]
    assert plant.get("/machiot/tags/min/plant").json["data"] == [{"min": -2.0}]
    assert plant.get("/machiot/tags/max/plant").json["data"] == [{"max": 7.5}]
    assert [(row["name"], row["min"]) for row in plant.get("/machiot/tags/min/plant/a,b").json["data"]] == \
        [("a", -2.0), ("b", 7.5)]
    assert [(row["name"], row["max"]) for row in plant.get("/machiot/tags/max/plant/a,b").json["data"]] == \
        [("a", 5.0), ("b", 7.5)]
    assert q(plant, "select name, min(value), max(value) from plant group by name order by name", m="1")["data"] == \
        [["a", -2.0, 5.0], ["b", 7.5, 7.5]]
    assert plant.get("/machiot/tags/count/plant/a,b").json["data"] == [{"name": "a", "count": 3},
                                                                      {"name": "b", "count": 1}]
