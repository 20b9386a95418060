"""Text in requests is UTF-8 on every API and every way it comes: query string, path segment,
form body, JSON body. Korean text round-trips; bytes that are not UTF-8 get a clear error in the
API's envelope and change nothing; the server keeps serving."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import EdgeServer

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NOT_UTF8 = "%ED%A0%80%FF"  # a surrogate's bytes and a lone 0xFF: neither is UTF-8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    edge = EdgeServer(tmp_path_factory.mktemp("utf8-requests") / "data").start()
    yield edge
    edge.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.client


def get_q(client, statement: str, **params):
    return client.get("/machbase?" + urllib.parse.urlencode({"q": statement, **params})).json


def post_q(client, statement: str, **params):
    return client.post("/machbase", urllib.parse.urlencode({"q": statement, **params}), headers=FORM).json


@pytest.fixture(scope="module")
def plant(client):
    """Tag table PLANT with tag 온도 (2 points), and log table MEMO."""
    answer = get_q(client, "create tag table plant (name varchar(40) primary key, time datetime basetime, "
                           "value double summarized)")
    assert answer["error_code"] == 0, answer
    rows = [["온도", "2021-01-02 03:04:05", 21.5], ["온도", "2021-01-02 03:04:06", 22.5]]
    answer = client.post("/machiot/datapoints/raw/plant", {"values": rows}).json
    assert answer["append_success"] == 2, answer
    assert get_q(client, "create table memo (name varchar(40), note varchar(40))")["error_code"] == 0
    return "plant"


# /machbase -----------------------------------------------------------------------------------

@pytest.mark.parametrize("send", [get_q, post_q], ids=["query-string", "form-body"])
def test_machbase_where_clause_finds_korean_tag(client, plant, send):
    body = send(client, "select name, value from plant where name='온도' order by time")
    assert body["error_code"] == 0, body
    assert body["data"] == [{"NAME": "온도", "VALUE": 21.5}, {"NAME": "온도", "VALUE": 22.5}]


@pytest.mark.parametrize("send", [get_q, post_q], ids=["query-string", "form-body"])
def test_machbase_date_format_prints_korean(client, plant, send):
    body = send(client, "select time from plant where name='온도' limit 1", f="YYYY년 MM월 DD일 HH24시")
    assert body["data"] == [{"TIME": "2021년 01월 02일 03시"}]


@pytest.mark.parametrize("send, who", [(get_q, "get"), (post_q, "form")])
def test_machbase_insert_stores_the_korean_text(client, plant, send, who):
    answer = send(client, f"insert into memo values ('{who}-압력', '섭씨 21도')")
    assert answer["error_code"] == 0, answer
    body = get_q(client, f"select note from memo where name='{who}-압력'")
    assert body["data"] == [{"NOTE": "섭씨 21도"}]
    assert get_q(client, f"select length(name) as n from memo where name='{who}-압력'")["data"] == \
        [{"N": len(f"{who}-압력")}]


def test_machbase_get_with_a_form_body_runs_its_statement(client, plant):
    # The spec's `curl -X GET ... --data-urlencode 'q=...'` sends the statement as a form body.
    body = client.get("/machbase", body=urllib.parse.urlencode({"q": "select count(*) as n from plant "
                                                                      "where name='온도'"}), headers=FORM).json
    assert body["data"] == [{"N": 2}]


def test_machbase_json_append_with_form_content_type_is_still_an_append(client, plant):
    # curl -d '{...}' without -H sends the form content type; a '%FF' inside a string is text.
    answer = client.post("/machbase", '{"name": "plant", "values": [["압력%FF", "2021-01-02 03:04:05", 1]]}',
                         headers=FORM).json
    assert answer["append_success"] == 1, answer
    assert get_q(client, "select value from plant where name='압력%FF'")["data"] == [{"VALUE": 1}]


def test_machbase_query_string_not_utf8_is_refused(client, plant):
    answer = client.get(f"/machbase?q=insert%20into%20memo%20values%20('{NOT_UTF8}',%20'x')")
    assert answer.status == 400
    assert answer.json == {"error_code": 3000, "data": [],
                           "error_message": "Query parameter 'q' is not UTF-8 text; send text as UTF-8, "
                                            "percent-encoded"}
    assert get_q(client, "select count(*) as n from memo where note='x'")["data"] == [{"N": 0}]


def test_machbase_form_field_not_utf8_is_refused(client, plant):
    answer = client.post("/machbase", f"q=insert%20into%20memo%20values%20('{NOT_UTF8}',%20'y')", headers=FORM)
    assert answer.status == 400
    assert answer.json["error_code"] == 3000
    assert answer.json["error_message"] == "Form field 'q' is not UTF-8 text; send text as UTF-8, percent-encoded"
    assert get_q(client, "select count(*) as n from memo where note='y'")["data"] == [{"N": 0}]


def test_machbase_parameter_name_not_utf8_is_refused(client, plant):
    answer = client.get("/machbase?q=select%201&%FF=1")
    assert answer.status == 400
    assert answer.json["error_message"] == "Query parameter '\\xff' is not UTF-8 text; send text as UTF-8, " \
                                           "percent-encoded"


@pytest.mark.parametrize("api", ["/machbase", "/machiot/datapoints/raw/plant"])
def test_json_lone_surrogate_is_refused_and_nothing_stored(client, plant, api):
    body = b'{"name": "plant", "values": [["\\ud800", "2021-01-02 03:04:05", 1], ["ok-\\ud83d\\ude00", ' \
           b'"2021-01-02 03:04:05", 2]]}'
    answer = client.post(api, body)
    assert answer.status == 400
    assert answer.json["error_code"] == 3000
    assert "lone surrogate" in answer.json["error_message"]
    assert get_q(client, "select count(*) as n from plant where name like 'ok-%'")["data"] == [{"N": 0}]


def test_json_surrogate_pair_is_one_character(client, plant):
    answer = client.post("/machiot/datapoints/raw/plant",
                         b'{"values": [["pair-\\ud83d\\ude00", "2021-01-02 03:04:05", 3]]}').json
    assert answer["append_success"] == 1, answer
    assert get_q(client, "select name from plant where value = 3")["data"] == [{"NAME": "pair-\U0001F600"}]


# /machiot ------------------------------------------------------------------------------------

def test_machiot_tag_names_in_the_query_string(client, plant):
    query = urllib.parse.urlencode({"TagNames": "온도", "Start": "2021-01-02 03:04:06"})
    body = client.get("/machiot/datapoints/raw/plant?" + query).json
    assert body["error_code"] == 0, body
    assert [(row["NAME"], row["VALUE"]) for row in body["data"]] == [("온도", 22.5)]


def test_machiot_tag_names_in_the_path(client, plant):
    body = client.get("/machiot/datapoints/raw/plant/" + urllib.parse.quote("온도") + "/2021-01-02").json
    assert [row["VALUE"] for row in body["data"]] == [21.5, 22.5]
    count = client.get("/machiot/tags/count/plant/" + urllib.parse.quote("온도")).json
    assert count["data"] == [{"name": "온도", "count": 2}]


def test_machiot_unknown_korean_tag_is_named_in_the_error(client, plant):
    body = client.get("/machiot/datapoints/raw/plant?" + urllib.parse.urlencode({"TagNames": "습도"})).json
    assert body["error_code"] == 2320
    assert "습도" in body["error_message"]


def test_machiot_date_format_in_the_query_string(client, plant):
    query = urllib.parse.urlencode({"f": "YYYY년 MM월 DD일 HH24:MI:SS"})
    body = client.get("/machiot/datapoints/raw/plant/" + urllib.parse.quote("온도") + "?" + query).json
    assert [row["TIME"] for row in body["data"]] == ["2021년 01월 02일 03:04:05", "2021년 01월 02일 03:04:06"]


def test_machiot_tag_meta_round_trips_korean_names(client, plant):
    answer = client.post("/machiot/tags/list/plant", {"values": [["습도"]]}).json
    assert answer["error_code"] == 0, answer
    assert client.get("/machiot/tags/list/plant/" + urllib.parse.quote("습도")).json["data"] == [{"name": "습도"}]
    assert client.delete("/machiot/tags/list/plant/" + urllib.parse.quote("습도")).json["error_code"] == 0
    assert client.get("/machiot/tags/list/plant/" + urllib.parse.quote("습도")).json["error_code"] == 2320


def test_machiot_path_not_utf8_is_refused(client, plant):
    answer = client.delete(f"/machiot/datapoints/raw/plant/{NOT_UTF8}/2030-01-01")
    assert answer.status == 400
    assert answer.json == {"error_code": 3000, "timezone": "+0000", "data": [],
                           "error_message": "The request path /machiot/datapoints/raw/plant/\\xed\\xa0\\x80\\xff"
                                            "/2030-01-01 is not UTF-8 text; send text as UTF-8, percent-encoded"}
    assert len(client.get("/machiot/datapoints/raw/plant/" + urllib.parse.quote("온도")).json["data"]) == 2


def test_machiot_query_string_not_utf8_is_refused(client, plant):
    answer = client.get(f"/machiot/datapoints/raw/plant?TagNames={NOT_UTF8}")
    assert answer.status == 400
    assert answer.json["error_message"] == "Query parameter 'TagNames' is not UTF-8 text; send text as UTF-8, " \
                                           "percent-encoded"


# /v1 -----------------------------------------------------------------------------------------

def test_v1_query_parameter_reaches_the_route_as_korean(client):
    answer = client.get("/v1/meta/data_receiver?" + urllib.parse.urlencode({"subtype": "온도"}))
    assert answer.status == 404
    assert "'온도'" in answer.json["error"]["text"]


def test_v1_path_segment_reaches_the_route_as_korean(client):
    answer = client.get("/v1/log/stream/" + urllib.parse.quote("로그.log"))
    assert answer.status == 404
    assert "'로그.log'" in answer.json["error"]["text"]


def test_v1_query_string_not_utf8_is_refused(client):
    answer = client.get(f"/v1/log/stream?lines={NOT_UTF8}")
    assert answer.status == 400
    assert answer.json == {"success": False, "response": {},
                           "error": {"code": 400, "text": "Query parameter 'lines' is not UTF-8 text; "
                                                          "send text as UTF-8, percent-encoded"}}


def test_v1_path_not_utf8_is_refused(client):
    answer = client.get(f"/v1/config/templates/{NOT_UTF8}")
    assert answer.status == 400
    assert answer.json["error"]["code"] == 400
    assert answer.json["error"]["text"].startswith("The request path /v1/config/templates/\\xed\\xa0\\x80\\xff is")


def test_v1_json_body_with_a_lone_surrogate_is_refused(client):
    answer = client.post("/v1/restream", b'{"asset": "\\ud800", "stream_type": "cycle"}')
    assert answer.status == 400
    assert answer.json["error"]["code"] == 400
    assert "lone surrogate" in answer.json["error"]["text"]


def test_server_keeps_serving(client):
    assert client.get("/v1/status").json["success"] is True
