"""The one HTTP server: waitress serving the dispatcher over every API."""

from __future__ import annotations

import bottle

from edge.settings import Settings
from edge.web.auth import Authenticator
from edge.web.connections import ConnectionLimits, EdgeServer
from edge.web.dispatch import Dispatcher, Mount
from edge.web.envelope import FTX, MACHBASE
from edge.web.lanes import LaneDispatcher
from edge.web.login_throttle import LoginThrottle
from edge.web.openapi import routes as openapi_routes
from edge.web.ports import FtxPorts, HistorianPorts, HttpPorts
from edge.web.ui import routes as ui_routes
from edge.web.ui.sessions import Sessions
from edge.web.wake_cpu import WakeCpu


def build_wsgi(http: HttpPorts, ftx_ports: FtxPorts, historian: HistorianPorts) -> Dispatcher:
    """The WSGI callable: each API family mounted at its prefixes, with the port it is given."""
    from edge.web import ftx
    from edge.web.influx import write as influx
    from edge.web.machbase import machbase, machiot

    # Bodies up to this size stay in memory; the dispatcher refuses larger ones anyway.
    bottle.BaseRequest.MEMFILE_MAX = http.max_request_size
    # The tag API is Machbase's envelope with the "timezone" it carries in every answer.
    machiot_flavour = machiot.machiot_flavour(historian.zone)
    mounts = [
        Mount(["/v1"], ftx.build(ftx_ports), FTX),
        # Their reads may run to REQUEST_TIMEOUT_MS: they get a share of the workers, not all.
        Mount(["/machbase"], machbase.build(historian), MACHBASE, queries=True),
        Mount(["/machiot", "/machiot-rest-api"], machiot.build(historian, machiot_flavour), machiot_flavour,
              queries=True),
        # InfluxDB 1.x clients (Telegraf, Node-RED): their credentials come in Influx's forms too.
        Mount(influx.PREFIXES, influx.build(historian, http.max_request_size), influx.INFLUX,
              credentials=influx.credentials, public=influx.is_public),
    ]
    # Wrong passwords are counted per address across Basic, InfluxDB's forms and the web UI's login.
    throttle = LoginThrottle(http.login_attempts)
    sessions = Sessions(http.users, throttle=throttle)
    mounts.append(Mount(["/", "/ui", "/docs", "/openapi.json"], _ui_app(sessions, ftx_ports, historian), FTX,
                        public=lambda method, path: ui_routes.is_public(method, path)
                        or openapi_routes.is_public(method, path)))
    authenticator = Authenticator(http.users, enabled=http.auth_enabled, throttle=throttle)
    return Dispatcher(mounts, authenticator, http.max_request_size, sessions)


def _ui_app(sessions: Sessions, ftx_ports: FtxPorts, historian: HistorianPorts) -> bottle.Bottle:
    """The web UI and the API's description: pages and files, not JSON routes."""
    app = ui_routes.plain_app()
    ui_routes.install(app, sessions, ftx_ports.configuration, historian.store, historian.zone.name)
    openapi_routes.install(app)
    return app


def create_server(wsgi: Dispatcher, settings: Settings) -> EdgeServer:
    """waitress on HTTP_BIND:HTTP_PORT_NO, with the connection limits of edge.web.connections
    and the worker lanes of edge.web.lanes."""
    from waitress.adjustments import Adjustments

    limits = ConnectionLimits(settings.http_max_connections, settings.http_connections_per_address,
                              settings.request_timeout_ms)
    adjustments = Adjustments(
        host=settings.http_bind,
        port=settings.http_port_no,
        threads=settings.http_threads,
        # waitress refuses a declared body over its limit before we see it (in the envelope,
        # by edge.web.connections), so its limit sits above ours: up to twice MAX_REQUEST_SIZE
        # reaches the dispatcher and is refused with our text; past that waitress cuts it off.
        max_request_body_size=2 * settings.max_request_size + 65536,
        # Bodies below this stay in memory instead of a temp file per request; an append of
        # 10,000 points is ~0.5 MB, and 8 MiB per worker bounds memory on a small box.
        inbuf_overflow=min(settings.max_request_size, 8 << 20) + 1,
        channel_timeout=max(1, settings.request_timeout_ms // 1000),
        # EdgeServer.maintenance enforces REQUEST_TIMEOUT_MS (idle and request arrival); it
        # runs every second instead of waitress's 30.
        cleanup_interval=1,
        # EdgeServer keeps connections within HTTP_MAX_CONNECTIONS (channels) plus as many
        # refusals being answered; waitress's own limit, which stops accepting altogether and
        # so stalls every client, sits above both and is only a guard.
        connection_limit=2 * settings.http_max_connections + 16,
        # select() cannot watch descriptors above 1023; poll() can.
        asyncore_use_poll=True,
        ident="edge",
        # Bodies (appends, line protocol) are read 64 KiB a pass of the loop, not 8 KiB: a
        # 340 KB line-protocol body went 2-5% faster, small requests the same (A/B, one run).
        recv_bytes=65536,
        # No proxy is trusted and nothing reads X-Forwarded-* (REMOTE_ADDR is the peer): waitress
        # need not wrap every request in its middleware that deletes those headers.
        clear_untrusted_proxy_headers=False,
    )
    wake = WakeCpu(settings.http_cpu)
    lanes = LaneDispatcher(wsgi, settings.http_query_threads, wake)
    lanes.set_thread_count(settings.http_threads)
    return EdgeServer(wsgi, limits, wake, map={}, dispatcher=lanes, adj=adjustments)
