"""/machbase: SQL statements and appends, in the Machbase envelope."""

from __future__ import annotations

from edge.web.openapi.common import MACHBASE_REF, json_content, operation, query_parameter

TAG = "Machbase /machbase"
APPEND = {
    "type": "object", "required": ["name", "values"],
    "properties": {"name": {"type": "string", "description": "A tag table or log table"},
                   "date_format": {"type": ["string", "null"], "description": "null: the default forms"},
                   "values": {"type": "array", "description": "Rows of column values; a bad row fails alone and "
                                                              "is counted in append_failure"}},
}
APPEND_EXAMPLE = {"name": "test_table", "date_format": "YYYY-MM-DD",
                  "values": [["test", "1999-01-01 00:00:01", 1], ["test", "1999-01-01 00:00:02", 2]]}
STATEMENT_EXAMPLE = {"error_code": 0, "error_message": "No Error", "columns": [
    {"name": "NAME", "type": 5, "length": 20}, {"name": "TIME", "type": 6, "length": 8},
    {"name": "VALUE", "type": 20, "length": 8}], "data": [{"NAME": "test", "TIME": "1999-01-01 00:00:00 000:000:000",
                                                         "VALUE": 0}]}
OUTPUT = [
    query_parameter("f", "Date format of the answer's times (e.g. YYYY-MM-DD HH24:MI:SS)"),
    query_parameter("m", "1: data as rows of values instead of objects", {"type": "string", "enum": ["0", "1"]}),
    query_parameter("s", "Fraction digits of the answer's times"),
]
FORM = {"type": "object", "properties": {"q": {"type": "string"}, "f": {"type": "string"},
                                          "m": {"type": "string"}, "s": {"type": "string"}}}


def paths() -> dict:
    statement = [query_parameter("q", "The SQL statement", {"type": "string", "minLength": 1}, required=True,
                                 example="select * from test_table"), *OUTPUT]
    post = operation("Append rows to a table (JSON), or run a statement given as a form field", MACHBASE_REF,
                     "append_success and append_failure, or the statement's answer", tag=TAG,
                     example={"error_code": 0, "error_message": "No Error", "data": [], "append_success": 2,
                              "append_failure": 0})
    post["requestBody"] = {"required": True, "content": {
        **json_content(APPEND, APPEND_EXAMPLE),
        "application/x-www-form-urlencoded": {"schema": FORM},
    }}
    return {"/machbase": {
        "get": {**operation("Run a statement", MACHBASE_REF, "A result set, or the statement's status", tag=TAG,
                            parameters=statement, example=STATEMENT_EXAMPLE),
                "description": "A reader's statement runs read-only."},
        "post": post,
    }}
