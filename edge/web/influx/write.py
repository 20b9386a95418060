"""The InfluxDB 1.x HTTP API of the box: `POST /write` (line protocol) and `/ping`; `/query`
answers that queries are made with SQL at /machbase.

Answers as InfluxDB 1.8 does: 204 and no body when every line was stored; 400 with
`{"error": "..."}` naming the bad lines (the good lines of the body are stored, as InfluxDB
stores them: "partial write"); 404 `database not found` for a `db` that names no tag table;
every other error in the same `{"error": ...}` form. `/ping` needs no credentials, as in
InfluxDB, and tells the version it speaks.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import time
import urllib.parse
import uuid

import bottle
from isal import isal_zlib

from edge.errors import MB_BAD_REQUEST, MB_TOO_LARGE, NOT_SUPPORTED, TABLE_NOT_FOUND, EdgeError
from edge.web.envelope import MACHBASE, json_app, request_body
from edge.web.influx.line_protocol import PRECISIONS, ParsedBody, parse_body
from edge.web.ports import HistorianPorts

log = logging.getLogger("edge.web")

PREFIXES = ("/write", "/ping", "/query")
OPEN_PATHS = frozenset({"/ping"})  # answered without credentials, as InfluxDB does


def is_public(method: str, path: str) -> bool:
    """Whether a request needs no credentials (the dispatcher's `Mount.public`)."""
    return path in OPEN_PATHS
VERSION = "1.8.10"  # the InfluxDB release whose /write and /ping this API follows


def _render(err: EdgeError) -> dict:
    return {"error": err.text}


INFLUX = dataclasses.replace(MACHBASE, name="influx", render=_render)


def credentials(environ: dict) -> str | None:
    """The caller's credentials as an `Authorization: Basic` value, from any form InfluxDB 1.x
    takes: `Authorization: Basic`, `Authorization: Token user:password`, or the `u` and `p`
    query parameters (the header wins when both are given)."""
    header = environ.get("HTTP_AUTHORIZATION")
    if header:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() == "token" and ":" in token:
            return "Basic " + base64.b64encode(token.strip().encode("utf-8", "surrogateescape")).decode()
        return header
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "u" in query:
        user, password = query["u"][-1], query.get("p", [""])[-1]
        return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8", "surrogateescape")).decode()
    return None


def build(ports: HistorianPorts, max_request_size: int) -> bottle.Bottle:
    web = json_app(INFLUX)

    @web.route("/ping", method=["GET", "HEAD"])
    def ping():
        if bottle.request.query.get("verbose", "").lower() in ("true", "1", "yes"):
            for name, value in _headers():
                bottle.response.set_header(name, value)
            return {"version": VERSION}
        raise bottle.HTTPResponse(status=204, headers=dict(_headers()))

    @web.route("/query", method=["GET", "POST"])
    def query():
        # Telegraf asks for CREATE DATABASE here unless told not to (it logs the refusal and
        # writes on); a client that reads gets told where the data is read. 400, as InfluxDB
        # answers a query it will not run: nothing is wrong with the server.
        raise EdgeError(NOT_SUPPORTED, "this server takes InfluxDB writes only (/write); tables are made and data "
                                       "is queried with SQL at /machbase", 400)

    @web.post("/write")
    def write():
        table = _table(ports, bottle.request.query.get("db", ""))
        precision = bottle.request.query.get("precision", "")
        if precision not in PRECISIONS:
            raise EdgeError(MB_BAD_REQUEST, f"invalid precision {precision!r}: use n, u, ms, s, m or h")
        text = _body_text(max_request_size)
        parsed = parse_body(text, time.time_ns(), precision, table.schema.name_column.length)
        stored = table.append_by_tag(*parsed.by_tag()) if parsed.tags else 0
        if parsed.strings_skipped or parsed.bad_line_count:
            log.info("influx write to %s: %d point(s) stored, %d string field(s) skipped, %d bad line(s)",
                     table.name, stored, parsed.strings_skipped, parsed.bad_line_count)
        headers = dict(_headers())
        headers["X-Edge-Points-Stored"] = str(stored)
        headers["X-Edge-Strings-Skipped"] = str(parsed.strings_skipped)
        if parsed.bad_line_count:
            for name, value in headers.items():
                bottle.response.set_header(name, value)
            raise EdgeError(MB_BAD_REQUEST, _bad_lines_text(parsed))
        raise bottle.HTTPResponse(status=204, headers=headers)

    return web


def _headers() -> list[tuple[str, str]]:
    return [("X-Influxdb-Version", VERSION), ("X-Influxdb-Build", "OSS"), ("Request-Id", str(uuid.uuid4()))]


def _table(ports: HistorianPorts, db: str):
    """The tag table `db` names (HISTORIAN_TABLE when it names none)."""
    try:
        return ports.store.table(db or ports.historian_table)
    except EdgeError as err:
        if err.code == TABLE_NOT_FOUND:
            raise EdgeError(TABLE_NOT_FOUND, f'database not found: "{db}"', 404) from None
        raise


def _body_text(max_request_size: int) -> str:
    raw = request_body()
    encoding = bottle.request.get_header("Content-Encoding", "").strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw, max_request_size)
    elif encoding not in ("", "identity"):
        raise EdgeError(MB_BAD_REQUEST, f"unsupported Content-Encoding {encoding!r}: send gzip or none", 415)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise EdgeError(MB_BAD_REQUEST, f"body is not UTF-8 text (byte {err.start})") from None


def _gunzip(raw: bytes, limit: int) -> bytes:
    """The unpacked body (every gzip member of it, as gzip allows several); at most `limit`
    (MAX_REQUEST_SIZE) bytes of it. ISA-L's inflate (isal, zlib's interface and format) takes
    less than half of zlib's time: Telegraf sends gzip by default."""
    parts, size, rest = [], 0, raw
    try:
        while rest:
            unpacker = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
            part = unpacker.decompress(rest, limit + 1 - size)
            size += len(part)
            if size > limit:
                raise EdgeError(MB_TOO_LARGE, f"gzip body unpacks to more than MAX_REQUEST_SIZE ({limit} bytes)",
                                413)
            if not unpacker.eof:
                raise EdgeError(MB_BAD_REQUEST, "gzip body is cut short")
            parts.append(part)
            rest = unpacker.unused_data
    except isal_zlib.error as err:
        raise EdgeError(MB_BAD_REQUEST, f"body is not valid gzip: {err}") from None
    return b"".join(parts)


def _bad_lines_text(parsed: ParsedBody) -> str:
    """InfluxDB's words: the parse errors; "partial write" when other lines were stored."""
    described = "\n".join(bad.describe() for bad in parsed.bad_lines)
    more = parsed.bad_line_count - len(parsed.bad_lines)
    if more:
        described += f"\n... and {more} more bad line(s)"
    if parsed.bad_line_count == parsed.lines:
        return described
    return f"partial write: {described} dropped={parsed.bad_line_count}"
