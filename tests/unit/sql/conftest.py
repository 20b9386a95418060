"""A real historian for the SQL engine's tests: catalog, tag store and engine in a temp folder."""

from __future__ import annotations

import numpy as np
import pytest

from edge.catalog import Catalog
from edge.settings import load_settings
from edge.sql.engine import SqlEngine
from edge.sql.results import CodedText
from edge.store import TagStore

SECOND = 10**9
BASE = 1_600_000_000 * SECOND  # 2020-09-13 12:26:40 UTC


def python_rows(result) -> list[tuple]:
    """A ResultSet as rows of Python values (NULL as None)."""
    columns = []
    for values in result.values:
        if isinstance(values, CodedText):
            columns.append([values.distinct[c] for c in np.asarray(values.codes).tolist()])
        elif isinstance(values, np.ma.MaskedArray):
            columns.append(values.tolist())
        elif isinstance(values, np.ndarray) and values.dtype.kind == "f":
            columns.append([None if v != v else v for v in values.tolist()])
        elif isinstance(values, np.ndarray):
            columns.append(values.tolist())
        else:
            columns.append(list(values))
    return list(zip(*columns))


class Historian:
    def __init__(self, engine: SqlEngine, store: TagStore):
        self.engine = engine
        self.store = store

    def run(self, sql: str, fast: bool = True):
        return self.engine.execute(sql, fast)

    def rows(self, sql: str, fast: bool = True) -> list[tuple]:
        return python_rows(self.engine.execute(sql, fast).result)

    def columns(self, sql: str, fast: bool = True) -> list[tuple]:
        result = self.engine.execute(sql, fast).result
        return [(c.name, c.type.code, c.type.length) for c in result.columns]

    def append(self, table: str, name: str, times, values) -> None:
        times = np.asarray(times, dtype=np.int64)
        self.store.table(table).append(np.full(len(times), name, dtype=object), times,
                                       np.asarray(values, dtype=np.float64))


@pytest.fixture
def make_historian(tmp_path):
    made = []

    def make(timeout_ms: int = 10_000, max_mem: int = 64 << 20, timezone: str = "UTC") -> Historian:
        folder = tmp_path / f"h{len(made)}"
        settings = load_settings(None, {"DATA_DIR": str(folder), "TIMEZONE": timezone,
                                        "REQUEST_TIMEOUT_MS": str(timeout_ms), "HTTP_MAX_MEM": str(max_mem)})
        folder.mkdir(parents=True)
        catalog = Catalog(folder / "catalog.db")
        store = TagStore(catalog, folder / "tags")
        engine = SqlEngine(store, settings)
        made.append((engine, store, catalog))
        return Historian(engine, store)

    yield make
    for engine, store, catalog in made:
        engine.close()
        store.close()
        catalog.close()


@pytest.fixture
def historian(make_historian) -> Historian:
    return make_historian()
