"""What the route families' descriptions share: the two envelopes, errors, parameter helpers."""

from __future__ import annotations

from typing import Any

FTX_ENVELOPE = {
    "type": "object",
    "description": "The FactoryTX envelope: success, the response, and on failure an error with code and text",
    "required": ["success", "response"],
    "properties": {
        "success": {"type": "boolean"},
        "response": {},
        "meta": {"type": "object"},
        "error": {"type": "object", "required": ["code", "text"],
                  "properties": {"code": {"type": "integer"}, "text": {"type": "string"}}},
    },
}
MACHBASE_COLUMN = {
    "type": "object", "required": ["name", "type"],
    "properties": {"name": {"type": "string"}, "type": {"type": "integer"}, "length": {"type": "integer"}},
}
MACHBASE_ENVELOPE = {
    "type": "object",
    "description": "The Machbase envelope: error_code 0 and a result set (columns, data) or a status",
    "required": ["error_code", "error_message"],
    "properties": {
        "error_code": {"type": "integer"},
        "error_message": {"type": "string"},
        "timezone": {"type": "string"},
        "columns": {"type": "array", "items": MACHBASE_COLUMN},
        "data": {"type": "array"},
        "effect_rows": {"type": "string"},
        "append_success": {"type": "integer"},
        "append_failure": {"type": "integer"},
    },
}
COMPONENTS = {
    "schemas": {"FtxEnvelope": FTX_ENVELOPE, "MachbaseEnvelope": MACHBASE_ENVELOPE},
    "securitySchemes": {
        "basic": {"type": "http", "scheme": "basic",
                  "description": "user:password, or Machbase's user@host:password"},
        "session": {"type": "apiKey", "in": "cookie", "name": "edge_session",
                    "description": "The web UI's session (POST /ui/login); a request that changes something "
                                   "also needs its CSRF token in the X-CSRF-Token header"},
    },
}
FTX_REF = {"$ref": "#/components/schemas/FtxEnvelope"}
MACHBASE_REF = {"$ref": "#/components/schemas/MachbaseEnvelope"}


def json_content(schema: dict, example: Any = None) -> dict:
    media: dict = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def responses(envelope: dict, ok: str, example: Any = None, ok_status: str = "200") -> dict:
    """The success answer, and every error (400 bad input, 401, 403, 404, 405, 413, 429, 500) in
    the same envelope as `default`."""
    return {
        ok_status: {"description": ok, "content": json_content(envelope, example)},
        "default": {"description": "An error in the same envelope: bad input, no or wrong credentials, a role "
                                   "that may not, unknown table or tag, body too large, too many wrong "
                                   "passwords from the client's address (429, Retry-After)",
                    "content": json_content(envelope)},
    }


def operation(summary: str, envelope: dict, ok: str, *, tag: str, parameters: list | None = None,
              body: dict | None = None, body_example: Any = None, example: Any = None,
              description: str | None = None, body_required: bool = True) -> dict:
    op: dict = {"summary": summary, "tags": [tag], "responses": responses(envelope, ok, example)}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": json_content(body, body_example)}
    return op


def path_parameter(name: str, description: str, example: str | None = None) -> dict:
    param = {"name": name, "in": "path", "required": True, "description": description,
             "schema": {"type": "string", "minLength": 1}}
    if example is not None:
        param["example"] = example
    return param


def query_parameter(name: str, description: str, schema: dict | None = None, required: bool = False,
                    example: Any = None) -> dict:
    param = {"name": name, "in": "query", "required": required, "description": description,
             "schema": schema or {"type": "string"}}
    if example is not None:
        param["example"] = example
    return param
