"""read_json_body: what the client sent, as the json module reads it, or a clear error."""

import io

import bottle
import pytest

from edge.errors import EdgeError
from edge.web.envelope import read_json_body


def bind(body: bytes, **environ) -> None:
    bottle.request.bind({"REQUEST_METHOD": "POST", "PATH_INFO": "/", "wsgi.input": io.BytesIO(body),
                         "CONTENT_LENGTH": str(len(body)), **environ})


def test_body_is_decoded_and_stays_readable_for_bottle():
    bind(b'{"values": [["t", "2001-09-09", 1.5]]}')
    assert read_json_body(3000) == {"values": [["t", "2001-09-09", 1.5]]}
    assert bottle.request.body.read() == b'{"values": [["t", "2001-09-09", 1.5]]}'


def test_body_bottle_has_read_already_is_read_from_bottle():
    bind(b"[1, 2]")
    assert bottle.request.body.read() == b"[1, 2]"
    assert read_json_body(3000) == [1, 2]


@pytest.mark.parametrize("text, value", [
    (b"[123456789012345678901234567890]", [123456789012345678901234567890]),
    (b"[-9223372036854775809, 18446744073709551615]", [-9223372036854775809, 18446744073709551615]),
    (b"[1e400]", [float("inf")]),
])
def test_values_beyond_the_fast_decoder_read_as_the_json_module_reads_them(text, value):
    bind(text)
    assert read_json_body(3000) == value


def test_integers_beyond_64_bits_may_arrive_as_floats_when_asked():
    bind(b"[123456789012345678901234567890, 7]")
    assert read_json_body(3000, exact_integers=False) == [1.2345678901234568e29, 7]


@pytest.mark.parametrize("text, fragment", [
    (b"{not json", "Malformed JSON in request body"),
    (b'{"a": NaN}', "NaN is not valid JSON"),
    (b"[Infinity]", "Infinity is not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"  ", "empty"),
])
def test_bad_bodies_get_the_json_module_errors(text, fragment):
    bind(text)
    with pytest.raises(EdgeError) as err:
        read_json_body(3000, exact_integers=False)
    assert fragment in err.value.text and err.value.code == 3000


@pytest.mark.parametrize("text", [b'["\\ud800"]', b'{"a": {"\\udfff": 1}}', b'["\\ude00\\ud83d"]'])
def test_lone_surrogate_escapes_are_refused_as_no_text(text):
    bind(text)
    with pytest.raises(EdgeError) as err:
        read_json_body(3000)
    assert err.value.code == 3000
    assert err.value.text == "Request body has a \\u escape of a lone surrogate (\\ud800-\\udfff), which is no " \
                             "character; text must be UTF-8"


def test_surrogate_pairs_and_escaped_backslashes_are_text():
    bind(b'["\\ud83d\\ude00", "\\\\ud800"]')
    assert read_json_body(3000) == ["\U0001F600", "\\ud800"]
