"""GET /openapi.json and the page that shows it, /docs (a small renderer of ours, no CDN)."""

from __future__ import annotations

from importlib import resources

import bottle

from edge.web.envelope import encode
from edge.web.openapi.document import describe
from edge.web.ui.routes import page_file, static_file

STATIC = resources.files("edge.web.openapi") / "static"


def is_public(method: str, path: str) -> bool:
    """The page and its script hold no data; the description itself needs credentials."""
    return method in ("GET", "HEAD") and (path == "/docs" or path.startswith("/docs/"))


def install(web: bottle.Bottle) -> None:
    body = encode(describe())

    @web.get("/openapi.json")
    def openapi_json():
        return bottle.HTTPResponse(body, 200, {"Content-Type": "application/json", "Cache-Control": "no-cache"})

    @web.get("/docs")
    def docs_page():
        return page_file(STATIC, "docs.html")

    @web.get("/docs/<name>")
    def docs_file(name: str):
        return static_file(STATIC, name)

