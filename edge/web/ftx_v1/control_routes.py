"""/v1/ftx (interim)."""


def install(web, app) -> None:
    pass
