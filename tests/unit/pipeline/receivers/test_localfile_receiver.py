"""The localfile receiver (and the file-receiver core) driven pass by pass on real files,
the real catalog and the real tag store."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest

from edge.pipeline.runtime.historian_sink import HistorianSink
from edge.pipeline.receivers.filecore.settle import Settler
from tests.unit.pipeline.receivers.pipeline_parts import receiver_config, start_receiver

NY = ZoneInfo("America/New_York")


def ns(moment: dt.datetime) -> int:
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) / dt.timedelta(microseconds=1)) * 1000


def rows(start: int, count: int, hour: int = 0) -> str:
    return "".join(f"2024-03-10 {hour:02d}:{i // 60:02d}:{i % 60:02d},{i * 1.5},{i},r{i}\n"
                   for i in range(start, start + count))


HEADER = "timestamp,temp,count,label\n"


def expected(start: int, count: int, hour: int = 0, tz=dt.timezone.utc) -> list[tuple[int, float]]:
    return [(ns(dt.datetime(2024, 3, 10, hour, i // 60, i % 60, tzinfo=tz)), i * 1.5) for i in range(start, start + count)]


def test_a_file_lands_in_the_historian_with_exact_values_and_local_times(parts, tmp_path):
    app = parts()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(HEADER + rows(0, 3, hour=1) + "2024-03-10 03:30:00,-2.25,7,dst\n")
    runtime = start_receiver(app, receiver_config(root=tmp_path / "in", localtz="America/New_York"))
    result = runtime.poll()
    assert (result.records_in, result.records_out) == (4, 4)
    assert app.tags() == ["press:cycle:count", "press:cycle:temp"]  # text is not stored in the historian
    # 01:00 is EST (UTC-5); 03:30 is EDT (UTC-4), the clocks went forward at 02:00 that night.
    assert app.points("press:cycle:temp") == expected(0, 3, hour=1, tz=NY) + [
        (ns(dt.datetime(2024, 3, 10, 7, 30, tzinfo=dt.timezone.utc)), -2.25)]
    assert app.points("press:cycle:count")[-1] == (ns(dt.datetime(2024, 3, 10, 7, 30, tzinfo=dt.timezone.utc)), 7.0)
    assert app.markers_of("press", "cycle") == {}


def test_new_and_grown_files_are_read_on_and_nothing_twice(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    runtime = start_receiver(app, receiver_config(root=folder))
    assert runtime.poll().records_in == 2
    with open(folder / "a.csv", "a") as handle:
        handle.write(rows(2, 3))
    (folder / "b.csv").write_text(HEADER + rows(100, 2))
    (folder / "notes.txt").write_text("not for this stream\n")
    assert runtime.poll().records_in == 5
    assert runtime.poll().records_in == 0
    assert app.points("press:cycle:temp") == expected(0, 5) + expected(100, 2)


def test_a_rewritten_file_is_read_again_from_its_start(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    runtime = start_receiver(app, receiver_config(root=folder))
    runtime.poll()
    (folder / "a.csv").write_text(HEADER + rows(10, 1))  # shorter: a new file under the old name
    assert runtime.poll().records_in == 1
    assert app.points("press:cycle:temp") == expected(0, 3) + expected(10, 1)


def test_many_files_in_subfolders(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    for index in range(40):
        sub = folder / f"day{index % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{index}.csv").write_text(HEADER + rows(index * 10, 10))
    runtime = start_receiver(app, receiver_config(root=folder))
    assert runtime.poll().records_in == 400
    assert app.points("press:cycle:temp") == sorted(p for i in range(40) for p in expected(i * 10, 10))


def test_bad_lines_raise_a_marker_that_a_clean_file_clears(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2) + "2024-03-10 00:00:09,1,2,x,extra\nlater,1,2,x\n" + rows(2, 1))
    os.utime(folder / "a.csv", ns=(1, 1_000_000_000))  # oldest first
    runtime = start_receiver(app, receiver_config(root=folder))
    assert runtime.poll().records_out == 3
    level, message = app.markers_of("press", "cycle")["parse"]
    assert level == "warning"
    assert "a.csv: 2 bad line(s) skipped" in message and "line 4: expected 4 fields, saw 5" in message
    (folder / "b.csv").write_text(HEADER + rows(5, 1))
    runtime.poll()
    assert "parse" not in app.markers_of("press", "cycle")


def test_a_cell_that_is_no_number_skips_only_itself_with_a_marker_naming_the_file(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    lines = rows(0, 2) + "2024-03-10 00:00:02,x,2,r2\n" + rows(3, 3)
    (folder / "a.csv").write_text(HEADER + lines)
    runtime = start_receiver(app, receiver_config(root=folder))
    assert runtime.poll().records_out == 6
    assert app.points("press:cycle:temp") == expected(0, 2) + expected(3, 3)
    assert app.points("press:cycle:count") == [(t, float(i)) for i, (t, _) in enumerate(expected(0, 6))]
    assert app.markers_of("press", "cycle")["parse"] == (
        "warning", f"{folder}/a.csv: 1 value(s) that are not numbers skipped; Row 4: cannot parse 'x' as a number in temp")

    # A logger's file read as it grows: a new line alone with a broken reading is still a
    # number column with a bad cell (it was numeric in this file), not a text column.
    with open(folder / "a.csv", "a") as handle:
        handle.write("2024-03-10 00:00:06,ERR,6,r6\n2024-03-10 00:00:07,#VALUE!,7,r7\n")
    assert runtime.poll().records_out == 2
    assert app.points("press:cycle:temp") == expected(0, 2) + expected(3, 3)
    assert app.points("press:cycle:count")[-2:] == [(t, float(i)) for i, (t, _) in enumerate(expected(0, 8))][-2:]
    assert app.markers_of("press", "cycle")["parse"] == (
        "warning", f"{folder}/a.csv: 2 value(s) that are not numbers skipped; Row 8: cannot parse 'ERR' as a "
                   "number in temp; Row 9: cannot parse '#VALUE!' as a number in temp")
    (folder / "b.csv").write_text(HEADER + rows(10, 1))
    runtime.poll()
    assert "parse" not in app.markers_of("press", "cycle")


@pytest.mark.parametrize("action, level", [("error", "error"), ("skip", None)])
def test_bad_lines_action_sets_the_marker_level(parts, tmp_path, action, level):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + "x,1,2,3,4\n" + rows(0, 1))
    parse = {"parse_timestamps": [{"field_name": "timestamp", "format": "%Y-%m-%d %H:%M:%S"}],
             "bad_lines_action": action}
    start_receiver(app, receiver_config(root=folder, parse=parse)).poll()
    assert app.markers_of("press", "cycle").get("parse", (None,))[0] == level
    assert app.points("press:cycle:temp") == expected(0, 1)


def test_delete_completed_removes_a_file_once_every_stream_has_read_it(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    (folder / "keep.txt").write_text("other\n")
    streams = [{"asset": "press", "stream_type": "cycle", "file_filter": ["*.csv"]},
               {"asset": "press", "stream_type": "copy", "file_filter": ["a.*"]}]
    runtime = start_receiver(app, receiver_config(root=folder, streams=streams, delete_completed=True))
    runtime.poll()
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
    assert app.points("press:copy:temp") == app.points("press:cycle:temp") == expected(0, 2)
    assert app.receiver_state.all_for_stream("line_1", "press", "cycle") == {}


def test_delete_completed_keeps_a_file_a_blocked_stream_has_not_read(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    config = receiver_config(root=folder, delete_completed=True,
                             streams=[{"asset": "press", "stream_type": "cycle", "file_filter": ["*.csv"]},
                                      {"asset": "oven", "stream_type": "temp", "file_filter": ["*.csv"]}])
    config["parsers"][0]["filter_stream"] = ["press:*"]  # no parser for oven:temp
    start_receiver(app, config).poll()
    assert (folder / "a.csv").exists()
    assert app.markers_of("oven", "temp")["config"][0] == "error"
    assert app.points("press:cycle:temp") == expected(0, 2)


def test_a_restarted_receiver_reads_nothing_twice(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    start_receiver(app, receiver_config(root=folder)).poll()
    again = start_receiver(app, receiver_config(root=folder))
    assert again.poll().records_in == 0
    assert app.points("press:cycle:temp") == expected(0, 3)


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs (BaseException passes every except Exception)."""


def crashing_sink(sink: HistorianSink, after_store: bool, on_call: int = 1):
    calls = {"n": 0}
    deliver = sink.deliver

    def wrapped(batch, key, warn):
        calls["n"] += 1
        if calls["n"] == on_call:
            if after_store:
                deliver(batch, key, warn)
            raise Crash()
        return deliver(batch, key, warn)

    sink.deliver = wrapped


@pytest.mark.parametrize("on_call", [1, 3])
def test_a_crash_before_the_historian_stores_a_chunk_loses_nothing(parts, tmp_path, on_call):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 50))
    runtime = start_receiver(app, receiver_config(root=folder))
    runtime.chunk_bytes = 256  # several chunks
    crashing_sink(runtime.sink, after_store=False, on_call=on_call)
    with pytest.raises(Crash):
        runtime.poll()
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == expected(0, 50)


@pytest.mark.parametrize("on_call", [1, 4])
def test_a_crash_after_the_historian_stored_a_chunk_stores_nothing_twice(parts, tmp_path, on_call):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 50))
    runtime = start_receiver(app, receiver_config(root=folder))
    runtime.chunk_bytes = 256
    crashing_sink(runtime.sink, after_store=True, on_call=on_call)
    with pytest.raises(Crash):
        runtime.poll()
    with open(folder / "a.csv", "a") as handle:  # the file grows while the receiver is down
        handle.write(rows(50, 5))
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == expected(0, 55)


def test_stop_between_chunks_resumes_where_it_stopped(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 60))
    runtime = start_receiver(app, receiver_config(root=folder))
    runtime.chunk_bytes = 200
    deliver = runtime.sink.deliver

    def stop_after_two(batch, key, warn, calls=[]):
        calls.append(1)
        if len(calls) == 2:
            runtime.context.stop.set()
        return deliver(batch, key, warn)

    runtime.sink.deliver = stop_after_two
    first = runtime.poll().records_in
    assert 0 < first < 60
    rest = start_receiver(app, receiver_config(root=folder)).poll().records_in
    assert first + rest == 60
    assert app.points("press:cycle:temp") == expected(0, 60)


def test_restream_reads_the_files_again(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 3))
    start_receiver(app, receiver_config(root=folder)).poll()
    app.receiver_state.purge_stream("line_1", "press", "cycle")  # what /v1/restream does
    assert start_receiver(app, receiver_config(root=folder)).poll().records_in == 3
    assert app.points("press:cycle:temp") == expected(0, 3)  # the same bytes: the same batch keys


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_file_being_written_is_read_only_once_it_settles(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    runtime = start_receiver(app, receiver_config(root=folder))
    clock = FakeClock()
    runtime.settlers = [Settler(settle_seconds=1.0, growing_after_seconds=60, monotonic=clock)]
    path = folder / "a.csv"
    path.write_text(HEADER + rows(0, 2) + "2024-03-10 00:00:02,3.")
    assert runtime.poll().records_in == 0  # first sight, just written
    clock.now += 0.5
    with open(path, "a") as handle:
        handle.write("0,2,r2")
    assert runtime.poll().records_in == 0  # changed since the last listing
    clock.now += 1.5
    assert runtime.poll().records_in == 3  # unchanged for 1.5 s: read to the end, unterminated line too
    assert app.points("press:cycle:temp") == expected(0, 3)


def test_a_file_growing_for_long_has_its_whole_lines_read(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    runtime = start_receiver(app, receiver_config(root=folder))
    clock = FakeClock()
    runtime.settlers = [Settler(settle_seconds=5.0, growing_after_seconds=10, monotonic=clock)]
    path = folder / "a.csv"
    path.write_text(HEADER)
    for step in range(4):
        with open(path, "a") as handle:
            handle.write(rows(step, 1) + ("2024-03-10 00:00:0" if step == 3 else ""))
        os.utime(path)
        runtime.poll()
        clock.now += 4
    assert app.points("press:cycle:temp") == expected(0, 4)  # never the half-written last line


def test_an_unreachable_folder_raises_a_marker_and_is_retried(parts, tmp_path):
    app = parts()
    folder = tmp_path / "later"
    good = tmp_path / "good"
    good.mkdir()
    (good / "g.csv").write_text(HEADER + rows(0, 1))
    runtime = start_receiver(app, receiver_config(root=folder))
    other = start_receiver(app, receiver_config(name="line_2", root=good,
                                                streams=[{"asset": "oven", "stream_type": "t"}]))
    assert runtime.poll().records_in == 0
    other.poll()
    level, message = app.markers_of("press", "cycle")["connection"]
    assert level == "error" and "does not exist" in message
    assert app.points("oven:t:temp") == expected(0, 1)  # another receiver is unaffected
    runtime.poll()
    assert app.markers.for_stream("press", "cycle")[0].occurrences == 2  # repeats merge into one marker
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    assert runtime.poll().records_in == 2
    assert "connection" not in app.markers_of("press", "cycle")


def test_one_missing_connection_does_not_stop_the_others(parts, tmp_path):
    app = parts()
    good = tmp_path / "good"
    good.mkdir()
    (good / "a.csv").write_text(HEADER + rows(0, 2))
    config = receiver_config(connections=[{"root_path": str(tmp_path / "gone")}, {"data_directory": str(good)}])
    start_receiver(app, config).poll()
    assert app.points("press:cycle:temp") == expected(0, 2)
    assert "gone" in app.markers_of("press", "cycle")["connection"][1]


def test_transforms_apply_to_the_streams_their_filter_matches(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    streams = [{"asset": "press", "stream_type": "cycle"}, {"asset": "oven", "stream_type": "cycle"}]
    transforms = [{"transform_name": "t_rename", "transform_type": "rename", "filter_stream": ["press:*"],
                   "renames": {"temp": "temperature"}},
                  {"transform_name": "t_filter", "transform_type": "filter", "filter_stream": ["*:cycle"],
                   "conditions": [{"field": "count", "operator": ">=", "value": 1}]}]
    start_receiver(app, receiver_config(root=folder, streams=streams), transforms).poll()
    assert app.tags() == ["oven:cycle:count", "oven:cycle:temp", "press:cycle:count", "press:cycle:temperature"]
    assert app.points("press:cycle:temperature") == app.points("oven:cycle:temp") == expected(1, 1)


def test_records_without_a_timestamp_field_wait_for_the_configuration(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    config = receiver_config(root=folder, parse={})
    assert start_receiver(app, config).poll().records_out == 0
    level, message = app.markers_of("press", "cycle")["config"]
    assert level == "error" and "no timestamp field" in message
    convert = {"transform_name": "ts", "transform_type": "convert_timestamps", "filter_stream": ["*"],
               "field_names": ["timestamp"], "format": "%Y-%m-%d %H:%M:%S"}
    start_receiver(app, config, [convert]).poll()  # the file was not given up: it is read now
    assert app.points("press:cycle:temp") == expected(0, 2)
    assert "config" not in app.markers_of("press", "cycle")


def test_records_with_an_empty_time_are_skipped_with_a_warning(parts, tmp_path):
    app = parts()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 1) + ",9,9,none\n")
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp") == expected(0, 1)
    assert "1 record(s) of press:cycle have no value" in app.markers_of("press", "cycle")["historian"][1]


def test_the_historian_table_setting_names_the_table(parts, tmp_path):
    app = parts(HISTORIAN_TABLE="plant_data")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(HEADER + rows(0, 2))
    start_receiver(app, receiver_config(root=folder)).poll()
    assert app.points("press:cycle:temp", table="PLANT_DATA") == expected(0, 2)
    assert app.store.table("TAG").tag_names() == []
