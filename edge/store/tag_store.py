"""The tag store: every tag table of the historian, and the housekeeping thread behind them.

Tables, tags, committed state and hour rollups live in the catalog; point data lives under
`<data-dir>/tags/<TABLE>/` (column files per tag, plus the table's write-ahead log in `log/`).
Opening the store recovers every table (see `edge.store.table`); the housekeeping thread
checkpoints tables whose log has grown or that have waited long enough, merges the sorted
runs of tags that received much out-of-order data, and applies retention policies
(`edge.store.retention`).
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import threading
from pathlib import Path

from edge.catalog import Catalog
from edge.store import errors, tag_catalog
from edge.store.retention import Retention
from edge.store.schema import ColumnSpec, build_schema, schema_from_json, table_name
from edge.store.table import TagTable

log = logging.getLogger("edge.store")

HOUSEKEEPING_INTERVAL_S = 0.5


def _file_budget() -> int:
    """Raises the open-file limit to its maximum; returns what one table may keep open. Each
    map of a column also holds a descriptor and one of the process's memory maps, whose
    number the kernel limits too (vm.max_map_count, 65,530 by default)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    try:
        maps = int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        maps = 65530
    return max(256, min(soft, maps) // 8)


class TagStore:
    def __init__(self, catalog: Catalog, root: Path):
        """Opens (and recovers) every tag table under `root` = <data-dir>/tags."""
        self.catalog = catalog
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._fd_budget = _file_budget()
        self._lock = threading.Lock()
        self._tables: dict[str, TagTable] = {}
        self._wake = threading.Event()
        self._stopping = False
        for table_id, name, columns, metadata, _ in tag_catalog.load_tables(catalog.connection()):
            schema = schema_from_json(name, json.loads(columns), json.loads(metadata))
            self._tables[name] = self._open_table(table_id, schema)
        for path in self.root.iterdir():
            if path.is_dir() and path.name not in self._tables:
                # A table dropped (catalog rows gone) before its directory was removed.
                shutil.rmtree(path, ignore_errors=True)
        self.retention = Retention(catalog, self.table, self.table_names)
        self._housekeeper = threading.Thread(target=self._housekeeping, name="store-housekeeping", daemon=True)
        self._housekeeper.start()

    def _open_table(self, table_id: int, schema) -> TagTable:
        return TagTable(self.catalog, table_id, schema, self.root / schema.name,
                        on_log_full=self._wake.set, fd_budget=self._fd_budget)

    def create_table(self, name: str, columns: list[ColumnSpec], metadata: list[ColumnSpec] = ()) -> None:
        """Creates a tag table (see `edge.store.schema` for what a definition must hold)."""
        schema = build_schema(name, columns, metadata)
        with self._lock:
            if schema.name in self._tables:
                raise errors.table_exists(schema.name)
            shutil.rmtree(self.root / schema.name, ignore_errors=True)
            conn = self.catalog.connection()
            with conn:
                table_id = tag_catalog.insert_table(conn, schema)
            self._tables[schema.name] = self._open_table(table_id, schema)

    def drop_table(self, name: str) -> None:
        """Removes the table, its tags, rollups and files."""
        upper = table_name(name)
        with self._lock:
            table = self._tables.get(upper)
            if table is None:
                raise errors.table_not_found(upper)
            table.close(drop=True)
            del self._tables[upper]
            tag_catalog.delete_table(self.catalog.connection(), table.table_id)
            shutil.rmtree(self.root / upper, ignore_errors=True)

    def table(self, name: str) -> TagTable:
        upper = str(name).strip().upper()
        table = self._tables.get(upper)
        if table is None:
            raise errors.table_not_found(upper)
        return table

    def table_names(self) -> list[str]:
        return list(self._tables)

    def checkpoint(self) -> None:
        """Checkpoints every table now."""
        for table in list(self._tables.values()):
            table.checkpoint()

    def force_rollup(self) -> None:
        """GET /machiot/rollup: rollups are current after every append; this also persists them."""
        self.checkpoint()

    def _housekeeping(self) -> None:
        while not self._stopping:
            self._wake.wait(HOUSEKEEPING_INTERVAL_S)
            self._wake.clear()
            if self._stopping:
                return
            for table in list(self._tables.values()):
                try:
                    if table.checkpoint_due():
                        table.checkpoint()
                    table.compact_runs()
                except Exception:  # noqa: BLE001 - keep housekeeping alive; the log keeps the data
                    log.exception("housekeeping of table %s failed", table.name)
            try:
                self.retention.run_due()
            except Exception:  # noqa: BLE001 - keep housekeeping alive; the next round tries again
                log.exception("retention failed")

    def close(self) -> None:
        """Stops housekeeping and closes every table after a final checkpoint."""
        self._stopping = True
        self._wake.set()
        self._housekeeper.join(timeout=60)
        with self._lock:
            for table in self._tables.values():
                try:
                    table.close()
                except Exception:  # noqa: BLE001 - close the others; the log keeps this one's data
                    log.exception("closing table %s failed", table.name)
