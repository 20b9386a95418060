"""Error texts a client sees are plain words: no Python internals (issue 18 item 15a, b)."""

from __future__ import annotations

import urllib.parse

import pytest

HUGE = "9" * 5000
INTERNALS = ("sys.set_int_max_str_digits", "invalid literal", "int()", "float()", "Traceback", "Error:")


def machbase(client, sql: str) -> dict:
    return client.get("/machbase?q=" + urllib.parse.quote(sql)).json


@pytest.mark.parametrize("path", ["/v1/config", "/v1/config/validate", "/machiot/datapoints/raw/TAG"])
def test_a_number_of_thousands_of_digits_in_a_body_is_named_in_plain_words(client, path):
    response = client.post(path, '{"values": [' + HUGE + "]}")
    assert response.status == 400
    body = response.json
    text = body["error"]["text"] if "error" in body else body["error_message"]
    assert text == "Request body holds a number of more than 4300 digits"


@pytest.mark.parametrize("sql, text", [
    ("select date_trunc('hour', 'abc')",
     "TO_DATE cannot read 'abc' as a time: expected YYYY-MM-DD[ HH24:MI:SS[ mmm:uuu:nnn]]"),
    ("select unix_timestamp(1e300)", "UNIX_TIMESTAMP: the time must be a datetime (or text such as "
                                     "'2024-01-01 08:00:00'), got a number beyond the datetime range (64-bit nanoseconds)"),
    ("select from_unixtime('abc')", "FROM_UNIXTIME needs the seconds since 1970 of a time from 1677 to 2262, "
                                    "got 'abc'"),
    ("select from_unixtime(1, 2)", "FROM_UNIXTIME takes (seconds since 1970)"),
    ("select * from tag where time > '1500-01-01'",
     "TO_DATE: '1500-01-01' is out of range: times are kept as 64-bit nanoseconds since 1970, so the year must "
     "be from 1678 to 2261"),
])
def test_bad_sql_function_arguments_get_a_clear_error_not_an_internal_one(client, sql, text):
    body = machbase(client, sql)
    assert (body["error_code"], body["error_message"]) == (2132 if "takes" not in text else 2010, text)


# The lexer refuses an integer literal beyond 64 bits wherever it stands, in plain words.
TOO_MANY_DIGITS = (f"Number {'9' * 37}... is out of range: integers are 64-bit (-9223372036854775808 to "
                   "9223372036854775807); write a larger number as a double with a decimal point or an exponent "
                   "(1.5e30)")


@pytest.mark.parametrize("sql, text", [
    (f"create tag table t9 (name varchar({HUGE}) primary key, time datetime basetime, value double summarized)",
     TOO_MANY_DIGITS),
    (f"select * from tag where time > '{HUGE}'", TOO_MANY_DIGITS),
    (f"delete from texts oldest {HUGE} rows", TOO_MANY_DIGITS),
    (f"select date_bin('sec', 1, {HUGE})", TOO_MANY_DIGITS),
])
def test_sql_with_numbers_of_thousands_of_digits_gets_a_clear_error(client, sql, text):
    assert machbase(client, "create table texts (a integer)")["error_code"] in (0, 2026)  # made by the first case
    body = machbase(client, sql)
    assert body["error_message"] == text and not any(word in text for word in INTERNALS)


def test_good_sql_function_arguments_still_work(client):
    body = machbase(client, "select unix_timestamp('2020-01-01'), from_unixtime(1577836800) = "
                            "to_date('2020-01-01'), date_trunc('hour', '2020-01-01 10:30:00') = "
                            "to_date('2020-01-01 10:00:00')")
    assert body["error_code"] == 0 and list(body["data"][0].values()) == [1577836800, 1, 1]


def test_a_query_time_whose_year_is_out_of_range_says_so(client):
    appended = client.post("/machiot/datapoints/raw/TAG", {"values": [["a", "2020-01-01 00:00:00", 1]]}).json
    assert appended["append_success"] == 1
    body = client.get("/machiot/v1/datapoints/raw/TAG/a/1500-01-01/2020-01-02").json
    assert body["error_message"] == ("Start '1500-01-01' is out of range: times are kept as 64-bit nanoseconds "
                                     "since 1970, so the year must be from 1678 to 2261")
    assert not any(word in body["error_message"] for word in INTERNALS)


def test_config_validate_names_a_number_of_thousands_of_digits_in_plain_words(tmp_path, capsys):
    from edge.pipeline.config.validate_cli import validate_file

    path = tmp_path / "huge.json"
    path.write_text('{"data_receiver": [{"poll_interval": ' + HUGE + "}]}")
    assert validate_file(str(path)) == 1
    assert capsys.readouterr().err == f"edge: {path} holds a number of more than 4300 digits\n"
    path.write_text('{"data_receiver": NaN}')
    assert validate_file(str(path)) == 1
    assert capsys.readouterr().err == f"edge: {path} is not valid JSON: NaN is not valid JSON\n"
