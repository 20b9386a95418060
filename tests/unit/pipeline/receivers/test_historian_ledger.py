"""Restream against the historian ledger: a file read again (its receiver state purged, as
POST /v1/restream does) never stores a record twice, however old the file, however it was
cut into chunks, whatever the configuration; a different file of the same name is new data."""

from __future__ import annotations

import pytest

import edge.store.batch_keys
from edge.catalog.historian_ledger import HistorianLedger
from tests.unit.pipeline.receivers.pipeline_parts import receiver_config, start_receiver
from tests.unit.pipeline.receivers.test_localfile_receiver import (HEADER, Crash, crashing_sink, expected,
                                                                   rows)


def restream(app) -> None:
    app.receiver_state.purge_stream("line_1", "press", "cycle")  # what /v1/restream does


@pytest.fixture
def forgetful_store(monkeypatch):
    """The tag store keeps the keys of its newest 2 batches only, so 'old' is three files."""
    monkeypatch.setattr(edge.store.batch_keys, "KEYS_KEPT", 2)


def test_restream_of_an_old_file_stores_nothing_twice(parts, tmp_path, forgetful_store):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    start_receiver(app, receiver_config(root=folder)).poll()
    for hour, name in enumerate(["b.csv", "c.csv", "d.csv"], start=1):  # the store forgets a.csv's key
        (folder / name).write_text(HEADER + rows(0, 3, hour=hour))
        start_receiver(app, receiver_config(root=folder)).poll()
    everything = sorted(sum((expected(0, 3, hour=h) for h in range(4)), []))
    assert app.points("press:cycle:temp") == everything

    restream(app)
    result = start_receiver(app, receiver_config(root=folder)).poll()
    assert result.records_in == 12  # every file was read again ...
    assert app.points("press:cycle:temp") == everything  # ... and nothing stored twice

    # Control: without the ledger the store alone would take a.csv again (its key is gone).
    restream(app)
    ledger = HistorianLedger(app.catalog)
    ledger.delete("line_1", "press", "cycle", list(ledger.for_stream("line_1", "press", "cycle")))
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp").count(expected(0, 3)[0]) == 2


def test_restream_of_a_file_read_while_it_grew_stores_nothing_twice(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "a.csv"
    path.write_text(HEADER + rows(0, 2))
    runtime = start_receiver(app, receiver_config(root=folder))
    for start in (2, 3, 7):  # read in pieces that a single read of the whole file will not repeat
        runtime.poll()
        with open(path, "a") as handle:
            handle.write(rows(start, {2: 1, 3: 4, 7: 13}[start]))
    runtime.poll()
    assert app.points("press:cycle:temp") == expected(0, 20)

    restream(app)
    again = start_receiver(app, receiver_config(root=folder))
    again.chunk_bytes = 100  # and cut differently once more
    assert again.poll().records_in == 20
    assert app.points("press:cycle:temp") == expected(0, 20)
    with open(path, "a") as handle:  # what comes after is stored as usual
        handle.write(rows(20, 2))
    again.poll()
    assert app.points("press:cycle:temp") == expected(0, 22)


def test_restream_under_a_new_configuration_stores_nothing_twice(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    start_receiver(app, receiver_config(root=folder)).poll()
    restream(app)
    # Another parser configuration gives other batch keys; the ledger does not depend on them.
    start_receiver(app, receiver_config(root=folder, counter=True)).poll()
    assert app.points("press:cycle:temp") == expected(0, 3)
    assert "press:cycle:counter" not in app.tags()  # records the historian had are not stored again


def test_restream_after_a_crash_hands_the_pending_chunk_over_under_its_own_key(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "a.csv"
    path.write_text(HEADER + rows(0, 50))
    runtime = start_receiver(app, receiver_config(root=folder))
    crashing_sink(runtime.sink, after_store=True, on_call=1)  # stored, then the process died
    with pytest.raises(Crash):
        runtime.poll()
    with open(path, "a") as handle:  # the file grows before anything reads it again
        handle.write(rows(50, 5))
    restream(app)  # and its intent is purged: a fresh read would cut one bigger chunk
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == expected(0, 55)


def test_restream_tells_a_rewritten_file_from_the_one_the_historian_had(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "a.csv"
    path.write_text(HEADER + rows(0, 3))
    start_receiver(app, receiver_config(root=folder)).poll()
    path.write_text(HEADER + rows(0, 3, hour=5))  # another file of that name: other first bytes
    restream(app)
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == sorted(expected(0, 3) + expected(0, 3, hour=5))

    # Grown behind what was read, with the same first bytes: the same file, read on.
    with open(path, "a") as handle:
        handle.write(rows(3, 2, hour=5))
    restream(app)
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == sorted(expected(0, 3) + expected(0, 5, hour=5))


def test_a_file_that_is_gone_leaves_no_ledger_entry(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    (folder / "b.csv").write_text(HEADER + rows(3, 3))
    runtime = start_receiver(app, receiver_config(root=folder))
    runtime.poll()
    ledger = HistorianLedger(app.catalog)
    assert sorted(r.rsplit("|", 1)[1] for r in ledger.for_stream("line_1", "press", "cycle")) == ["a.csv", "b.csv"]
    (folder / "a.csv").unlink()
    runtime.poll()
    assert [r.rsplit("|", 1)[1] for r in ledger.for_stream("line_1", "press", "cycle")] == ["b.csv"]
