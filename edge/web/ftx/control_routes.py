"""/v1/ftx/start|stop|restart, /v1/status, /v1/streams, /v1/restream, /v1/log/stream."""

from __future__ import annotations

import logging
from collections.abc import Callable

import bottle

from edge.errors import FTX_BAD_REQUEST, FTX_INTERNAL, FTX_NOT_FOUND, EdgeError
from edge.pipeline.runtime.services import configured_streams
from edge.system.logs import CORE_LOG, DEFAULT_TAIL_LINES, MAX_TAIL_LINES, tail_log
from edge.system.machine import machine_info
from edge.web.envelope import ftx_success, read_json_body
from edge.web.ports import FtxPorts
from edge.web.request_text import decimal_integer

log = logging.getLogger("edge.web.control")

RESTREAM_DONE = "Restream has completed successfully"
CONFIG_BACKUP_NOT_CONFIGURED = {
    "last_success": None,
    "error_code": "not_configured",
    "error_message": "Backup of the configuration to the Sight Machine cloud is not configured",
}


def install(web: bottle.Bottle, ports: FtxPorts) -> None:
    scheduler = ports.scheduler

    @web.post("/v1/ftx/start")
    def ftx_start():
        return _control(scheduler.start)

    @web.post("/v1/ftx/stop")
    def ftx_stop():
        return _control(scheduler.stop)

    @web.post("/v1/ftx/restart")
    def ftx_restart():
        return _control(scheduler.restart)

    @web.get("/v1/status")
    def status():
        return ftx_success({
            "backup": {"config": _config_backup(ports)},
            "last_data_transmit": scheduler.last_data_transmit(),
            "machine_info": machine_info(ports.data_dir),
            "factorytx": scheduler.status(),
        })

    @web.get("/v1/streams")
    def streams():
        shown = []
        for stream in configured_streams(ports.configuration.body()):
            markers = ports.markers.for_stream(stream.asset, stream.stream_type)
            shown.append({"stream": stream.stream, "asset": stream.asset, "stream_type": stream.stream_type,
                          "data_receiver": stream.receiver, "markers": [m.as_json() for m in markers]})
        return ftx_success(shown)

    @web.post("/v1/restream")
    def restream():
        scheduler.restream(read_json_body(FTX_BAD_REQUEST))
        return ftx_success(RESTREAM_DONE)

    @web.get("/v1/log/stream")
    @web.get("/v1/log/stream/<log_filename>")
    def log_stream(log_filename: str = CORE_LOG):
        count = _lines_wanted(bottle.request.query.get("lines"))
        return ftx_success(tail_log(ports.log_dir, log_filename, count))

    @web.route("/v1/log/stream/<anything:path>", method=["GET", "HEAD"])
    def log_stream_elsewhere(anything: str):
        # A slash in the name (../, an encoded %2F, an absolute path) never names a log.
        raise EdgeError(FTX_NOT_FOUND, "No such log file; the logs are factorytx_core.log and factorytx_web.log",
                        404)


def _control(action: Callable[[], str]) -> dict:
    """Runs start/stop/restart; a failure answers FactoryTX's `{"response": "failed"}`."""
    try:
        return ftx_success(action())
    except Exception as exc:
        err = exc if isinstance(exc, EdgeError) else EdgeError(FTX_INTERNAL, "Internal error; see factorytx_web.log",
                                                               500)
        if not isinstance(exc, EdgeError):
            log.exception("%s %s failed", bottle.request.method, bottle.request.path)
        bottle.response.status = err.status
        return {"success": False, "response": "failed", "error": {"code": err.code, "text": err.text}}


def _lines_wanted(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_TAIL_LINES
    try:
        count = decimal_integer(raw)
    except ValueError:
        raise EdgeError(FTX_BAD_REQUEST, f"lines must be an integer between 1 and {MAX_TAIL_LINES}") from None
    if not 1 <= count <= MAX_TAIL_LINES:
        raise EdgeError(FTX_BAD_REQUEST, f"lines must be between 1 and {MAX_TAIL_LINES}, got {count}")
    return count


def _config_backup(ports: FtxPorts) -> dict:
    backup = ports.backup_status.get("config")
    if backup["last_success"] is None and backup["error_code"] is None:
        return dict(CONFIG_BACKUP_NOT_CONFIGURED)
    return backup
