"""/machbase: statements (`?q=`) and appends (POST JSON), in the Machbase envelope.

For now a statement may be tag-table DDL (CREATE TAG TABLE, DROP TABLE); anything else is
answered with an error saying so, until the SQL engine serves it. An append goes into a tag
table, the same append as /machiot's datapoints/raw.
"""

from __future__ import annotations

import logging

import bottle

from edge.errors import EdgeError
from edge.sql.tag_ddl import NOT_SUPPORTED, execute_tag_ddl, is_tag_ddl
from edge.sql.timezone import TimeZone
from edge.web.envelope import MACHBASE, json_app, read_json_body
from edge.web.machbase_format import NO_ERROR
from edge.web.machiot import store_rows
from edge.web.tag_append import BAD_BODY, append_rows, cyclic_gc_paused

log = logging.getLogger("edge.web")

MAX_STATEMENT_LENGTH = 1 << 20


def build(app) -> bottle.Bottle:
    web = json_app(MACHBASE)
    zone = TimeZone(app.settings.timezone)

    def statement_or_append():
        statement = bottle.request.query.get("q")
        if statement is None and bottle.request.method == "POST" and _is_form():
            statement = bottle.request.forms.get("q")
        if statement is not None:
            return run_statement(app.store, statement)
        if bottle.request.method == "GET":
            raise EdgeError(BAD_BODY, "Give a statement as ?q=...")
        return append(app.store, zone)

    web.get("/machbase")(statement_or_append)
    web.post("/machbase")(statement_or_append)
    return web


def run_statement(store, statement: str) -> dict:
    text = statement.strip()
    if not text:
        raise EdgeError(BAD_BODY, "The statement (q) is empty")
    if len(text) > MAX_STATEMENT_LENGTH:
        raise EdgeError(BAD_BODY, f"The statement is longer than {MAX_STATEMENT_LENGTH} characters")
    if not is_tag_ddl(text):
        first = text.split(None, 1)[0].upper()
        raise EdgeError(NOT_SUPPORTED, f"{first} statements are not supported yet: /machbase runs tag-table DDL "
                                       f"(CREATE TAG TABLE ..., DROP TABLE ...); use /machiot for tag data")
    log.info("machbase: %s", execute_tag_ddl(store, text))
    return {"error_code": 0, "error_message": NO_ERROR, "data": []}


def append(store, zone: TimeZone) -> dict:
    with cyclic_gc_paused():
        body = read_json_body(BAD_BODY)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise EdgeError(BAD_BODY, 'An append needs {"name": table, "date_format": ..., "values": [[...], ...]}')
        table = store.table(body["name"].strip())
        rows = append_rows(body, table.columns, zone)
    return {"error_code": 0, "error_message": NO_ERROR, **store_rows(table, rows)}


def _is_form() -> bool:
    return bottle.request.content_type.split(";")[0].strip() == "application/x-www-form-urlencoded"
