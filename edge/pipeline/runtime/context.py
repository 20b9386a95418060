"""The contract between the scheduler and the code that runs a component.

A component whose registry line names a `runtime` gets, per configured instance, one object
built as `Runtime(context)`. The scheduler's thread for it calls `poll()` once per
`poll_interval` seconds and `close()` when it stops. `poll()` does one pass (read what is new,
parse, transform, store, hand on) and returns counts; an exception fails that pass only: the
scheduler records it as the service's last_error and tries again after the next interval.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian

RECEIVER = "Receiver"
TRANSMIT = "Transmit"
TRANSFORM = "Transform"


@dataclasses.dataclass(frozen=True)
class PollResult:
    records_in: int = 0
    records_out: int = 0


class ComponentContext:
    """What running component code may use (see `ports`); it never sees the web layer."""

    def __init__(self, ports: ComponentPorts, name: str, component_type: str, config: dict[str, Any],
                 full_config: dict[str, Any], stop: threading.Event):
        self.historian: Historian = ports.historian  # the tag store, to append points to
        self.historian_table: str = ports.historian_table  # the tag table those points go to
        self.books: Books = ports.books  # markers, receiver state, historian ledger
        self.data_dir: Path | None = ports.data_dir  # DATA_DIR, for files a component keeps
        self.outboxes = ports.outboxes  # the transmits' outboxes (None in a program without them)
        self.name = name  # data_receiver_name / transmit_name
        self.component_type = component_type  # RECEIVER or TRANSMIT
        self.config = config  # this component's section of the configuration, secrets in clear
        self.full_config = full_config  # the whole configuration (transforms etc.)
        self.stop = stop  # set when the component must stop; long passes check it
        self.log = logging.getLogger(f"edge.pipeline.{name}")

    def raise_marker(self, asset: str, stream_type: str, category: str, level: str, message: str) -> None:
        self.books.markers.raise_marker(self.name, self.component_type, asset, stream_type, category, level,
                                        message)


class ComponentRuntime(Protocol):
    def __init__(self, context: ComponentContext) -> None: ...

    def poll(self) -> PollResult: ...

    def close(self) -> None: ...
