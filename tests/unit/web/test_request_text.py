"""request_text: the path, query string and form body of a request read as UTF-8, or refused."""

import io

import bottle
import pytest

from edge.errors import EdgeError
from edge.web.request_text import decode_request, form_fields, shown_path

KOREAN = "온도"
ENCODED = "%EC%98%A8%EB%8F%84"  # 온도 in UTF-8, percent-encoded


def wsgi(path: str = "/", query: str = "", body: bytes = b"", content_type: str = "") -> dict:
    """An environ as a PEP 3333 server builds it: the request line's bytes as latin-1 text."""
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": content_type}


def test_query_string_reaches_bottle_as_utf8_text():
    environ = wsgi(query=f"TagNames={ENCODED},b&f=YYYY%EB%85%84+MM&empty&q={ENCODED}&q=last")
    decode_request(environ, 3000)
    bottle.request.bind(environ)
    query = bottle.request.query
    assert query.get("TagNames") == f"{KOREAN},b"
    assert query.get("f") == "YYYY년 MM"
    assert query.get("empty") == ""
    assert query.getall("q") == [KOREAN, "last"] and query.get("q") == "last"
    assert query.getunicode("TagNames") == f"{KOREAN},b" and query.TagNames == f"{KOREAN},b"
    assert bottle.request.GET is query


def test_raw_utf8_bytes_in_the_query_string_are_read_as_utf8():
    environ = wsgi(query=KOREAN.encode("utf-8").decode("latin-1"))  # sent unencoded
    decode_request(environ, 3000)
    assert dict(environ["bottle.request.query"]) == {KOREAN: ""}


@pytest.mark.parametrize("query, name", [("q=%FF", "q"), ("%C3=1", "\\xc3"), ("a=1&TagNames=%ED%A0%80", "TagNames")])
def test_query_string_not_utf8_is_refused_naming_the_parameter(query, name):
    with pytest.raises(EdgeError) as err:
        decode_request(wsgi(query=query), 2999)
    assert (err.value.code, err.value.status) == (2999, 400)
    assert err.value.text == f"Query parameter '{name}' is not UTF-8 text; send text as UTF-8, percent-encoded"


def test_path_not_utf8_is_refused_and_shown_escaped():
    environ = wsgi(path="/machiot/tags/count/t/\xff")
    with pytest.raises(EdgeError) as err:
        decode_request(environ, 400)
    assert err.value.text == "The request path /machiot/tags/count/t/\\xff is not UTF-8 text; " \
                             "send text as UTF-8, percent-encoded"
    assert shown_path(wsgi(path=KOREAN.encode("utf-8").decode("latin-1"))) == KOREAN


def test_form_body_fields_are_utf8_text():
    bottle.request.bind(wsgi(body=f"q=select+*+from+t+where+name%3D%27{ENCODED}%27&f={ENCODED}".encode(),
                             content_type="application/x-www-form-urlencoded; charset=utf-8"))
    form = form_fields(3000)
    assert dict(form) == {"q": f"select * from t where name='{KOREAN}'", "f": KOREAN}
    assert form_fields(3000) is form


def test_form_field_not_utf8_is_refused_when_read():
    bottle.request.bind(wsgi(body=b"q=%FF&m=1", content_type="application/x-www-form-urlencoded"))
    form = form_fields(3000)
    assert form["m"] == "1"
    with pytest.raises(EdgeError) as err:
        form.get("q")
    assert err.value.text == "Form field 'q' is not UTF-8 text; send text as UTF-8, percent-encoded"


def test_body_that_is_no_form_has_no_fields_and_stays_readable():
    body = b'{"name": "t", "values": [["a%FF", 1]]}'
    bottle.request.bind(wsgi(body=body, content_type="application/json"))
    assert dict(form_fields(3000)) == {}
    assert bottle.request.body.read() == body
