"""/v1/config (interim)."""

from edge.web.envelope import ftx_success


def install(web, app) -> None:
    @web.get("/v1/config")
    def get_config():
        revision = app.configuration.current()
        meta = {"last_modified": revision.saved_at if revision else None}
        return ftx_success(app.configuration.body(), meta=meta)
