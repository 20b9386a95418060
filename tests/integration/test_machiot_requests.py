"""The tag API's parameters and paths on a real server: prefixes, time forms, f/m/s, Direction,
Count, Offset, nanoseconds, the /machbase DDL and append; and bad input of every kind, which
gets a clear error, changes nothing and leaves the server serving."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import EdgeServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    edge = EdgeServer(tmp_path_factory.mktemp("machiot-requests") / "data", ["TIMEZONE = Asia/Seoul"]).start()
    yield edge
    edge.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.client


def q(client, statement: str):
    return client.get("/machbase?" + urllib.parse.urlencode({"q": statement}))


@pytest.fixture(scope="module")
def sensors(client):
    """SENSORS: s1 with 10 points a second apart from 2021-01-02 03:04:00, values 0..9;
    s2 with 3 points appended out of time order."""
    answer = q(client, "create tag table sensors (name varchar(20) primary key, time datetime basetime, "
                       "value double summarized, quality short)")
    assert answer.json["error_code"] == 0, answer.json
    rows = [["s1", f"2021-01-02 03:04:{i:02d}", i, i % 3] for i in range(10)]
    rows += [["s2", "2021-01-02 03:04:05", 5.5, None], ["s2", "2021-01-02 03:04:01", 1.5, None],
             ["s2", "2021-01-02 03:04:03", 3.5, None]]
    answer = client.post("/machiot/datapoints/raw/sensors", {"values": rows}).json
    assert answer["append_success"] == 13, answer
    return "sensors"


def raw(client, path: str, **params) -> dict:
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    return client.get("/machiot/datapoints/raw/sensors/" + path + query).json


def values(body: dict) -> list:
    return [row["VALUE"] for row in body["data"]]


@pytest.mark.parametrize("prefix", ["/machiot", "/machiot/v1", "/machiot-rest-api", "/machiot-rest-api/v1"])
def test_every_prefix_serves_the_same_api(client, sensors, prefix):
    body = client.get(prefix + "/datapoints/raw/sensors/s1/2021-01-02 03:04:00/2021-01-02 03:04:02".replace(" ", "%20")).json
    assert values(body) == [0, 1, 2]
    assert client.get(prefix + "/tags/count/sensors/s1").json["data"] == [{"name": "s1", "count": 10}]


@pytest.mark.parametrize("start", ["2021-01-02 03:04:07", "2021-01-02 03:04:07 000:000:000", "2021-01-02T03:04:07",
                                   "2021-01-02T03:04:07,000", "2021-01-02 03:04:07, 000", "2021-01-02 03:04:07.000"])
def test_every_time_form_selects_the_same_rows(client, sensors, start):
    assert values(raw(client, "s1/" + urllib.parse.quote(start) + "/2021-01-03")) == [7, 8, 9]


def test_a_date_alone_is_midnight(client, sensors):
    assert values(raw(client, "s1/2021-01-02/2021-01-02")) == []
    assert len(raw(client, "s1/2021-01-02/2021-01-03")["data"]) == 10


def test_start_and_end_may_be_left_out(client, sensors):
    assert len(raw(client, "s1")["data"]) == 10
    assert values(raw(client, "s1/2021-01-02T03:04:08")) == [8, 9]


def test_direction_orders_by_insertion_or_time(client, sensors):
    assert values(raw(client, "s2/2021-01-02/2021-01-03/0")) == [5.5, 1.5, 3.5]
    assert values(raw(client, "s2/2021-01-02/2021-01-03/1")) == [5.5, 3.5, 1.5]
    assert values(raw(client, "s2/2021-01-02/2021-01-03/2")) == [1.5, 3.5, 5.5]


def test_count_and_offset_page_through_the_whole_series(client, sensors):
    assert values(raw(client, "s1,s2/2021-01-02/2021-01-03/0/4/8")) == [8, 9, 5.5, 1.5]
    assert values(raw(client, "s1/2021-01-02/2021-01-03/1/3/0")) == [9, 8, 7]
    assert values(raw(client, "s1/2021-01-02/2021-01-03/0/0/20")) == []


def test_query_factors_fill_what_the_path_leaves_out(client, sensors):
    body = client.get("/machiot/datapoints/raw/sensors/s1?Start=2021-01-02T03:04:05&End=2021-01-02T03:04:06").json
    assert values(body) == [5, 6]


def test_fetch_mode_scale_and_date_format(client, sensors):
    answer = client.get("/machiot/datapoints/raw/sensors/s1/2021-01-02T03:04:01/2021-01-02T03:04:01?m=1&s=5"
                        "&f=YYYY/MM/DD%20HH24:MI")
    assert answer.json["data"] == [["s1", "2021/01/02 03:04", 1, 1]]  # QUALITY too
    assert b'1.00000,1]' in answer.body
    answer = client.get("/machiot/datapoints/raw/sensors/s1/2021-01-02T03:04:01/2021-01-02T03:04:01?FetchMode=1"
                        "&Scale=0&DateFormat=DD-MON-YYYY")
    assert answer.json["data"] == [["s1", "02-JAN-2021", 1, 1]]
    assert answer.body.endswith(b',1,1]]}')


@pytest.mark.parametrize("scale", ["12", "-1", "x"])
def test_scale_out_of_range_prints_three_decimals(client, sensors, scale):
    answer = client.get(f"/machiot/datapoints/raw/sensors/s1/2021-01-02T03:04:01/2021-01-02T03:04:01?s={scale}")
    assert b'"VALUE":1.000,' in answer.body


def test_f_also_reads_start_and_end(client, sensors):
    body = client.get("/machiot/datapoints/raw/sensors/s1/02.01.2021%2003:04:03/02.01.2021%2003:04:04"
                      "?f=DD.MM.YYYY%20HH24:MI:SS").json
    assert body["data"] == [{"NAME": "s1", "TIME": "02.01.2021 03:04:03", "VALUE": 3, "QUALITY": 0},
                            {"NAME": "s1", "TIME": "02.01.2021 03:04:04", "VALUE": 4, "QUALITY": 1}]


def test_nanoseconds_survive_append_and_select(client, sensors):
    answer = client.post("/machiot/datapoints/raw/sensors", {"values": [["ns", "2020-12-12 03:22:22 222:333:444", 1, 0],
                                                                        ["ns", "2020-12-12T03:22:22,234", 2, 0]]}).json
    assert answer["append_success"] == 2
    body = client.get("/machiot/datapoints/raw/sensors/ns/2020-12-12/2020-12-13/2").json
    assert [row["TIME"] for row in body["data"]] == ["2020-12-12 03:22:22 222:333:444", "2020-12-12 03:22:22 234:000:000"]
    body = client.get("/machiot/datapoints/raw/sensors/ns/" + urllib.parse.quote("2020-12-12 03:22:22 222:333:444")
                      + "/" + urllib.parse.quote("2020-12-12 03:22:22 222:333:444")).json
    assert values(body) == [1]


def test_tz_reads_and_prints_the_times_of_one_request_in_another_zone(client):
    # 00:30 and 01:30 UTC on 2024-10-27: both 02:30 on Berlin's clock (summer time ends at 01:00
    # UTC), 09:30 and 10:30 in Seoul (TIMEZONE). In UTC they cannot be mistaken for each other.
    assert q(client, "create tag table fallback (name varchar(20) primary key, time datetime basetime, "
                     "value double summarized)").json["error_code"] == 0
    appended = client.post("/machiot/datapoints/raw/fallback?tz=UTC",
                           {"values": [["t", "2024-10-27 00:30:00", 1], ["t", "2024-10-27 01:30:00", 2]]}).json
    assert appended["append_success"] == 2 and appended["timezone"] == "+0000"

    def times(query: str, path: str = "t/2024-10-26/2024-10-28") -> tuple[list, str]:
        body = client.get(f"/machiot/datapoints/raw/fallback/{path}?m=1&{query}").json
        return [row[1] for row in body["data"]], body["timezone"]

    assert times("tz=UTC") == (["2024-10-27 00:30:00 000:000:000", "2024-10-27 01:30:00 000:000:000"], "+0000")
    assert times("") == (["2024-10-27 09:30:00 000:000:000", "2024-10-27 10:30:00 000:000:000"], "+0900")
    assert times("tz=Europe/Berlin")[0] == ["2024-10-27 02:30:00 000:000:000"] * 2
    # Start and End are read in tz too: an hour of UTC holds only the second point.
    assert times("tz=UTC", "t/2024-10-27%2001:00:00/2024-10-27%2002:00:00") == (["2024-10-27 01:30:00 000:000:000"],
                                                                           "+0000")
    hourly = client.get("/machiot/datapoints/calculated/fallback/t/2024-10-27/2024-10-28/count/0/hour/1"
                        "?m=1&tz=UTC").json["data"]
    assert hourly == [["2024-10-27 00:00:00 000:000:000", 1], ["2024-10-27 01:00:00 000:000:000", 1]]
    assert client.delete("/machiot/datapoints/raw/fallback/2024-10-27%2001:00:00?tz=UTC").json["effect_rows"] == "1"
    assert times("tz=UTC")[0] == ["2024-10-27 01:30:00 000:000:000"]


def test_calculated_by_seconds_and_minutes(client, sensors):
    body = client.get("/machiot/datapoints/calculated/sensors/s1/2021-01-02/2021-01-03/count,avg/0/sec/5").json
    assert body["data"] == [{"time": "2021-01-02 03:04:00 000:000:000", "count": 5, "avg": 2},
                            {"time": "2021-01-02 03:04:05 000:000:000", "count": 5, "avg": 7}]
    body = client.get("/machiot/datapoints/calculated/sensors/s1/2021-01-02/2021-01-03/min,max/1/min/1").json
    assert body["data"] == [{"time": "2021-01-02 03:04:00 000:000:000", "min": 0, "max": 9}]


def test_machbase_post_appends_into_a_tag_table(client, sensors):
    answer = client.post("/machbase", {"name": "sensors", "date_format": "YYYY-MM-DD",
                                       "values": [["mb", "1999-01-01 00:00:01", 1, 0], ["mb", "1999-01-01", 2, 1],
                                                  ["mb", "garbage", 3, 0]]}).json
    assert answer == {"error_code": 0, "error_message": "No Error", "data": [], "append_success": 2,
                      "append_failure": 1}
    assert values(raw(client, "mb/1999-01-01/1999-01-02/2")) == [2, 1]


def test_ddl_creates_and_drops_tag_tables(client):
    assert q(client, "create tag table scratch (n varchar(8) primary key, t datetime basetime, v double summarized)"
             ).json == {"error_code": 0, "error_message": "No Error", "data": []}
    assert q(client, "CREATE TAG TABLE IF NOT EXISTS scratch (n varchar(8) primary key, t datetime basetime, "
                     "v double summarized)").json["error_code"] == 0
    assert client.post("/machiot/datapoints/raw/Scratch", {"values": [["a", "2021-01-01", 1]]}).json["append_success"] == 1
    assert q(client, "drop table SCRATCH;").json == {"error_code": 0, "error_message": "No Error", "data": []}
    assert client.get("/machiot/tags/list/scratch").json["error_code"] == 2025


# Bad input ------------------------------------------------------------------------------------

def count(client, tag: str = "s1") -> int:
    return client.get(f"/machiot/tags/count/sensors/{tag}").json["data"][0]["count"]


@pytest.mark.parametrize("body", [b'{"values": [["s1", "2021-01-02 09:00:00", 1]', b"not json", b"",
                                  b'[["s1", "2021-01-02 09:00:00", 1]]', b'{"values": "s1,2021-01-02,1"}',
                                  b'{"values": [["s1", "2021-01-02 09:00:00", 1], 7]}',
                                  b'{"values": [], "date_format": 3}', b'{"values": [["s1", "2021-01-02", NaN]]}',
                                  "{\"values\": [[\"s1\", \"2021-01-02\", 1]]}".encode("utf-16")])
def test_malformed_append_is_refused_and_writes_nothing(client, sensors, body):
    before = count(client)
    answer = client.post("/machiot/datapoints/raw/sensors", body)
    assert answer.json["error_code"] == 3000
    assert answer.json["error_message"]
    assert answer.json["timezone"] == "+0900"
    assert count(client) == before


def test_bad_rows_are_counted_and_good_rows_stored(client, sensors):
    before = count(client, "mixed") if client.get("/machiot/tags/count/sensors/mixed").json["error_code"] == 0 else 0
    answer = client.post("/machiot/datapoints/raw/sensors", {"values": [
        ["mixed", "2021-05-05 00:00:00", 1, 0], ["mixed", "yesterday", 2, 0], ["mixed", "2021-05-05 00:00:01", "3", 0],
        ["mixed", "2021-05-05 00:00:02", 4, 70000], ["mixed", "2021-05-05 00:00:03", 5], [None, "2021-05-05", 6, 0],
        ["mixed", "2021-05-05 00:00:04", 7, None]]}).json
    assert (answer["append_success"], answer["append_failure"]) == (2, 5)
    assert count(client, "mixed") == before + 2


@pytest.mark.parametrize("path, code, fragment", [
    ("/machiot/datapoints/raw/nosuch/s1", 2025, "NOSUCH"),
    ("/machiot/datapoints/raw/sensors/nosuch", 2320, "nosuch"),
    ("/machiot/datapoints/raw/sensors/s1,nosuch/2021-01-01/2021-01-02", 2320, "nosuch"),
    ("/machiot/datapoints/raw/sensors/s1/yesterday/2021-01-02", 2132, "Start"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-01/2021-13-02", 2132, "End"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-03/2021-01-02", 2101, "after End"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-01/2021-01-02/3", 2101, "Direction"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-01/2021-01-02/0/-1", 2101, "Count"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-01/2021-01-02/0/ten", 2101, "Count"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-01/2021-01-02/0/0/x", 2101, "Offset"),
    ("/machiot/datapoints/raw/sensors/s1/2021-01-01/2021-01-02/0/0/0/extra", 2101, "path"),
    ("/machiot/datapoints/raw/sensors/,/2021-01-01/2021-01-02", 2101, "empty tag name"),
    ("/machiot/datapoints/raw?Table=sensors", 2101, "TagNames"),
    ("/machiot/datapoints/raw/sensors/s1?m=2", 2101, "FetchMode"),
    ("/machiot/datapoints/calculated/sensors/s1/2021-01-01/2021-01-03/median/0/min/1", 2101, "median"),
    ("/machiot/datapoints/calculated/sensors/s1/2021-01-01/2021-01-03/avg/0/day/1", 2101, "IntervalType"),
    ("/machiot/datapoints/calculated/sensors/s1/2021-01-01/2021-01-03/avg/0/min/7", 2101, "divide 60"),
    ("/machiot/datapoints/calculated/sensors/s1/2021-01-01/2021-01-03/avg/0/hour/0", 2101, "IntervalValue"),
    ("/machiot/datapoints/calculated/sensors/s1/2021-01-01/2021-01-03", 2101, "CalculationMode"),
    ("/machiot/tags/min/sensors/nosuch", 2320, "nosuch"),
    ("/machiot/tags/list/sensors/nosuch", 2320, "nosuch"),
    ("/machiot/tags/list/nosuch", 2025, "NOSUCH"),
    ("/machiot/no/such/endpoint", 3001, "endpoint"),
    ("/machiot/datapoints/raw/sensors/s1?tz=Mars/Olympus", 2101, "tz must be an IANA time zone"),
    ("/machiot/datapoints/raw/sensors/s1?tz=../../etc/passwd", 2101, "tz must be an IANA time zone"),
    ("/machiot/datapoints/calculated/sensors/s1/2021-01-01/2021-01-03/avg/0/min/1?tz=%2Fetc%2Flocaltime", 2101,
     "tz must be"),
])
def test_bad_requests_get_a_clear_error(client, sensors, path, code, fragment):
    answer = client.get(path)
    assert answer.status >= 400
    body = answer.json
    assert body["error_code"] == code, body
    assert fragment in body["error_message"]
    assert body["data"] == [] and body["timezone"] == "+0900"


def test_bad_deletes_and_metadata_changes_change_nothing(client, sensors):
    before = count(client)
    assert client.delete("/machiot/datapoints/raw/sensors/s1/never").json["error_code"] == 2132
    assert client.delete("/machiot/datapoints/raw/sensors/nosuch/2030-01-01").json["error_code"] == 2320
    assert client.delete("/machiot/datapoints/raw/sensors/s1/2030-01-01/extra").json["error_code"] == 2101
    assert client.put("/machiot/tags/list/sensors/s1", {"nosuch": 1}).json["error_code"] == 2037
    assert client.put("/machiot/tags/list/sensors/s1", b"{oops").json["error_code"] == 3000
    assert client.put("/machiot/tags/list/sensors/nosuch", {"a": 1}).json["error_code"] == 2320
    assert client.delete("/machiot/tags/list/sensors/s1,s2").json["error_code"] == 2324
    assert client.post("/machiot/tags/list/sensors", {"values": "s9"}).json["error_code"] == 3000
    assert count(client) == before


def test_delete_of_several_tags_without_data(client, sensors):
    answer = client.post("/machiot/tags/list/sensors", {"values": [["empty-1"], ["empty-2"], [3], ["x" * 30]]}).json
    assert (answer["append_success"], answer["append_failure"]) == (2, 2)
    assert client.delete("/machiot/tags/list/sensors/empty-1,empty-2").json["effect_rows"] == "2"


def test_statistics_of_a_tag_without_data_are_null(client, sensors):
    client.post("/machiot/tags/list/sensors", {"values": [["idle"]]})
    assert client.get("/machiot/tags/range/sensors/idle").json["data"] == [{"name": "idle", "min": None, "max": None}]
    assert client.get("/machiot/tags/min/sensors/idle").json["data"] == [{"name": "idle", "time": None, "min": None}]
    assert client.get("/machiot/tags/first/sensors/idle").json["data"] == [{"NAME": "idle", "TIME": None,
                                                                            "VALUE": None}]
    assert client.get("/machiot/tags/count/sensors/idle").json["data"] == [{"name": "idle", "count": 0}]


@pytest.mark.parametrize("statement, code", [
    ("create tag table sensors (n varchar(8) primary key, t datetime basetime, v double summarized)", 2026),
    ("create tag table bad (n varchar(8), t datetime basetime, v double summarized)", 2010),
    ("create tag table bad (n varchar(8) primary key, t datetime basetime, v blob summarized)", 2011),
    ("drop table nosuch", 2025), ("   ", 3000),
])
def test_bad_tag_ddl_gets_a_machbase_error(client, sensors, statement, code):
    body = q(client, statement).json
    assert body["error_code"] == code, body
    assert body["error_message"] and body["data"] == []


def test_tag_data_appended_here_is_what_sql_sees(client, sensors):
    body = client.get("/machbase?" + urllib.parse.urlencode(
        {"q": "select name, time, value from sensors where name = 's1' and time < '2021-01-02 03:04:02'",
         "m": "1"})).json
    assert body["data"] == [["s1", "2021-01-02 03:04:00 000:000:000", 0], ["s1", "2021-01-02 03:04:01 000:000:000", 1]]


def test_machbase_append_needs_a_table_name(client, sensors):
    assert client.post("/machbase", {"values": [["a", "2021-01-01", 1, 0]]}).json["error_code"] == 3000
    assert client.post("/machbase", {"name": "nosuch", "values": []}).json["error_code"] == 2025


def test_server_keeps_serving_after_all_that(client, sensors):
    assert values(raw(client, "s1/2021-01-02T03:04:09/2021-01-03")) == [9]


def test_a_result_beyond_http_max_mem_is_refused_and_count_pages_it(edge_server_factory):
    small = edge_server_factory(conf_lines=["HTTP_MAX_MEM = 1048576", "TIMEZONE = UTC"]).client
    rows = [["t", 1_600_000_000 * 10**9 + k * 10**6, k] for k in range(11_000)]  # > 1 MiB / 96 bytes a row
    assert small.post("/machiot/datapoints/raw/tag", {"values": rows}).json["append_success"] == 11_000
    refused = small.get("/machiot/datapoints/raw/tag/t").json
    assert refused["error_code"] == 2101 and "HTTP_MAX_MEM" in refused["error_message"]
    assert len(small.get("/machiot/datapoints/raw/tag/t/2020-01-01/2030-01-01/2/5000/6000").json["data"]) == 5000


def test_metadata_of_every_type_round_trips(client):
    assert q(client, "create tag table typed (name varchar(20) primary key, time datetime basetime, value double "
                     "summarized) metadata (i integer, l long, f float, d double, v varchar(4), t datetime, ip ipv4)"
             ).json["error_code"] == 0
    answer = client.post("/machiot/tags/list/typed", {"values": [
        ["full", -5, 2**40, 1.5, 2.25, "abcd", "2021-01-02 03:04:05", "10.1.2.3"],
        ["empty", None, None, None, None, None, None, None],
        ["bad", 1, 1, 1, 1, "abcde", None, None]]}).json
    assert (answer["append_success"], answer["append_failure"]) == (2, 1)
    body = client.get("/machiot/tags/list/typed/full?s=2").json
    assert [(c["name"], c["type"]) for c in body["columns"]] == [
        ("name", 5), ("i", 8), ("l", 12), ("f", 16), ("d", 20), ("v", 5), ("t", 6), ("ip", 32)]
    assert body["data"] == [{"name": "full", "i": -5, "l": 2**40, "f": 1.5, "d": 2.25, "v": "abcd",
                             "t": "2021-01-02 03:04:05 000:000:000", "ip": "10.1.2.3"}]
    assert client.get("/machiot/tags/list/typed/empty").json["data"] == [
        {"name": "empty", "i": None, "l": None, "f": None, "d": None, "v": None, "t": None, "ip": None}]
    assert client.patch("/machiot/tags/list/typed/empty", {"t": "2022-02-02", "I": 7}).json["effect_rows"] == "1"
    detail = client.get("/machiot/tags/list/typed/empty").json["data"][0]
    assert (detail["t"], detail["i"]) == ("2022-02-02 00:00:00 000:000:000", 7)
    assert client.patch("/machiot/tags/list/typed/empty", {"t": "someday"}).json["error_code"] == 2132
    assert client.patch("/machiot/tags/list/typed/empty", {"i": "seven"}).json["error_code"] == 2100


def test_wrong_method_and_missing_auth_answer_in_the_tag_api_envelope(client, sensors):
    wrong = client.request("PUT", "/machiot/datapoints/raw/sensors")
    assert wrong.status == 405
    assert wrong.json["error_code"] == 3000 and wrong.json["timezone"] == "+0900"
    missing = client.get("/machiot-rest-api/tags/list/sensors", auth=None)
    assert missing.status == 401
    assert missing.json == {"error_code": 3118, "error_message": "There is No Authorization Header.",
                            "timezone": "+0900", "data": []}


def test_raw_select_returns_every_data_column_as_select_star_does(client):
    assert q(client, "create tagdata table TAGM (name_multi varchar(20) primary key, time_multi datetime basetime, "
                     "value_multi double summarized, value2_multi short, value3_multi varchar(10))"
             ).json["error_code"] == 0
    answer = client.post("/machbase", {"name": "TAGM", "values": [["tag4", "2001-09-09 01:00:00", 1.5, 7, "abc"],
                                                                  ["tag4", "2001-09-09 01:00:01", 2.5, None, None]]})
    assert answer.json["append_success"] == 2, answer.json
    body = client.get("/machiot/v1/datapoints/raw/TAGM/tag4/2001-09-09T00:00:00/2001-09-09T02:00:00").json
    assert body["columns"] == [{"name": "NAME_MULTI", "type": 5, "length": 20},
                               {"name": "TIME_MULTI", "type": 6, "length": 31},
                               {"name": "VALUE_MULTI", "type": 20, "length": 17},
                               {"name": "VALUE2_MULTI", "type": 4, "length": 6},
                               {"name": "VALUE3_MULTI", "type": 5, "length": 10}]
    assert body["data"] == [
        {"NAME_MULTI": "tag4", "TIME_MULTI": "2001-09-09 01:00:00 000:000:000", "VALUE_MULTI": 1.5,
         "VALUE2_MULTI": 7, "VALUE3_MULTI": "abc"},
        {"NAME_MULTI": "tag4", "TIME_MULTI": "2001-09-09 01:00:01 000:000:000", "VALUE_MULTI": 2.5,
         "VALUE2_MULTI": None, "VALUE3_MULTI": None}]
    star = q(client, "select * from TAGM where name_multi = 'tag4'").json
    assert [c["name"] for c in star["columns"]] == [c["name"] for c in body["columns"]]
    assert [list(row.values()) for row in star["data"]] == [list(row.values()) for row in body["data"]]


def test_raw_select_prints_extra_columns_of_every_type(client):
    assert q(client, "create tag table wide (name varchar(20) primary key, time datetime basetime, value double "
                     "summarized, i integer, l long, f float, d double, t datetime, ip ipv4)").json["error_code"] == 0
    rows = [["w", "2021-01-02 03:04:05", 1, -5, 2**40, 1.25, 2.5, "2021-01-02 00:00:00", "10.1.2.3"],
            ["w", "2021-01-02 03:04:06", 2, None, None, None, None, None, None]]
    assert client.post("/machiot/datapoints/raw/wide", {"values": rows}).json["append_success"] == 2
    body = client.get("/machiot/datapoints/raw/wide/w?m=1&s=2").json
    assert [(c["name"], c["type"]) for c in body["columns"]] == [
        ("NAME", 5), ("TIME", 6), ("VALUE", 20), ("I", 8), ("L", 12), ("F", 16), ("D", 20), ("T", 6), ("IP", 32)]
    assert body["data"] == [
        ["w", "2021-01-02 03:04:05 000:000:000", 1, -5, 2**40, 1.25, 2.5, "2021-01-02 00:00:00 000:000:000",
         "10.1.2.3"],
        ["w", "2021-01-02 03:04:06 000:000:000", 2, None, None, None, None, None, None]]
