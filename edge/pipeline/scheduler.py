"""Scheduler (interim): remembers the desired state only."""

from __future__ import annotations


class Scheduler:
    def __init__(self, app):
        self._app = app
        self.status = "stopped"

    def resume(self) -> None:
        if self._app.runtime_state.get("ftx.desired", "running") == "running":
            self.status = "running"

    def shutdown(self) -> None:
        self.status = "stopped"
