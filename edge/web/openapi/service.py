"""The routes about the server itself: /health, /openapi.json, /docs."""

from __future__ import annotations

from edge.web.openapi.common import path_parameter

TAG = "Service"


def _answer(summary: str, media: str, schema: dict, public: bool = True, parameters: list | None = None) -> dict:
    op = {"summary": summary, "tags": [TAG],
          "responses": {"200": {"description": summary, "content": {media: {"schema": schema}}},
                        "default": {"description": "An error in the FactoryTX envelope", "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/FtxEnvelope"}}}}}}
    if public:
        op["security"] = []
    if parameters:
        op["parameters"] = parameters
    return op


def paths() -> dict:
    return {
        "/health": {"get": _answer("Whether the process serves HTTP (no credentials needed)", "application/json",
                                   {"type": "object", "required": ["status"],
                                    "properties": {"status": {"const": "up"}}})},
        "/openapi.json": {"get": _answer("This description", "application/json", {"type": "object"}, public=False)},
        "/docs": {"get": _answer("This description as a page", "text/html", {"type": "string"})},
        "/docs/{name}": {"get": _answer("A file of the description's page", "*/*", {"type": "string"},
                                        parameters=[path_parameter("name", "File name", "docs.js")])},
    }
