"""What fuzzing found, kept fixed: integer parameters are ASCII decimal digits, nothing else.

Python's int() also reads Unicode digits ("٣", "５"), underscores ("1_0") and strips any Unicode
space (U+001C), so `lines=8%1C` tailed 8 lines and `Count=1_0` meant 10; and "²" passes
str.isdigit() but not int(), so `limit=%C2%B2` was a 500.
"""

from __future__ import annotations

import pytest

from edge.web.request_text import decimal_integer

RAW = "/machiot/datapoints/raw/tag/fuzz-tag/2001-09-09T01:46:00/2001-09-09T01:50:00/2/{count}/0?m=1"


@pytest.mark.parametrize("text, value", [("8", 8), (" 12 ", 12), ("-3", -3), ("+4", 4), ("007", 7)])
def test_decimal_integers_read(text, value):
    assert decimal_integer(text) == value


@pytest.mark.parametrize("text", ["8\x1c", "1_0", "\uff15", "\u0663", "\u00b2", "", " ", "1.0", "0x10", "1e3"])
def test_anything_else_is_no_integer(text):
    with pytest.raises(ValueError):
        decimal_integer(text)


@pytest.fixture(scope="module")
def tagged(edge_server):
    values = [["fuzz-tag", f"2001-09-09 01:4{6 + i // 60}:{i % 60:02d}", float(i)] for i in range(20)]
    assert edge_server.client.post("/machiot/datapoints/raw/tag", {"values": values}).json["append_success"] == 20
    return edge_server.client


@pytest.mark.parametrize("lines", ["8%1C", "1_0", "%EF%BC%98", "%C2%B2"])
def test_log_lines_must_be_ascii_digits(client, lines):
    answer = client.get(f"/v1/log/stream/factorytx_web.log?lines={lines}")
    assert answer.status == 400 and "lines must be" in answer.json["error"]["text"]


@pytest.mark.parametrize("count", ["1_0", "%EF%BC%92", "%C2%B2", "5%1C"])
def test_tag_api_counts_must_be_ascii_digits(tagged, count):
    answer = tagged.get(RAW.format(count=count))
    assert answer.status == 400 and "Count must be a whole number" in answer.json["error_message"]
    assert tagged.get(RAW.format(count="2")).json["data"] == [["fuzz-tag", "2001-09-09 01:46:00 000:000:000", 0.0],
                                                             ["fuzz-tag", "2001-09-09 01:46:01 000:000:000", 1.0]]


def test_revision_limit_of_a_superscript_digit_is_a_bad_request_not_a_crash(client):
    for limit in ("%C2%B2", "%EF%BC%92", "1_0"):
        answer = client.get(f"/ui/config/revisions?limit={limit}")
        assert answer.status == 400 and answer.json["error"]["text"].startswith("limit must be")
