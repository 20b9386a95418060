"""Every transmit's outbox, and the sink that puts a receiver's batches into them.

One `Outboxes` per program (built by `edge.app`, handed to components as a port): the outbox
of transmit `name` is the folder `<DATA_DIR>/outbox/<name, made safe>-<hash of name>`, opened
once and shared by the receivers that append to it and the transmit that drains it. A loss at
the OUTBOX_MAX_BYTES bound raises an `outbox` error marker of the transmit on the stream. The
outbox of a transmit no longer configured is deleted when the configuration without it is put
in force (`retire`): nothing would ever send it, and each may hold OUTBOX_MAX_BYTES.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.catalog.database import utc_timestamp
from edge.pipeline.batch import RecordBatch
from edge.pipeline.outbox.outbox import Outbox
from edge.pipeline.runtime.context import TRANSMIT
from edge.pipeline.runtime.services import configured_services
from edge.pipeline.runtime.streamflow import Warn, stream_matches

if TYPE_CHECKING:
    from edge.catalog.markers import Markers

OUTBOX_CATEGORY = "outbox"


class Outboxes:
    def __init__(self, root: Path, max_bytes: int, markers: Markers, device_id: str):
        self.root = root
        self.device_id = device_id  # this appliance, stable per data directory (the cloud's device id)
        self.max_bytes = max_bytes
        self._markers = markers
        self._lock = threading.Lock()
        self._open: dict[str, Outbox] = {}

    def outbox(self, transmit_name: str) -> Outbox:
        with self._lock:
            found = self._open.get(transmit_name)
            if found is None:
                found = self._open[transmit_name] = Outbox(
                    self.root / folder_name(transmit_name), transmit_name, self.max_bytes,
                    on_loss=lambda asset, stream_type, loss: self._report_loss(transmit_name, asset, stream_type,
                                                                               loss))
            return found

    def sink(self, full_config: dict[str, Any]) -> OutboxSink | None:
        """The sink for a receiver running under `full_config`: None without transmits."""
        targets = [(spec.config.get("filter_stream"), self.outbox(spec.name))
                   for spec in configured_services(full_config) if spec.component_type == TRANSMIT]
        return OutboxSink(targets) if targets else None

    def status(self, transmit_names: list[str]) -> dict[str, dict[str, Any]]:
        return {name: self.outbox(name).status() for name in transmit_names}

    def retire(self, transmit_names: Iterable[str]) -> list[str]:
        """Deletes every outbox but those of `transmit_names` (the transmits configured now);
        returns what went, as "folder (n unsent records)". Call it while no receiver or
        transmit of an earlier configuration runs: they hold the outboxes they were given."""
        keep = {folder_name(name) for name in transmit_names}
        gone = []
        with self._lock:
            for name, outbox in list(self._open.items()):
                if outbox.folder.name not in keep:
                    outbox.close()
                    del self._open[name]
            for folder in sorted(self.root.iterdir()) if self.root.is_dir() else ():
                if folder.is_dir() and folder.name not in keep:
                    gone.append(f"{folder.name} ({_unsent_records(folder)} unsent records)")
                    shutil.rmtree(folder)
        return gone

    def close(self) -> None:
        with self._lock:
            for outbox in self._open.values():
                outbox.close()

    def _report_loss(self, transmit_name: str, asset: str, stream_type: str, loss: dict[str, Any]) -> None:
        span = ""
        if loss["first"] is not None:
            span = f", recorded from {_text(loss['first'])} to {_text(loss['last'])} UTC"
        self._markers.raise_marker(
            transmit_name, TRANSMIT, asset, stream_type, OUTBOX_CATEGORY, "error",
            f"the outbox reached OUTBOX_MAX_BYTES ({self.max_bytes} bytes) while the destination was not taking "
            f"data (or its disk damaged a batch): {loss['records']} unsent record(s) of this stream were dropped, "
            f"oldest first{span}")


class OutboxSink:
    """A sink (`deliver`) appending each batch to the outbox of every transmit whose
    filter_stream matches its stream (a transmit without filter_stream takes every stream)."""

    def __init__(self, targets: list[tuple[Any, Outbox]]):
        self.targets = targets

    def deliver(self, batch: RecordBatch, batch_key: str, warn: Warn) -> int:
        queued = 0
        for patterns, outbox in self.targets:
            if stream_matches(patterns, batch.stream_id):
                queued += outbox.append(batch, batch_key)
        return queued


def folder_name(transmit_name: str) -> str:
    """A file name for any transmit name: its safe characters and a hash that keeps names apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", transmit_name)[:64].lstrip(".") or "transmit"
    return f"{safe}-{hashlib.blake2b(transmit_name.encode('utf-8'), digest_size=4).hexdigest()}"


def _unsent_records(folder: Path) -> int | str:
    """What an outbox folder still queues, for the log; "?" when it cannot be read."""
    try:
        outbox = Outbox(folder, folder.name, 1 << 62)
    except Exception:  # noqa: BLE001 - a damaged outbox goes all the same
        return "?"
    try:
        return outbox.status()["records_queued"]
    finally:
        outbox.close()


def _text(ns: int) -> str:
    return utc_timestamp(dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc))[:19]
