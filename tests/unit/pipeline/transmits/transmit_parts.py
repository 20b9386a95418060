"""A transmit runtime as the scheduler builds it, on a real catalog and outboxes in a temp folder."""

from __future__ import annotations

import threading

from edge.catalog import Catalog
from edge.catalog.historian_ledger import HistorianLedger
from edge.catalog.markers import Markers
from edge.catalog.receiver_state import ReceiverState
from edge.pipeline.outbox.outboxes import Outboxes
from edge.pipeline.runtime.context import TRANSMIT, ComponentContext
from edge.pipeline.runtime.ports import Books, ComponentPorts

DEVICE_ID = "0123456789abcdef0123456789abcdef"


class TransmitParts:
    def __init__(self, data_dir, max_bytes: int = 1 << 30):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(data_dir / "catalog.db")
        self.markers = Markers(self.catalog)
        self.outboxes = Outboxes(data_dir / "outbox", max_bytes, self.markers, DEVICE_ID)
        self.ports = ComponentPorts(None, "TAG", Books(self.markers, ReceiverState(self.catalog),
                                                       HistorianLedger(self.catalog), self.catalog), self.outboxes)

    def runtime(self, cls, config: dict):
        context = ComponentContext(self.ports, config["transmit_name"], TRANSMIT, config,
                                   {"data_transmit": [config]}, threading.Event())
        return cls(context)

    def close(self):
        self.outboxes.close()
        self.catalog.close()
