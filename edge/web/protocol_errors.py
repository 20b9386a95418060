"""What the HTTP server answers itself, before (or instead of) the application: JSON in the
envelope of the path the request line names, the FactoryTX one when it names none.

waitress answers a request it cannot parse (bad request line, bad Content-Length, headers too
large, an unsupported Transfer-Encoding) with text/plain from its error task; the parser and
task here keep waitress's decisions and statuses and only change the body. edge.web.connections
uses the same rendering for 408 (a request too slow to arrive) and 503 (too many connections).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import bottle
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask

from edge.errors import CATALOGUE, FTX_BAD_REQUEST, FTX_INTERNAL, MB_REQUEST_TIMEOUT, MB_UNAVAILABLE, EdgeError
from edge.web.envelope import FTX, JSON_TYPE, Flavour, error_bytes

MAX_REQUEST_LINE = 8192  # bytes kept to learn the path of a request that fails to parse


def path_of_request_line(head: bytes) -> str:
    """The path in the first line of `head` ("" when it names none): `GET /v1/x?y HTTP/1.1`."""
    line = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    parts = line.split()
    if len(parts) < 2:
        return ""
    target = parts[1].decode("latin-1")
    if "://" in target:
        target = urlsplit(target).path
    return target.split("?", 1)[0]


def connection_error_code(flavour: Flavour, status: int) -> int:
    """The code a connection-level error with HTTP `status` carries in `flavour`'s envelope."""
    if flavour.name == FTX.name:  # FactoryTX codes are the HTTP status, where the catalogue has it
        entry = CATALOGUE.get(status)
        if entry is not None and entry.api == "factorytx":
            return status
        return FTX_INTERNAL if status >= 500 else FTX_BAD_REQUEST
    return {408: MB_REQUEST_TIMEOUT, 413: flavour.too_large, 503: MB_UNAVAILABLE,
            500: flavour.internal}.get(status, flavour.bad_request)


def connection_error_body(flavour: Flavour, status: int, text: str) -> bytes:
    return error_bytes(flavour, EdgeError(connection_error_code(flavour, status), text, status))


def closing_response(status: int, body: bytes) -> bytes:
    """A whole HTTP response after which the server closes the connection."""
    head = (f"HTTP/1.1 {status} {bottle.HTTP_CODES.get(status, '')}\r\n"
            f"Content-Type: {JSON_TYPE}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("latin-1") + body


class EdgeRequestParser(HTTPRequestParser):
    """waitress's parser, remembering the path of the request line even when the request
    fails to parse later (a bad header, headers too large), for the envelope of the answer."""

    request_line_path: str | None = None
    _head = b""

    def received(self, data):
        if self.request_line_path is None and data:
            self._head += data[:MAX_REQUEST_LINE]
            if b"\n" in self._head.lstrip(b"\r\n") or len(self._head) >= MAX_REQUEST_LINE:
                self.request_line_path = path_of_request_line(self._head)
                self._head = b""
        return super().received(data)

    @property
    def path_asked(self) -> str:
        return self.request_line_path or ""


class EnvelopeErrorTask(ErrorTask):
    """waitress's answer to a request it could not parse, as JSON in the API's envelope."""

    def execute(self):
        error = self.request.error
        flavour = self.channel.server.wsgi.flavour_for(getattr(self.request, "path_asked", ""))
        body = connection_error_body(flavour, error.code, f"{error.reason}: {error.body}")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", JSON_TYPE))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
