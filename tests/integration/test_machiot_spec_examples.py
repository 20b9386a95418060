"""Every worked example of the spec's tag API section, with the spec's numbers, on a real server
running with TIMEZONE = Asia/Seoul (the "+0900" of the examples).

Where the spec's examples contradict each other (they were taken from different states of one
table) each gets a table of its own holding the data that example implies.
"""

from __future__ import annotations

import urllib.parse

import pytest
from tests.conftest import EdgeServer

NAME_TIME_VALUE = [{"name": "NAME", "type": 5, "length": 20}, {"name": "TIME", "type": 6, "length": 31},
                   {"name": "VALUE", "type": 20, "length": 17}]
STAMP = "2001-09-09 {}:{}:{} 000:000:000"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    edge = EdgeServer(tmp_path_factory.mktemp("machiot-spec") / "data", ["TIMEZONE = Asia/Seoul"]).start()
    yield edge
    edge.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.client


def sql(client, statement: str) -> dict:
    answer = client.get("/machbase?" + urllib.parse.urlencode({"q": statement})).json
    assert answer == {"error_code": 0, "error_message": "No Error", "data": []}, answer
    return answer


def tag_table(client, name: str, name_length: int = 20) -> None:
    sql(client, f"create tag table {name} (name varchar({name_length}) primary key, time datetime basetime, "
                f"value double summarized)")


def append(client, table: str, rows: list) -> dict:
    answer = client.post(f"/machiot/v1/datapoints/raw/{table}", {"values": rows}).json
    assert answer["append_failure"] == 0 and answer["append_success"] == len(rows), answer
    return answer


def every_100s(tag: str, first_second: int, first_value: int, count: int) -> list:
    """`count` points of `tag` from 01:00:SS, one per 100 s, values rising by 100 (the spec's data)."""
    rows = []
    for k in range(count):
        seconds = first_second + 100 * k
        rows.append([tag, f"2001-09-09 {1 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
                     first_value + 100 * k])
    return rows


def spec_row(tag: str, clock: str, value) -> dict:
    return {"NAME": tag, "TIME": f"2001-09-09 {clock} 000:000:000", "VALUE": value}


@pytest.fixture(scope="module")
def tag_1(client):
    """Table TAG as the spec's raw-select and calculated examples see it: tag-1 at 01:00:01 + 100 s * k."""
    sql(client, "drop table tag")  # the built-in TAG table is varchar(80); the spec's is varchar(20)
    tag_table(client, "tag")
    append(client, "tag", every_100s("tag-1", 1, 8001, 13))
    return "tag"


def test_raw_value_append_example(client):
    tag_table(client, "append_example")
    answer = client.post("/machiot-rest-api/datapoints/raw/append_example",
                         {"date_format": "YYYY-MM-DD HH24:MI:SS",
                          "values": [["tag1", "1999-01-01 00:00:00", 0], ["tag1", "1999-01-01 00:00:01", 1],
                                     ["tag1", "1999-01-01 00:00:02", 2]]})
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "data": [],
                           "append_success": 3, "append_failure": 0}
    raw = client.get("/machiot/datapoints/raw/append_example/tag1/1999-01-01/1999-01-02").json
    assert raw["data"] == [{"NAME": "tag1", "TIME": f"1999-01-01 00:00:0{i} 000:000:000", "VALUE": i} for i in range(3)]


EXPECTED_FIVE = [spec_row("tag-1", clock, value) for clock, value in
                 [("01:00:01", 8001), ("01:01:41", 8101), ("01:03:21", 8201), ("01:05:01", 8301), ("01:06:41", 8401)]]


def test_raw_select_with_every_part_in_the_path(client, tag_1):
    answer = client.get("/machiot/v1/datapoints/raw/tag/tag-1/2001-09-09T00:00:00,000/2001-09-09T01:20:00,000/0/5/0")
    body = answer.json
    assert list(body) == ["error_code", "error_message", "columns", "timezone", "data"]
    assert (body["error_code"], body["error_message"], body["timezone"]) == (0, "", "+0900")
    assert body["columns"] == NAME_TIME_VALUE
    # The spec prints six rows for Count 5 here and five for the same query by factors: Count wins.
    assert body["data"] == EXPECTED_FIVE
    assert b'"VALUE":8001.000' in answer.body


def test_raw_select_by_query_factors(client, tag_1):
    body = client.get("/machiot/v1/datapoints/raw?Table=tag&TagNames=tag-1&Start=2001-09-09T00:00:00,000"
                      "&End=2001-09-09T01:20:00,000&Direction=0&Count=5&Offset=0").json
    assert body["columns"] == NAME_TIME_VALUE
    assert body["data"] == EXPECTED_FIVE


def test_raw_select_of_several_tags_gives_one_series_tag_after_tag(client):
    tag_table(client, "several")
    append(client, "several", every_100s("tag-3", 3, 8003, 3) + every_100s("tag-1", 1, 8001, 2)
           + every_100s("tag-2", 2, 8002, 2))
    body = client.get("/machiot/v1/datapoints/raw/several/tag-1,tag-2,tag-3/2001-09-09T00:00:00,000/"
                      "2001-09-09T01:20:00,000/0/0/0").json
    assert body["data"] == [spec_row("tag-1", "01:00:01", 8001), spec_row("tag-1", "01:01:41", 8101),
                            spec_row("tag-2", "01:00:02", 8002), spec_row("tag-2", "01:01:42", 8102),
                            spec_row("tag-3", "01:00:03", 8003), spec_row("tag-3", "01:01:43", 8103),
                            spec_row("tag-3", "01:03:23", 8203)]


def test_delete_of_all_tags_before_a_time_counts_1201_rows(client):
    tag_table(client, "delete_all")
    before = every_100s("tag-1", 0, 1, 40) + every_100s("tag-2", 1, 1, 40) + every_100s("tag-3", 2, 1, 8)
    # 1,201 rows before 01:20:00 over three tags (some of each after it), as in the spec.
    rows = [r for r in before if r[1] < "2001-09-09 01:20:00"]
    rows += [[tag, f"2000-01-01 00:{i // 60:02d}:{i % 60:02d}", i] for tag in ("tag-1",) for i in range(1201 - len(rows))]
    append(client, "delete_all", rows + [r for r in before if r[1] >= "2001-09-09 01:20:00"])
    kept = len(before) - sum(1 for r in before if r[1] < "2001-09-09 01:20:00")
    answer = client.delete("/machiot/v1/datapoints/raw/delete_all/2001-09-09T01:20:00,000").json
    assert answer == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "effect_rows": "1201",
                      "data": []}
    assert client.get("/machiot/tags/count/delete_all").json["data"] == [{"count": kept}]


def test_delete_of_listed_tags_before_a_time_counts_32_rows(client):
    tag_table(client, "delete_some")
    append(client, "delete_some", every_100s("tag-1", 1, 1, 20) + every_100s("tag-2", 2, 1, 20)
           + every_100s("tag-3", 3, 1, 20))
    answer = client.delete("/machiot/v1/datapoints/raw/delete_some/tag-2,tag-3/2001-09-09T01:26:00,000").json
    assert answer == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "effect_rows": "32",
                      "data": []}
    counts = client.get("/machiot/tags/count/delete_some/tag-1,tag-2,tag-3").json["data"]
    assert counts == [{"name": "tag-1", "count": 20}, {"name": "tag-2", "count": 4}, {"name": "tag-3", "count": 4}]


CALCULATED = "/machiot/v1/datapoints/calculated/tag/tag-1/2001-09-09T00:00:00,000/2001-09-09T01:20:00,000"
BUCKETS = ["01:00:00", "01:05:00", "01:10:00", "01:15:00", "01:20:00"]


def test_calculated_sum_per_five_minutes(client, tag_1):
    body = client.get(CALCULATED + "/sum/5/min/5").json
    assert body["columns"] == [{"name": "time", "type": 6, "length": 31}, {"name": "sum", "type": 20, "length": 17}]
    assert body["timezone"] == "+0900"
    assert body["data"] == [{"time": f"2001-09-09 {b} 000:000:000", "sum": s}
                            for b, s in zip(BUCKETS, [24303, 25203, 26103, 27003, 9201])]


def test_calculated_several_functions(client, tag_1):
    body = client.get(CALCULATED + "/sum,min,max/5/min/5").json
    assert [c["name"] for c in body["columns"]] == ["time", "sum", "min", "max"]
    assert body["data"] == [
        {"time": f"2001-09-09 {b} 000:000:000", "sum": s, "min": lo, "max": hi}
        for b, s, lo, hi in zip(BUCKETS, [24303, 25203, 26103, 27003, 9201], [8001, 8301, 8601, 8901, 9201],
                                [8201, 8501, 8801, 9101, 9201])]


def test_calculated_over_several_tags_is_one_combined_series(client):
    tag_table(client, "combined")
    append(client, "combined", every_100s("a", 1, 10, 3) + every_100s("b", 2, 20, 3))
    body = client.get("/machiot/datapoints/calculated/combined/a,b/2001-09-09/2001-09-10/count,avg,sum/0/hour/1").json
    assert body["data"] == [{"time": "2001-09-09 01:00:00 000:000:000", "count": 6, "avg": 115, "sum": 690}]


@pytest.fixture(scope="module")
def metadata_table(client):
    """The spec's tagdata table: tag0 and tag1 hold data, then tag3, tag4 (twice) and tag5 are
    registered; returns the answer to that registration."""
    sql(client, "create tagdata table meta (name_multi varchar(20) primary key, time_multi datetime basetime, "
                "value_multi double summarized, value2_multi short, value3_multi varchar(10)) "
                "metadata (myshortmeta short, baseip ipv4);")
    append(client, "meta", [["tag0", "2001-09-09 01:00:00", 1, 2, "x"], ["tag1", "2001-09-09 01:00:00", 1, None, None]])
    return client.post("/machiot/tags/list/meta", {"values": [["tag3", 0, "127.0.0.0"], ["tag4", 1, "127.0.0.1"],
                                                              ["tag4", 1, "127.0.0.1"], ["tag5", 2, "127.0.0.2"]]})


def test_tag_information_insert_counts_the_duplicate_as_a_failure(metadata_table):
    assert metadata_table.json == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "data": [],
                                   "append_success": 3, "append_failure": 1}


def test_tag_information_select_lists_every_tag(client, metadata_table):
    body = client.get("/machiot/tags/list/meta").json
    assert body["columns"] == [{"name": "name_multi", "type": 5, "length": 20}]
    assert body["timezone"] == "+0900"
    assert body["data"] == [{"name_multi": name} for name in ("tag0", "tag1", "tag3", "tag4", "tag5")]


def test_tag_information_update_with_put_and_patch(client, metadata_table):
    answer = client.put("/machiot/tags/list/meta/tag0", {"baseip": "192.168.0.1"}).json
    assert answer == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "effect_rows": "1",
                      "data": []}
    answer = client.patch("/machiot/tags/list/meta/tag3", {"baseip": "255.255.255.0", "myshortmeta": 9999}).json
    assert answer == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "effect_rows": "1",
                      "data": []}
    detail = client.get("/machiot/tags/list/meta/tag3").json
    assert detail["columns"] == [{"name": "name_multi", "type": 5, "length": 20},
                                 {"name": "myshortmeta", "type": 4, "length": 6},
                                 {"name": "baseip", "type": 32, "length": 15}]
    assert detail["data"] == [{"name_multi": "tag3", "myshortmeta": 9999, "baseip": "255.255.255.0"}]
    assert client.get("/machiot/tags/list/meta/tag0").json["data"] == [
        {"name_multi": "tag0", "myshortmeta": None, "baseip": "192.168.0.1"}]


def test_tag_information_delete_refused_while_the_tag_has_data(client, metadata_table):
    client.post("/machiot/tags/list/meta", {"values": [["tag4", 1, "127.0.0.1"]]})
    answer = client.delete("/machiot/tags/list/meta/tag0")
    assert answer.json == {"error_code": 2324,
                           "error_message": "Cannot delete tagmeta. there exist data with deleted_tag key.",
                           "timezone": "+0900", "data": []}
    answer = client.delete("/machiot/tags/list/meta/tag4")
    assert answer.json == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "effect_rows": "1",
                           "data": []}
    names = [row["name_multi"] for row in client.get("/machiot/tags/list/meta").json["data"]]
    assert "tag4" not in names and "tag0" in names


@pytest.fixture(scope="module")
def edges_table(client):
    """range / first / last: tag-0 opens the table, dummy closes it in 2032."""
    tag_table(client, "edges")
    append(client, "edges", [["tag-0", "2001-09-09 01:00:00", 8000],
                             ["tag-1", "2001-09-09 01:00:01", 8001], ["tag-1", "2001-09-15 00:00:00", 5],
                             ["tag-1", "2001-09-21 12:31:41", 999901],
                             ["tag-2", "2001-09-09 01:00:02", 8002], ["tag-2", "2001-09-21 12:31:42", 999902],
                             ["dummy", "2032-09-09 10:46:49", 1000000009]])
    return "edges"


def test_time_range_of_the_whole_table(client, edges_table):
    body = client.get("/machiot/tags/range/edges").json
    assert body["columns"] == [{"name": "name", "type": 5, "length": 3}, {"name": "min", "type": 6, "length": 31},
                               {"name": "max", "type": 6, "length": 31}]
    assert body["data"] == [{"name": "ALL", "min": "2001-09-09 01:00:00 000:000:000",
                             "max": "2032-09-09 10:46:49 000:000:000"}]


def test_time_range_of_each_tag(client, edges_table):
    body = client.get("/machiot/tags/range/edges/tag-1,tag-2").json
    assert body["columns"] == [{"name": "name", "type": 5, "length": 20}, {"name": "min", "type": 6, "length": 31},
                               {"name": "max", "type": 6, "length": 31}]
    assert body["data"] == [
        {"name": "tag-1", "min": "2001-09-09 01:00:01 000:000:000", "max": "2001-09-21 12:31:41 000:000:000"},
        {"name": "tag-2", "min": "2001-09-09 01:00:02 000:000:000", "max": "2001-09-21 12:31:42 000:000:000"}]


def test_first_row_of_the_table_and_of_each_tag(client, edges_table):
    body = client.get("/machiot/tags/first/edges").json
    assert body["columns"] == NAME_TIME_VALUE
    assert body["data"] == [spec_row("tag-0", "01:00:00", 8000.0)]
    body = client.get("/machiot/tags/first/edges/tag-1,tag-2").json
    assert body["data"] == [spec_row("tag-1", "01:00:01", 8001.0), spec_row("tag-2", "01:00:02", 8002.0)]


def test_last_row_of_the_table_and_of_each_tag(client, edges_table):
    body = client.get("/machiot/tags/last/edges").json
    assert body["columns"] == NAME_TIME_VALUE
    assert body["data"] == [{"NAME": "dummy", "TIME": "2032-09-09 10:46:49 000:000:000", "VALUE": 1000000009.0}]
    body = client.get("/machiot/tags/last/edges/tag-1,tag-2").json
    assert body["data"] == [{"NAME": "tag-1", "TIME": "2001-09-21 12:31:41 000:000:000", "VALUE": 999901.0},
                            {"NAME": "tag-2", "TIME": "2001-09-21 12:31:42 000:000:000", "VALUE": 999902.0}]


@pytest.fixture(scope="module")
def extremes_table(client):
    tag_table(client, "extremes")
    append(client, "extremes", [["tag-0", "2001-09-09 01:00:00", 0.0], ["tag-0", "2001-09-09 02:00:00", 10000000000.0],
                                ["tag-1", "2001-09-09 10:46:42", 10001], ["tag-1", "2001-09-09 12:00:00", 50000],
                                ["tag-1", "2001-09-09 13:12:12", 9999999991],
                                ["tag-2", "2001-09-09 10:46:43", 10002], ["tag-2", "2001-09-09 13:12:13", 9999999992]])
    return "extremes"


def test_minimum_value_of_the_table_and_of_each_tag(client, extremes_table):
    body = client.get("/machiot/tags/min/extremes").json
    assert body["columns"] == [{"name": "min", "type": 20, "length": 17}]
    assert body["data"] == [{"min": 0.0}]
    body = client.get("/machiot/tags/min/extremes/tag-1,tag-2").json
    assert body["columns"] == [{"name": "name", "type": 5, "length": 100}, {"name": "time", "type": 6, "length": 31},
                               {"name": "min", "type": 20, "length": 17}]
    assert body["data"] == [{"name": "tag-1", "time": "2001-09-09 10:46:42 000:000:000", "min": 10001.0},
                            {"name": "tag-2", "time": "2001-09-09 10:46:43 000:000:000", "min": 10002.0}]


def test_maximum_value_of_the_table_and_of_each_tag(client, extremes_table):
    body = client.get("/machiot/tags/max/extremes").json
    assert body["columns"] == [{"name": "max", "type": 20, "length": 17}]
    assert body["data"] == [{"max": 10000000000.0}]
    body = client.get("/machiot/tags/max/extremes/tag-1,tag-2").json
    assert body["columns"][2] == {"name": "max", "type": 20, "length": 17}
    assert body["data"] == [{"name": "tag-1", "time": "2001-09-09 13:12:12 000:000:000", "max": 9999999991.0},
                            {"name": "tag-2", "time": "2001-09-09 13:12:13 000:000:000", "max": 9999999992.0}]


def test_record_count_of_the_table_and_of_each_tag(client):
    tag_table(client, "counted")
    start = 1_000_000_000 * 10**9  # times as integer ns since the epoch: cheap to make a million of
    for tag, points in (("tag-1", 10_000), ("tag-2", 10_000), ("tag-3", 980_001)):
        for first in range(0, points, 250_000):
            append(client, "counted", [[tag, start + k * 10**9, k] for k in range(first, min(points, first + 250_000))])
    for path in ("/machiot/tags/count/counted", "/machiot/tags/cnt/counted"):
        body = client.get(path).json
        assert body["columns"] == [{"name": "count", "type": 12, "length": 20}]
        assert body["data"] == [{"count": 1000001}]
    body = client.get("/machiot/tags/count/counted/tag-1,tag-2").json
    assert body["columns"] == [{"name": "name", "type": 5, "length": 100}, {"name": "count", "type": 12, "length": 20}]
    assert body["data"] == [{"name": "tag-1", "count": 10000}, {"name": "tag-2", "count": 10000}]


def test_disk_usage_of_the_table_and_of_each_tag(client, edges_table):
    client.get("/machiot/tags/rollup/edges")  # a checkpoint: the rows are in the tags' files now
    body = client.get("/machiot/tags/disksize/edges/").json
    assert body["columns"] == [{"name": "disksize", "type": 12, "length": 20}]
    total = body["data"][0]["disksize"]
    body = client.get("/machiot/tags/disksize/edges/tag-1,tag-2").json
    assert body["columns"] == [{"name": "name", "type": 5, "length": 100},
                               {"name": "disksize", "type": 12, "length": 20}]
    sizes = {row["name"]: row["disksize"] for row in body["data"]}
    # Sizes depend on this store's files, not Machbase's: both tags hold data, the table more.
    assert list(sizes) == ["tag-1", "tag-2"] and 0 < sizes["tag-2"] and sizes["tag-1"] + sizes["tag-2"] <= total


@pytest.mark.parametrize("path", ["/machiot/tags/rollup/tag", "/machiot//rollup/tag", "/machiot/v1//rollup/tag",
                                  "/machiot-rest-api/rollup/tag"])
def test_rollup_request(client, tag_1, path):
    assert client.get(path).json == {"error_code": 0, "error_message": "No Error", "timezone": "+0900", "data": []}
