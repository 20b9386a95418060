"""The historian sink and the stream flow: which fields become which points, and which
parser and transforms a stream gets."""

from __future__ import annotations

import numpy as np
import pytest

from edge.pipeline.batch import TEXT, RecordBatch
from edge.pipeline.runtime.historian_sink import HistorianSink
from edge.pipeline.runtime.streamflow import FlowConfigError, StreamFlow, stream_matches
from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts

T0 = np.datetime64("2024-01-01T00:00:00", "ns")


@pytest.fixture
def app(tmp_path):
    parts = PipelineParts(tmp_path)
    yield parts
    parts.close()


def test_numeric_and_boolean_fields_become_points_at_the_record_time(app):
    times = np.array([T0, T0 + np.timedelta64(1, "s"), np.datetime64("NaT", "ns")])
    batch = RecordBatch("oven", "temp", {"ts": times, "t": np.array([1.5, np.nan, 3.0]),
                                         "on": np.array([True, False, True]), "n": np.array([7, 8, 9]),
                                         "label": np.array(["a", "b", "c"], dtype=TEXT),
                                         "seen": times}, "ts")
    warnings = []
    stored = HistorianSink(app.historian, app.ports.historian_table).deliver(batch, "key-1", warnings.append)
    assert stored == 5  # NaN and the record without time store nothing
    base = int(T0.astype(np.int64))
    assert app.points("oven:temp:t") == [(base, 1.5)]
    assert app.points("oven:temp:on") == [(base, 1.0), (base + 10**9, 0.0)]
    assert app.points("oven:temp:n") == [(base, 7.0), (base + 10**9, 8.0)]
    assert app.tags() == ["oven:temp:n", "oven:temp:on", "oven:temp:t"]
    assert warnings == ["1 record(s) of oven:temp have no value in timestamp field 'ts' and were not stored "
                        "in the historian"]


def test_infinite_values_are_not_stored_and_raise_a_warning_with_their_count(app):
    # a CSV cell 1e999 or inf parses as infinity, which the store refuses (it reads back as null)
    times = np.array([T0, T0 + np.timedelta64(1, "s"), T0 + np.timedelta64(2, "s")])
    batch = RecordBatch("oven", "temp", {"ts": times, "t": np.array([1.5, np.inf, -np.inf]),
                                         "p": np.array([np.inf, 2.0, np.nan])}, "ts")
    warnings = []
    stored = HistorianSink(app.historian, app.ports.historian_table).deliver(batch, "key-inf", warnings.append)
    base = int(T0.astype(np.int64))
    assert stored == 2
    assert app.points("oven:temp:t") == [(base, 1.5)]
    assert app.points("oven:temp:p") == [(base + 10**9, 2.0)]
    assert warnings == ["3 infinite value(s) of oven:temp were not stored in the historian"]


def test_tag_names_too_long_for_the_table_are_skipped_with_a_warning(app):
    field = "x" * 90
    batch = RecordBatch("a", "b", {"ts": np.array([T0]), field: np.array([1.0]), "ok": np.array([2.0])}, "ts")
    warnings = []
    HistorianSink(app.historian, app.ports.historian_table).deliver(batch, "key-2", warnings.append)
    assert app.tags() == ["a:b:ok"]
    assert warnings and "longer than 80 bytes" in warnings[0]


def test_a_batch_without_a_time_field_is_a_config_error(app):
    batch = RecordBatch("a", "b", {"v": np.array([1.0])})
    with pytest.raises(FlowConfigError, match="no timestamp field"):
        HistorianSink(app.historian, app.ports.historian_table).deliver(batch, "key-3", lambda text: None)


def test_filter_stream_picks_the_parser_and_the_transforms():
    assert stream_matches(["press:*"], "press:cycle") and not stream_matches(["press:*"], "oven:cycle")
    assert stream_matches(None, "x:y") and stream_matches("*:cycle", "oven:cycle")
    parsers = [{"parser_name": "only_oven", "parser_type": "spreadsheet", "filter_stream": ["oven:*"]},
               {"parser_name": "rest", "parser_type": "spreadsheet", "filter_stream": ["*"],
                "options": {"parse": {"separator": ";"}}}]
    transforms = [{"transform_name": "r", "transform_type": "rename", "filter_stream": ["*:cycle"],
                   "renames": {"a": "b"}},
                  {"transform_name": "f", "transform_type": "filter", "filter_stream": ["oven:*"],
                   "conditions": [{"field": "a", "operator": ">", "value": 1}]}]
    flow = StreamFlow("press", "cycle", parsers, transforms)
    assert flow.parser.name == "rest" and flow.parser.separator == ord(";")
    assert [name for name, _ in flow.transforms] == ["r"]
    assert StreamFlow("oven", "cycle", parsers, transforms).parser.name == "only_oven"
    with pytest.raises(FlowConfigError, match="no parser"):
        StreamFlow("press", "cycle", parsers[:1], [])
    with pytest.raises(FlowConfigError, match="transform 'bad'"):
        StreamFlow("press", "cycle", parsers, [{"transform_name": "bad", "transform_type": "rename",
                                                 "filter_stream": ["*"], "renames": {}}])
