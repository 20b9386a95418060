"""The FactoryTX configuration in force. (Interim: validation and masking arrive next.)"""

from __future__ import annotations

from edge.catalog.config_history import ConfigHistory, ConfigRevision

EMPTY_CONFIG = {"data_receiver": [], "transforms": [], "data_transmit": []}


class FtxConfiguration:
    def __init__(self, history: ConfigHistory, mask_secrets: bool):
        self._history = history
        self.mask_secrets = mask_secrets

    def current(self) -> ConfigRevision | None:
        return self._history.current()

    def body(self) -> dict:
        revision = self._history.current()
        return revision.body if revision else dict(EMPTY_CONFIG)
