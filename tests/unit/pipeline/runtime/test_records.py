"""The record receivers' common half: batches from plain values, through transforms, into the
historian under batch keys, with markers and a stream's state in the catalog."""

from __future__ import annotations

import datetime
import decimal
import threading

import numpy as np
import pytest

from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from edge.pipeline.runtime.records import (RecordStore, StreamBlocked, batch_from_columns, column_array,
                                           first_timestamp_field, record_streams)
from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts

T0 = datetime.datetime(2024, 3, 1, 12, 0, 0)
T0_NS = 1709294400 * 10**9


@pytest.fixture
def parts(tmp_path):
    parts = PipelineParts(tmp_path)
    yield parts
    parts.close()


def store_for(parts, transforms=(), streams=None):
    config = {"data_receiver_name": "db_1", "protocol": "sql",
              "streams": streams or [{"asset": "press", "stream_type": "cycle"}]}
    full = {"data_receiver": [config], "transforms": list(transforms), "data_transmit": []}
    context = ComponentContext(parts.ports, "db_1", RECEIVER, config, full, threading.Event())
    return RecordStore(context, record_streams(config, full))


def test_columns_take_the_kind_of_their_values():
    assert column_array([1, 2, None]).tolist()[:2] == [1.0, 2.0] and np.isnan(column_array([1, None])[1])
    assert column_array([1, 2]).dtype == np.int64
    assert column_array([decimal.Decimal("1.25"), 2]).tolist() == [1.25, 2.0]
    assert column_array([True, False]).tolist() == [True, False]
    assert column_array(["a", None, 3]).tolist() == ["a", "", "3"]
    aware = datetime.datetime(2024, 3, 1, 13, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert column_array([T0, aware]).view(np.int64).tolist() == [T0_NS, T0_NS]
    assert column_array([datetime.date(2024, 3, 1)]).view(np.int64).tolist() == [T0_NS - 12 * 3600 * 10**9]
    assert column_array([b"\x01\xff"]).tolist() == ["01ff"]


def test_a_batch_goes_through_transforms_into_the_historian_once_per_key(parts):
    store = store_for(parts, transforms=[{"transform_name": "r", "transform_type": "rename", "filter_stream": ["*"],
                                          "renames": {"speed": "rpm"}}])
    stream = store.streams[0]
    batch = batch_from_columns("press", "cycle", {"ts": [T0, T0 + datetime.timedelta(seconds=1)],
                                                  "speed": [10, 11], "note": ["a", "b"]}, "ts")
    assert first_timestamp_field(batch) == "ts"
    key = store.batch_key(stream, '{"id": 0}')
    assert key == store.batch_key(stream, '{"id": 0}') != store.batch_key(stream, '{"id": 2}')
    assert store.store(stream, batch, key) == 2
    assert store.store(stream, batch, key) == 2  # the same batch again: the historian skips it
    assert parts.points("press:cycle:rpm") == [(T0_NS, 10.0), (T0_NS + 10**9, 11.0)]
    assert parts.tags() == ["press:cycle:rpm"]


def test_a_batch_without_time_is_blocked_with_a_config_marker_cleared_by_a_good_one(parts):
    store = store_for(parts)
    stream = store.streams[0]
    with pytest.raises(StreamBlocked):
        store.store(stream, batch_from_columns("press", "cycle", {"speed": [1]}, None), "k1")
    assert parts.markers_of("press", "cycle")["config"][0] == "error"
    store.store(stream, batch_from_columns("press", "cycle", {"ts": [T0], "speed": [1]}, "ts"), "k2")
    assert "config" not in parts.markers_of("press", "cycle")


def test_a_stream_whose_transforms_cannot_be_built_reports_it(parts):
    store = store_for(parts, transforms=[{"transform_name": "x", "transform_type": "nope", "filter_stream": ["*"]}])
    assert store.streams[0].problem
    store.report_problems()
    assert "nope" in parts.markers_of("press", "cycle")["config"][1]


def test_state_round_trips_through_the_catalog(parts):
    store = store_for(parts)
    stream = store.streams[0]
    assert store.load_state(stream, "query") is None
    store.save_state(stream, "query", {"id": 41})
    assert store_for(parts).load_state(stream, "query") == {"id": 41}
