"""/v1/config, /v1/config/validate, /v1/config/templates and /v1/meta: the FactoryTX configuration.

A refused save answers 400 and a validation that finds errors 200, both with `success: false`
and the violations; an unknown template or meta object answers 404.
"""

from __future__ import annotations

import bottle

from edge.errors import FTX_BAD_REQUEST, FTX_NOT_FOUND, EdgeError
from edge.pipeline.config import meta, templates
from edge.web.envelope import ftx_success, read_json_body
from edge.web.ports import FtxPorts

TEMPLATE_NOT_AVAILABLE = "Requested configuration is not available"


def install(web: bottle.Bottle, ports: FtxPorts) -> None:
    configuration = ports.configuration

    @web.get("/v1/config")
    def get_config():
        revision = configuration.current()
        body = revision.body if revision else configuration.body()
        return ftx_success(configuration.shown(body), meta={"last_modified": revision.saved_at if revision else None})

    @web.post("/v1/config")
    def post_config():
        checked = configuration.save(read_json_body(FTX_BAD_REQUEST))
        if not checked.passed:
            bottle.response.status = 400
            return {"response": checked.report(), "success": False}
        ports.scheduler.reload()
        return ftx_success(configuration.shown(checked.revision.body),
                           meta={"last_modified": checked.revision.saved_at})

    @web.post("/v1/config/validate")
    def validate_config():
        checked = configuration.check(read_json_body(FTX_BAD_REQUEST))
        return {"response": checked.report(), "success": checked.passed}

    @web.get("/v1/config/templates")
    def list_templates():
        return ftx_success(templates.all_templates())

    @web.get("/v1/config/templates/<protocol>")
    def get_template(protocol: str):
        found = templates.template_configuration(protocol)
        if found is None:
            bottle.response.status = 404
            return {"response": TEMPLATE_NOT_AVAILABLE, "success": False}
        return ftx_success(found)

    @web.get("/v1/meta")
    def list_meta():
        return ftx_success({"objects": meta.meta_objects()})

    @web.get("/v1/meta/<object_id>")
    def get_meta(object_id: str):
        try:
            return ftx_success(meta.describe(object_id, bottle.request.query.getunicode("subtype")))
        except meta.UnknownMetaObject as exc:
            raise EdgeError(FTX_NOT_FOUND, str(exc), 404) from None

