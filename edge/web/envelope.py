"""The two response envelopes, and the one place where an error becomes a response.

FactoryTX (`/v1`): `{"success": bool, "response": ..., "error": {"code", "text"}}`.
Machbase (`/machbase`, `/machiot`): `{"error_code", "error_message", "data", ...}`.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import logging
import re
import sys
from collections.abc import Callable
from typing import Any

import apsw
import bottle
import orjson

from edge.errors import (FTX_BAD_REQUEST, FTX_FORBIDDEN, FTX_INSUFFICIENT_STORAGE, FTX_INTERNAL,
                         FTX_METHOD_NOT_ALLOWED, FTX_NOT_FOUND, FTX_TOO_LARGE, FTX_TOO_MANY_ATTEMPTS,
                         FTX_UNAUTHORIZED, MB_BAD_CREDENTIALS,
                         MB_BAD_REQUEST, MB_FORBIDDEN, MB_INTERNAL, MB_NO_AUTH_HEADER, MB_NOT_FOUND, MB_TOO_LARGE,
                         MB_TOO_MANY_ATTEMPTS, STORAGE_FAILURE, EdgeError)

log = logging.getLogger("edge.web")

JSON_TYPE = "application/json"


def ftx_success(response: Any, **extra: Any) -> dict:
    return {"success": True, "response": response, **extra}


def ftx_failure(err: EdgeError) -> dict:
    return {"success": False, "response": {}, "error": {"code": err.code, "text": err.text}}


def machbase_failure(err: EdgeError) -> dict:
    return {"error_code": err.code, "error_message": err.text, "data": []}


@dataclasses.dataclass(frozen=True)
class Flavour:
    """How one API family renders errors, and what its generic errors are called."""

    name: str
    render: Callable[[EdgeError], dict]
    _: dataclasses.KW_ONLY
    bad_request: int
    not_found: int
    method_not_allowed: int
    too_large: int
    internal: int
    no_auth_header: int
    bad_credentials: int
    forbidden: int  # the caller's role does not permit the request
    too_many_attempts: int  # too many wrong passwords from the caller's address
    disk_full: int  # the data directory's disk had no room for what the request writes


FTX = Flavour("factorytx", ftx_failure, bad_request=FTX_BAD_REQUEST, not_found=FTX_NOT_FOUND,
              method_not_allowed=FTX_METHOD_NOT_ALLOWED, too_large=FTX_TOO_LARGE,
              internal=FTX_INTERNAL, no_auth_header=FTX_UNAUTHORIZED, bad_credentials=FTX_UNAUTHORIZED,
              forbidden=FTX_FORBIDDEN, too_many_attempts=FTX_TOO_MANY_ATTEMPTS, disk_full=FTX_INSUFFICIENT_STORAGE)
MACHBASE = Flavour("machbase", machbase_failure, bad_request=MB_BAD_REQUEST, not_found=MB_NOT_FOUND,
                   method_not_allowed=MB_BAD_REQUEST, too_large=MB_TOO_LARGE, internal=MB_INTERNAL,
                   no_auth_header=MB_NO_AUTH_HEADER, bad_credentials=MB_BAD_CREDENTIALS, forbidden=MB_FORBIDDEN,
                   too_many_attempts=MB_TOO_MANY_ATTEMPTS, disk_full=STORAGE_FAILURE)


def encode(body: Any) -> bytes:
    """JSON text of a response body; a route that formats numbers itself returns bytes or str."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


DISK_FULL_TEXT = ("The disk of the data directory is full; nothing of the request was kept. Free space and "
                  "try again.")


def disk_full(exc: BaseException) -> bool:
    """Whether a failure is a full disk: SQLite's (the catalog, log tables) or the system's."""
    return isinstance(exc, apsw.FullError) or (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC,
                                                                                          errno.EDQUOT))


def error_bytes(flavour: Flavour, err: EdgeError) -> bytes:
    return encode(flavour.render(err))


class EnvelopePlugin:
    """Bottle plugin: every route answers JSON; EdgeError and crashes become the envelope."""

    name = "edge-envelope"
    api = 2

    def __init__(self, flavour: Flavour):
        self.flavour = flavour

    def apply(self, callback, route):
        flavour = self.flavour

        def wrapper(*args, **kwargs):
            try:
                body = callback(*args, **kwargs)
            except EdgeError as err:
                bottle.response.status = err.status
                body = flavour.render(err)
            except bottle.HTTPResponse:
                raise
            except Exception as exc:
                if disk_full(exc):  # the one failure an operator can act on: said as it is
                    log.error("%s %s failed: the disk is full: %s", bottle.request.method, bottle.request.path, exc)
                    bottle.response.status = 507
                    body = flavour.render(EdgeError(flavour.disk_full, DISK_FULL_TEXT, 507))
                else:
                    log.exception("%s %s failed", bottle.request.method, bottle.request.path)
                    bottle.response.status = 500
                    body = flavour.render(EdgeError(flavour.internal, "Internal error; see factorytx_web.log", 500))
            bottle.response.content_type = JSON_TYPE
            return encode(body)

        return wrapper


def json_app(flavour: Flavour) -> bottle.Bottle:
    """A Bottle app whose routes, unknown paths and wrong methods all answer in `flavour`."""
    app = bottle.Bottle(catchall=True)
    # Our plugin encodes: Bottle's must not touch bodies, nor wrap every route call.
    app.config["json.enable"] = False
    app.uninstall("json")
    app.install(EnvelopePlugin(flavour))

    def on_error(status: int, code: int, text: str):
        def handler(error: bottle.HTTPError):
            bottle.response.content_type = JSON_TYPE
            bottle.response.status = status
            if status == 500 and error.exception is not None:
                log.error("%s %s failed: %r", bottle.request.method, bottle.request.path, error.exception)
            return error_bytes(flavour, EdgeError(code, text, status))
        return handler

    app.error_handler[404] = on_error(404, flavour.not_found, "No such endpoint")
    app.error_handler[405] = on_error(405, flavour.method_not_allowed, "Method not allowed on this endpoint")
    app.error_handler[500] = on_error(500, flavour.internal, "Internal error; see factorytx_web.log")
    return app


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def read_json_body(error_code: int, *, exact_integers: bool = True) -> Any:
    """The request body as JSON, or EdgeError(error_code) saying what is wrong with it.

    exact_integers=False lets an integer beyond 64 bits arrive as the nearest float, for a
    caller to whom such a number is as wrong (or as good) as the float: it saves a scan.
    """
    raw = request_body()
    if not raw.strip():
        raise EdgeError(error_code, "Request body is empty; expected JSON")
    # orjson decodes a 10,000-row append in about half the time of the json module. What it
    # refuses (lone surrogates, 1e400, malformed text) and what it would read otherwise (it
    # turns integers beyond 64 bits into floats: a text with a run of 19+ digits) goes to the
    # json module, whose answer - a value or the error the client sees - stays the contract.
    if not exact_integers or _LONG_DIGIT_RUN not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise EdgeError(error_code, "Request body is not UTF-8 text") from None
    except (json.JSONDecodeError, NotJson) as exc:
        raise EdgeError(error_code, f"Malformed JSON in request body: {exc}") from None
    except ValueError:  # the one other refusal of the json module: Python's limit on digits
        raise EdgeError(error_code, f"Request body holds a number of more than {sys.get_int_max_str_digits()} "
                                    f"digits") from None
    except RecursionError:  # the JSON parser's own limit, some thousand levels deep
        raise EdgeError(error_code, "Request body nests too deeply") from None
    # A `\ud800` escape with no partner is valid JSON but no character: text holding it
    # cannot be stored or answered as UTF-8, so the body is refused here, not half-way in.
    if _SURROGATE_ESCAPE.search(raw) and not _all_text_is_unicode(body):
        raise EdgeError(error_code, "Request body has a \\u escape of a lone surrogate (\\ud800-\\udfff), "
                                    "which is no character; text must be UTF-8")
    return body


def request_body() -> bytes:
    """The whole body. Read straight from the server's buffer when its length is known:
    Bottle copies a body above 100 kB through a temporary file first (0.3 ms for an append)."""
    environ = bottle.request.environ
    length = environ.get("CONTENT_LENGTH", "")
    if "bottle.request.body" in environ or not length.isdigit() or "HTTP_TRANSFER_ENCODING" in environ:
        return bottle.request.body.read()
    raw = environ["wsgi.input"].read(int(length))
    environ["bottle.request.body"] = io.BytesIO(raw)  # what Bottle would hold, for later readers
    return raw


def _all_text_is_unicode(value: Any) -> bool:
    """Whether every string (keys too) in a decoded JSON value encodes as UTF-8."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


class NotJson(ValueError):
    """What the json module reads but JSON does not allow (NaN, Infinity)."""


def _reject_constant(name: str):
    raise NotJson(f"{name} is not valid JSON")
