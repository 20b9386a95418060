"""The one HTTP server: waitress serving the dispatcher over every API."""

from __future__ import annotations

import bottle

from edge.settings import Settings
from edge.web.auth import Authenticator
from edge.web.dispatch import Dispatcher, Mount
from edge.web.envelope import FTX, MACHBASE
from edge.web.ports import FtxPorts, HistorianPorts, HttpPorts


def build_wsgi(http: HttpPorts, ftx_ports: FtxPorts, historian: HistorianPorts) -> Dispatcher:
    """The WSGI callable: each API family mounted at its prefixes, with the port it is given."""
    from edge.web import ftx
    from edge.web.machbase import machbase, machiot

    # Bodies up to this size stay in memory; the dispatcher refuses larger ones anyway.
    bottle.BaseRequest.MEMFILE_MAX = http.max_request_size
    # The tag API is Machbase's envelope with the "timezone" it carries in every answer.
    machiot_flavour = machiot.machiot_flavour(historian.zone)
    mounts = [
        Mount(["/v1"], ftx.build(ftx_ports), FTX),
        Mount(["/machbase"], machbase.build(historian), MACHBASE),
        Mount(["/machiot", "/machiot-rest-api"], machiot.build(historian, machiot_flavour), machiot_flavour),
    ]
    authenticator = Authenticator(http.users, enabled=http.auth_enabled)
    return Dispatcher(mounts, authenticator, http.max_request_size)


def create_server(wsgi, settings: Settings):
    from waitress.server import create_server as waitress_server

    return waitress_server(
        wsgi,
        host=settings.http_bind,
        port=settings.http_port_no,
        threads=settings.http_threads,
        # waitress refuses a declared body over its limit in plain text before we see it, so
        # its limit sits above ours: up to twice MAX_REQUEST_SIZE reaches the dispatcher and is
        # refused in the API's envelope; past that waitress cuts it off (memory guard).
        max_request_body_size=2 * settings.max_request_size + 65536,
        # Bodies below this stay in memory instead of a temp file per request; an append of
        # 10,000 points is ~0.5 MB, and 8 MiB per worker bounds memory on a small box.
        inbuf_overflow=min(settings.max_request_size, 8 << 20) + 1,
        channel_timeout=max(1, settings.request_timeout_ms // 1000),
        ident="edge",
        clear_untrusted_proxy_headers=True,
    )
