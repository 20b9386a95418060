"""The pipeline's ports over a real catalog and tag store: the historian table is found or
made once, and the books written in one transaction commit together or not at all."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edge.store.schema import ColumnSpec


def test_historian_creates_the_table_once_and_finds_one_made_by_anybody(parts):
    app = parts()
    first = app.historian.table("plant")
    assert app.historian.table("PLANT") is first
    assert [c.name for c in first.schema.columns] == ["NAME", "TIME", "VALUE"]
    app.store.create_table("OTHER", [ColumnSpec("NAME", "varchar", 40, "name"),
                                     ColumnSpec("TIME", "datetime", 8, "time"),
                                     ColumnSpec("VALUE", "double", 8, "value")])
    assert app.historian.table("other").schema.name_column.length == 40  # made by SQL: taken as it is


def test_historian_table_made_by_racing_receivers_exists_once(parts):
    app = parts()
    tables = []
    threads = [threading.Thread(target=lambda: tables.append(app.historian.table("TAG"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tables) == 4 and all(t is tables[0] for t in tables)
    assert tables[0].append_by_tag(["a:b:c"], [np.array([1], dtype=np.int64)], [np.array([2.0])],
                                   batch_key="k") == 1
    assert tables[0].append_by_tag(["a:b:c"], [np.array([1], dtype=np.int64)], [np.array([2.0])],
                                   batch_key="k") == 0  # a batch key applied already is skipped


def test_books_written_in_one_transaction_commit_together_or_not_at_all(parts):
    app = parts()
    books = app.ports.books
    with books.transaction() as conn:
        books.receiver_state.put("line_1", "press", "cycle", "f", {"offset": 1}, conn=conn)
        books.historian_ledger.put(conn, "line_1", "press", "cycle", "f", {"taken": 1})
        books.markers.raise_marker("line_1", "Receiver", "press", "cycle", "file", "warning", "slow")
    with pytest.raises(RuntimeError):
        with books.transaction() as conn:
            books.receiver_state.purge_stream("line_1", "press", "cycle")
            books.historian_ledger.put(conn, "line_1", "press", "cycle", "f", {"taken": 2})
            books.markers.clear("line_1", "press", "cycle")
            raise RuntimeError("the process died half way")
    assert books.receiver_state.all_for_stream("line_1", "press", "cycle") == {"f": {"offset": 1}}
    assert books.historian_ledger.for_stream("line_1", "press", "cycle") == {"f": {"taken": 1}}
    assert [m.message for m in books.markers.for_stream("press", "cycle")] == ["slow"]
