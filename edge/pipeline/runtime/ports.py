"""What the pipeline is given: narrow ports onto the store and the catalog, built by `edge.app`.

A component reaches the tag store through `Historian` and writes down what it did in its
`Books`; the scheduler reads the configuration through a `ConfigurationSource`. These objects,
and the fields of `ComponentPorts`, are all the pipeline can reach of the program.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from edge.store.schema import ColumnSpec

if TYPE_CHECKING:
    import apsw
    import numpy as np

    from edge.catalog import Catalog
    from edge.catalog.historian_ledger import HistorianLedger
    from edge.catalog.markers import Markers
    from edge.catalog.receiver_state import ReceiverState
    from edge.pipeline.outbox.outboxes import Outboxes
    from edge.store import TagStore
    from edge.store.schema import TableSchema

log = logging.getLogger("edge.pipeline.historian")

NAME_LENGTH = 255
# One lock for every Historian: receivers on their own threads may all find the table missing.
_create_lock = threading.Lock()


class ConfigurationSource(Protocol):
    """The FactoryTX configuration in force (`FtxConfiguration`)."""

    def body(self) -> dict[str, Any]: ...


class HistorianTable(Protocol):
    """What the pipeline uses of a tag table: its schema (the name length) and keyed appends."""

    schema: TableSchema

    def append_by_tag(self, tags: list[str], times_ns: list[np.ndarray], values: list[np.ndarray],
                      batch_key: str | None = None) -> int:
        """Appends the points of each tag, durably and all or nothing; a batch whose key the
        table has applied already is skipped (returns 0)."""


class Historian:
    """The tag store as the pipeline writes to it: tag tables found, or created when missing."""

    def __init__(self, store: TagStore):
        self._store = store

    def table(self, name: str) -> HistorianTable:
        """The tag table `name`, created as NAME varchar(255), TIME datetime, VALUE double when
        nobody has made it yet."""
        with _create_lock:
            if name.upper() not in {n.upper() for n in self._store.table_names()}:
                self._store.create_table(name, [ColumnSpec("NAME", "varchar", NAME_LENGTH, "name"),
                                                ColumnSpec("TIME", "datetime", 8, "time"),
                                                ColumnSpec("VALUE", "double", 8, "value")])
                log.info("created tag table %s for the pipeline", name)
        return self._store.table(name)

    def name_length(self, name: str) -> int:
        """The longest tag name table `name` takes: its NAME column's length, or the length it
        is created with when it does not exist yet."""
        if name.upper() not in {n.upper() for n in self._store.table_names()}:
            return NAME_LENGTH
        return self._store.table(name).schema.name_column.length


@dataclasses.dataclass(frozen=True)
class Books:
    """The catalog records a component writes: markers, receiver state, the historian ledger."""

    markers: Markers
    receiver_state: ReceiverState
    historian_ledger: HistorianLedger
    catalog: Catalog = dataclasses.field(repr=False)  # for `transaction` only

    @contextlib.contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """One catalog transaction: every book this thread writes inside it commits together
        or not at all (the catalog gives each thread one connection, so the books' own writes
        join it); yields the connection for the writes that take it (`HistorianLedger.put`)."""
        conn = self.catalog.connection()
        with conn:
            yield conn


@dataclasses.dataclass(frozen=True)
class ComponentPorts:
    """What the scheduler hands every component it runs, through its `ComponentContext`."""

    historian: Historian
    historian_table: str  # HISTORIAN_TABLE: the tag table the pipeline's points go to
    books: Books
    outboxes: Outboxes | None = None  # the transmits' outboxes: receivers append, transmits drain
    # DATA_DIR, for the files a component keeps beside the catalog (the OPC UA client
    # certificate); None where nothing may be kept (components then say they cannot).
    data_dir: Path | None = None
