"""/machbase: statements (`?q=`) and appends (POST JSON), in the Machbase envelope.

A statement goes to the SQL engine (`HistorianPorts.sql`: tag-table DDL, log tables, SELECTs on tag
tables ...), its answer printed by `machbase_sql`. An append goes into a tag table the same
way as /machiot's datapoints/raw (vectorised, grouped by tag), or into a log table through the
SQL engine.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping

import bottle

from edge.errors import MB_BAD_REQUEST, EdgeError
from edge.time.timezone import TimeZone
from edge.web.machbase import sql_results as machbase_sql
from edge.web.envelope import MACHBASE, json_app, read_json_body
from edge.web.machbase.format import NO_ERROR
from edge.web.machbase.params import output_options
from edge.web.ports import HistorianPorts
from edge.web.request_text import form_fields
from edge.web.machbase.tag_append import append_rows, cyclic_gc_paused, log_failures, store_rows

MAX_STATEMENT_LENGTH = 1 << 20


def build(ports: HistorianPorts) -> bottle.Bottle:
    web = json_app(MACHBASE)
    zone = ports.zone

    def statement_or_append():
        # q, f, m and s come in the query string or a form body (POST, or GET as in the spec's
        # `curl -X GET --data-urlencode 'q=...'`); the query string wins.
        params = ChainMap(bottle.request.query, form_fields(MB_BAD_REQUEST))
        statement = params.get("q")
        if statement is not None:
            return run_statement(ports.sql, statement, zone, params)
        if bottle.request.method == "GET":
            raise EdgeError(MB_BAD_REQUEST, "Give a statement as ?q=...")
        return append(ports, zone)

    web.get("/machbase")(statement_or_append)
    web.post("/machbase")(statement_or_append)
    return web


def run_statement(sql, statement: str, zone: TimeZone, params: Mapping[str, str]):
    text = statement.strip()
    if not text:
        raise EdgeError(MB_BAD_REQUEST, "The statement (q) is empty")
    if len(text) > MAX_STATEMENT_LENGTH:
        raise EdgeError(MB_BAD_REQUEST, f"The statement is longer than {MAX_STATEMENT_LENGTH} characters")
    options = output_options(params, zone)
    return machbase_sql.answer(sql.execute(text), options)


def append(ports: HistorianPorts, zone: TimeZone) -> dict:
    with cyclic_gc_paused():
        body = read_json_body(MB_BAD_REQUEST)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise EdgeError(MB_BAD_REQUEST,
                            'An append needs {"name": table, "date_format": ..., "values": [[...], ...]}')
        name = body["name"].strip()
        if ports.sql.is_log_table(name):
            result = ports.sql.append(name, body)
            log_failures(name.upper(), result.failure, result.reasons)
            return machbase_sql.append_answer(result.success, result.failure)
        table = ports.store.table(name)
        rows = append_rows(body, table.columns, zone)
    return {"error_code": 0, "error_message": NO_ERROR, **store_rows(table, rows)}

