"""The web UI's own routes: its page, static files, login, logout, session, revision history."""

from __future__ import annotations

from edge.web.openapi.common import FTX_REF, operation, path_parameter, query_parameter

TAG = "Web UI"
LOGIN = {"type": "object", "required": ["user", "password"],
         "properties": {"user": {"type": "string"}, "password": {"type": "string"}}}
PAGE = {"description": "A page or file of the UI", "content": {"text/html": {"schema": {"type": "string"}}}}


def _file(summary: str, media: str, parameters: list | None = None) -> dict:
    op = {"summary": summary, "tags": [TAG], "security": [],
          "responses": {"200": {"description": "The file", "content": {media: {"schema": {"type": "string"}}}},
                        "default": {"description": "No such file",
                                    "content": {"application/json": {"schema": FTX_REF}}}}}
    if parameters:
        op["parameters"] = parameters
    return op


def paths() -> dict:
    login = operation("Log in: a session cookie (HttpOnly, SameSite=Strict) and the session's CSRF token",
                      FTX_REF, "user, role and csrf_token; Set-Cookie: edge_session", tag=TAG, body=LOGIN,
                      body_example={"user": "sys", "password": "manager"},
                      example={"success": True, "response": {"user": "sys", "role": "admin", "csrf_token": "..."}})
    login["security"] = []
    return {
        "/": {"get": _file("The web UI", "text/html")},
        "/ui/static/{name}": {"get": _file("A file of the web UI (script, stylesheet, uPlot)", "*/*",
                                           [path_parameter("name", "File name", "app.js")])},
        "/ui/login": {"post": login},
        "/ui/logout": {"post": operation("End this session", FTX_REF, "Logged out", tag=TAG)},
        "/ui/session": {"get": operation("Who is calling: user, role, and the session's CSRF token", FTX_REF,
                                         "The session", tag=TAG)},
        "/ui/historian/tables": {"get": operation(
            "The historian's tag tables, and the TIMEZONE the Historian page shows times in", FTX_REF,
            "Their names and the zone's IANA name", tag=TAG,
            example={"success": True, "response": {"tables": ["TAG"], "zone": "Europe/Berlin"}})},
        "/ui/config/revisions": {"get": operation(
            "The configuration's saved revisions, newest first (secrets masked)", FTX_REF,
            "A list of {revision, saved_at, source, body}", tag=TAG,
            parameters=[query_parameter("limit", "How many (1 to 200, default 50)",
                                        {"type": "integer", "minimum": 1, "maximum": 200})])},
    }
