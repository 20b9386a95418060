"""GET /health: for a supervisor or load balancer, without credentials.

It tells only that the process serves HTTP: `{"status": "up"}`. Nothing else (no version, no
pipeline state, no disk), so that it may be open to anyone who can reach the port.
"""

from __future__ import annotations

import bottle

from edge.errors import FTX_METHOD_NOT_ALLOWED, EdgeError
from edge.web.envelope import FTX, JSON_TYPE, encode, error_bytes

HEALTH_PATH = "/health"
UP = encode({"status": "up"})


def answer_health(environ, start_response):
    """200 `{"status": "up"}` to GET and HEAD; any other method 405 in the FactoryTX envelope."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD"):
        status, body, extra = 200, UP, []
    else:
        status, extra = 405, [("Allow", "GET, HEAD")]
        body = error_bytes(FTX, EdgeError(FTX_METHOD_NOT_ALLOWED, "Only GET and HEAD on /health", 405))
    start_response(f"{status} {bottle.HTTP_CODES[status]}",
                   [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"), *extra])
    return [b""] if method == "HEAD" else [body]
