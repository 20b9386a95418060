"""The FactoryTX REST API under /v1, in the FactoryTX envelope."""

from __future__ import annotations

import bottle

from edge.web.envelope import FTX, json_app
from edge.web.ports import FtxPorts


def build(ports: FtxPorts) -> bottle.Bottle:
    from edge.web.ftx import config_routes, control_routes

    web = json_app(FTX)
    config_routes.install(web, ports)
    control_routes.install(web, ports)
    return web
