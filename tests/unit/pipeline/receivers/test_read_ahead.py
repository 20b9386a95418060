"""Read-ahead: the worker's parses are used when they are for the very chunk the receiver is
at, and a wrong guess changes nothing."""

from __future__ import annotations

import os

from edge.pipeline.receivers.filecore import readahead
from tests.unit.pipeline.receivers.pipeline_parts import receiver_config, start_receiver
from tests.unit.pipeline.receivers.test_localfile_receiver import HEADER, expected, rows


def counting_parses(monkeypatch) -> dict:
    """Counts the chunks the worker parsed and those the receiver took from it."""
    counts = {"worker": 0, "taken": 0}
    parsed = readahead.ReadAhead.parsed
    submit = readahead.ReadAhead.submit

    def counted_submit(self, *args):
        counts["worker"] += 1
        return submit(self, *args)

    def counted_parsed(self, *args):
        result = parsed(self, *args)
        counts["taken"] += result is not None
        return result

    monkeypatch.setattr(readahead.ReadAhead, "submit", counted_submit)
    monkeypatch.setattr(readahead.ReadAhead, "parsed", counted_parsed)
    return counts


def test_many_files_and_chunks_read_ahead_store_exact_values(parts, tmp_path, monkeypatch):
    counts = counting_parses(monkeypatch)
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(6):
        (folder / f"f{index}.csv").write_text(HEADER + rows(0, 10, hour=index))
    (folder / "g.csv").write_text(HEADER + rows(0, 60, hour=9))
    runtime = start_receiver(app, receiver_config(root=folder))
    runtime.chunk_bytes = 300  # g.csv comes in several chunks
    assert runtime.poll().records_in == 120
    want = sorted(sum((expected(0, 10, hour=h) for h in range(6)), []) + expected(0, 60, hour=9))
    assert app.points("press:cycle:temp") == want
    assert counts["taken"] >= 10 and counts["taken"] <= counts["worker"]


def test_a_wrong_guess_is_not_used(parts, tmp_path, monkeypatch):
    counts = counting_parses(monkeypatch)
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    (folder / "b.csv").write_text(HEADER + rows(0, 3, hour=1))
    start_receiver(app, receiver_config(root=folder)).poll()
    with open(folder / "a.csv", "a") as handle:
        handle.write(rows(3, 2))
    # b.csv rewritten with other first bytes: the guess reads on where b.csv was left, the
    # receiver finds the file rewritten and reads it from the start.
    (folder / "b.csv").write_text(HEADER + rows(0, 9, hour=2))
    os.utime(folder / "b.csv", ns=(os.stat(folder / "a.csv").st_mtime_ns + 10**9,) * 2)  # b after a
    counts.update(worker=0, taken=0)
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == sorted(expected(0, 5) + expected(0, 3, hour=1) + expected(0, 9, hour=2))
    assert counts["worker"] == 1 and counts["taken"] == 0  # the guess for b.csv was made, and left
