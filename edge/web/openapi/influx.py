"""InfluxDB 1.x writes: /write (line protocol), /ping, and /query (which points to /machbase)."""

from __future__ import annotations

from edge.web.influx.line_protocol import PRECISIONS
from edge.web.openapi.common import json_content, query_parameter

TAG = "InfluxDB /write"
INFLUX_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}},
                "description": "InfluxDB's error answer"}
ERRORS = {"default": {"description": "A bad line (partial write: the good lines were stored), an unknown "
                                     "database (tag table), no or wrong credentials, a body too large",
                      "content": json_content(INFLUX_ERROR, {"error": "partial write: unable to parse 'cpu': "
                                                                      "missing fields dropped=1"})}}
CREDENTIALS = [query_parameter("u", "User name (InfluxDB's form; Basic and 'Token user:password' work too)"),
               query_parameter("p", "Password (with u)")]
NO_CONTENT = {"description": "Done", "headers": {"X-Influxdb-Version": {"schema": {"type": "string"}}}}


def paths() -> dict:
    write = {
        "summary": "Store points given in InfluxDB line protocol", "tags": [TAG],
        "description": "Each numeric or boolean field becomes a tag of the tag table `db` names (HISTORIAN_TABLE "
                       "without db), named measurement.tagkey=tagvalue....field; strings are skipped and counted.",
        "parameters": [query_parameter("db", "The tag table (default HISTORIAN_TABLE)"),
                       query_parameter("precision", "Unit of the timestamps",
                                       {"type": "string", "enum": sorted(PRECISIONS)}),
                       query_parameter("rp", "Retention policy (accepted and ignored, as a single-node InfluxDB "
                                             "without one)"),
                       *CREDENTIALS],
        "requestBody": {"required": False, "content": {"text/plain": {  # an empty body stores nothing: 204
            "schema": {"type": "string"}, "example": "cpu,host=a usage=0.5,up=true 1700000000000000000\n"}}},
        "responses": {"204": NO_CONTENT, **ERRORS},
    }
    ping = {"summary": "Whether the server is up (no credentials needed)", "tags": [TAG], "security": [],
            "parameters": [query_parameter("verbose", "true: answer 200 with the version",
                                           {"type": "string"})],
            "responses": {"204": NO_CONTENT,
                          "200": {"description": "verbose=true", "content": json_content(
                              {"type": "object", "properties": {"version": {"type": "string"}}})},
                          **ERRORS}}
    query = {"summary": "Not served: query with SQL at /machbase (answers 400 saying so)", "tags": [TAG],
             "parameters": CREDENTIALS, "responses": dict(ERRORS)}
    return {"/write": {"post": write},
            "/ping": {"get": ping, "head": {**ping, "summary": "Whether the server is up, headers only"}},
            "/query": {"get": query, "post": query}}
