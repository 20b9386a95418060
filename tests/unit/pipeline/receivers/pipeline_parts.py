"""Real pipeline parts for receiver tests: the catalog and tag store in a temp folder, the
ports a component is given (as edge.app builds them), a receiver configuration, and runtimes
built as the scheduler builds them (Runtime(context))."""

from __future__ import annotations

import threading

import numpy as np

from edge.catalog import Catalog
from edge.catalog.historian_ledger import HistorianLedger
from edge.catalog.markers import Markers
from edge.catalog.receiver_state import ReceiverState
from edge.pipeline.receivers.localfile.receiver import LocalFileReceiver
from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
from edge.settings import load_settings
from edge.store import TagStore


class PipelineParts:
    """The catalog, the tag store and the component ports over them; what tests look at."""

    def __init__(self, data_dir, **settings):
        settings = load_settings(overrides={"DATA_DIR": str(data_dir), **settings})
        self.catalog = Catalog(data_dir / "catalog.db")
        self.markers = Markers(self.catalog)
        self.receiver_state = ReceiverState(self.catalog)
        self.store = TagStore(self.catalog, data_dir / "tags")
        self.historian = Historian(self.store)
        self.ports = ComponentPorts(self.historian, settings.historian_table,
                                    Books(self.markers, self.receiver_state, HistorianLedger(self.catalog),
                                          self.catalog))

    def close(self):
        self.store.close()
        self.catalog.close()

    def points(self, tag: str, table: str = "TAG") -> list[tuple[int, float]]:
        result = self.store.table(table).read([tag], 0, np.iinfo(np.int64).max)
        return sorted(zip(result.times.tolist(), result.values.tolist()))

    def tags(self, table: str = "TAG") -> list[str]:
        return sorted(self.store.table(table).tag_names())

    def markers_of(self, asset: str, stream_type: str) -> dict[str, tuple[str, str]]:
        return {m.category: (m.level, m.message) for m in self.markers.for_stream(asset, stream_type)}


def receiver_config(name="line_1", root=None, streams=None, parse=None, localtz=None, delete_completed=False,
                    connections=None, counter=False):
    options = {"parse": parse if parse is not None else
               {"parse_timestamps": [{"field_name": "timestamp", "format": "%Y-%m-%d %H:%M:%S"}]},
               "counter": counter}
    if localtz:
        options["localtz"] = localtz
    return {
        "data_receiver_name": name, "protocol": "localfile", "poll_interval": 1,
        "delete_completed": delete_completed,
        "connections": connections if connections is not None else [{"root_path": str(root)}],
        "parsers": [{"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["*"], "options": options}],
        "streams": streams or [{"asset": "press", "stream_type": "cycle", "file_filter": ["*.csv"]}],
    }


def start_receiver(parts: PipelineParts, config, transforms=(), cls=LocalFileReceiver, settle=0.0):
    """A runtime as the scheduler builds it; settle=0 reads files on first sight."""
    context = ComponentContext(parts.ports, config["data_receiver_name"], RECEIVER, config,
                               {"data_receiver": [config], "transforms": list(transforms), "data_transmit": []},
                               threading.Event())
    runtime = cls(context)
    for settler in runtime.settlers:
        settler.settle_seconds = settle
    return runtime
