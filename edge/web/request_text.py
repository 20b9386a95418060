"""Request text as UTF-8: the path, the query string and url-encoded form bodies.

WSGI hands the bytes of a request line over as latin-1 strings (PEP 3333), and Bottle parses
query strings and form bodies as latin-1 too, so `TagNames=%EC%98%A8%EB%8F%84` would reach a
route as mojibake instead of 온도. The dispatcher calls `decode_request` once per request,
before any route runs: it checks the path and decodes the query string strictly as UTF-8, and
puts the parsed query where Bottle keeps it, so every route of every API reads the text the
client meant. Form bodies are decoded the same way by `form_fields` when a route reads one
(Bottle's request.forms stays latin-1: routes read forms here). Text that is not UTF-8 is
refused with a clear error, never read as something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import unquote_to_bytes

import bottle

from edge.errors import EdgeError

FORM_TYPE = "application/x-www-form-urlencoded"
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_HINT = "send text as UTF-8, percent-encoded"


def decimal_integer(text: str) -> int:
    """An integer parameter: ASCII digits with an optional sign, spaces around allowed. int()
    alone also takes Unicode digits ("٣", "５"), underscores ("1_0") and any Unicode space
    (U+001C), which no client means; and "²" passes str.isdigit() but not int(). ValueError
    for anything else."""
    stripped = text.strip(" \t")
    if not _DECIMAL.fullmatch(stripped):
        raise ValueError(f"not a decimal integer: {text!r}")
    return int(stripped)


def decode_request(environ: dict, error_code: int) -> None:
    """Checks that the path is UTF-8 and parses the query string as UTF-8 for every route.

    Raises EdgeError(error_code, 400) naming the part that is not UTF-8; nothing has run then.
    """
    try:
        wsgi_bytes(environ.get("PATH_INFO") or "/").decode("utf-8")
    except UnicodeDecodeError:
        raise EdgeError(error_code, f"The request path {shown_path(environ)} is not UTF-8 text; {_HINT}",
                        400) from None
    query = _query_fields(wsgi_bytes(environ.get("QUERY_STRING", "")), error_code)
    # Where Bottle keeps the query it parsed itself (request.query, request.GET).
    environ["bottle.get"] = environ["bottle.request.query"] = query


class FormFields(Mapping[str, str]):
    """The fields of a url-encoded body. A field whose value is not UTF-8 raises EdgeError when
    it is read, not before: a JSON body sent with curl's default form content type parses as a
    "form" of one odd field, and must not be refused for a `%FF` inside one of its strings."""

    def __init__(self, raw: bytes, error_code: int):
        self._values: dict[str, str] = {}
        self._broken: dict[str, str] = {}
        for name_bytes, value_bytes in _pairs(raw):
            # A name that is not UTF-8 is shown escaped, so it never equals a name a route reads.
            name = name_bytes.decode("utf-8", "backslashreplace")
            try:
                self._values[name] = value_bytes.decode("utf-8")
                self._broken.pop(name, None)
            except UnicodeDecodeError:
                self._values.pop(name, None)
                self._broken[name] = f"Form field '{name}' is not UTF-8 text; {_HINT}"
        self._error_code = error_code

    def __getitem__(self, name: str) -> str:
        if name in self._broken:
            raise EdgeError(self._error_code, self._broken[name], 400)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def form_fields(error_code: int) -> FormFields:
    """The url-encoded form body of the current request (no fields if the body is no form)."""
    environ = bottle.request.environ
    if "edge.form" not in environ:
        raw = bottle.request.body.read() if is_form(environ) else b""
        environ["edge.form"] = FormFields(raw, error_code)
    return environ["edge.form"]


def is_form(environ: dict) -> bool:
    return environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() == FORM_TYPE


def wsgi_bytes(text: str) -> bytes:
    """The bytes the client sent, from a WSGI string (latin-1 by PEP 3333)."""
    return text.encode("latin-1", "replace")


def shown_path(environ: dict) -> str:
    """The request path for a log line or a message: UTF-8, bytes that are not shown escaped."""
    return wsgi_bytes(environ.get("PATH_INFO") or "/").decode("utf-8", "backslashreplace")


def _pairs(raw: bytes) -> Iterator[tuple[bytes, bytes]]:
    """`name=value&...` split and percent-decoded as Bottle does it: on '&', '+' for a space,
    a pair without '=' has an empty value."""
    for pair in raw.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            yield unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))


def _query_fields(raw: bytes, error_code: int) -> bottle.FormsDict:
    """The query string's parameters, each name and value strictly UTF-8."""
    fields = bottle.FormsDict()
    fields.recode_unicode = False  # the values are text already; Bottle must not re-decode them
    for name_bytes, value_bytes in _pairs(raw):
        try:
            fields[name_bytes.decode("utf-8")] = value_bytes.decode("utf-8")
        except UnicodeDecodeError:
            shown = name_bytes.decode("utf-8", "backslashreplace")
            raise EdgeError(error_code, f"Query parameter '{shown}' is not UTF-8 text; {_HINT}", 400) from None
    return fields
