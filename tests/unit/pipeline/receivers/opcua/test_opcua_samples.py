"""OPC UA DataValues to samples and record batches; batch keys from content."""

import datetime as dt

import numpy as np
import pytest
from asyncua import ua

from edge.pipeline.receivers.opcua.options import Tag
from edge.pipeline.receivers.opcua.samples import (BAD, GOOD, UNCERTAIN, changes_batch, content_digest, read_batch,
                                                   sample_of)

T0 = dt.datetime(2024, 5, 1, 12, 0, 0)
T0_NS = 1714564800 * 10**9
TAGS = [Tag("ns=2;s=Speed", "speed"), Tag("Running", "running"), Tag("Recipe", "recipe")]


def value(v, source=T0, server=None, status=ua.StatusCodes.Good, vtype=None):
    return ua.DataValue(ua.Variant(v, vtype) if vtype else ua.Variant(v), StatusCode=ua.StatusCode(status),
                        SourceTimestamp=source, ServerTimestamp=server)


def test_a_sample_takes_the_source_time_else_the_server_time_else_the_time_received():
    assert sample_of(value(1.5), 7).time_ns == T0_NS
    assert sample_of(value(1.5, source=None, server=T0 + dt.timedelta(seconds=1)), 7).time_ns == T0_NS + 10**9
    assert sample_of(value(1.5, source=None), 7).time_ns == 7
    aware = dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert sample_of(value(1.5, source=aware), 7).time_ns == T0_NS


def test_a_sample_quality_comes_from_the_status_severity():
    good = sample_of(value(1), 0)
    assert (good.quality, good.status) == (GOOD, "Good")
    assert sample_of(value(1, status=ua.StatusCodes.UncertainLastUsableValue), 0).quality == UNCERTAIN
    bad = sample_of(value(None, status=ua.StatusCodes.BadSensorFailure), 0)
    assert (bad.quality, bad.status) == (BAD, "BadSensorFailure")


def test_values_keep_their_kind_texts_and_arrays_become_text():
    assert sample_of(value(ua.LocalizedText("warm"), vtype=ua.VariantType.LocalizedText), 0).value == "warm"
    assert sample_of(value([1.0, 2.0], vtype=ua.VariantType.Double), 0).value == "[1.0, 2.0]"
    assert sample_of(value(True), 0).value is True
    assert sample_of(value(ua.NodeId(5, 2)), 0).value == "ns=2;i=5"


def test_changes_become_one_record_each_holding_only_their_tag():
    samples = [(0, sample_of(value(10.0), 0)), (1, sample_of(value(True, source=T0 + dt.timedelta(seconds=1)), 0)),
               (0, sample_of(value(11.0, source=T0 + dt.timedelta(seconds=2)), 0)),
               (2, sample_of(value("r1", source=T0 + dt.timedelta(seconds=3)), 0))]
    batch = changes_batch("press", "cycle", TAGS, samples)
    assert batch.time_field == "timestamp"
    assert batch.fields["timestamp"].view(np.int64).tolist() == [T0_NS + i * 10**9 for i in range(4)]
    speed = batch.fields["speed"]
    assert speed[0] == 10.0 and speed[2] == 11.0 and np.isnan(speed[1]) and np.isnan(speed[3])
    assert np.isnan(batch.fields["running"][0]) and batch.fields["running"][1] == 1.0
    assert batch.fields["recipe"].tolist() == ["", "", "", "r1"]


def test_a_read_is_one_record_at_its_newest_time_without_bad_values():
    samples = [sample_of(value(10.0), 0), sample_of(value(True, source=T0 + dt.timedelta(seconds=5)), 0),
               sample_of(value(None, source=T0 + dt.timedelta(seconds=9), status=ua.StatusCodes.BadNoCommunication),
                         0)]
    batch = read_batch("press", "cycle", TAGS, samples)
    assert batch.fields["timestamp"].view(np.int64).tolist() == [T0_NS + 5 * 10**9]
    assert sorted(batch.fields) == ["running", "speed", "timestamp"]
    assert read_batch("press", "cycle", TAGS, [None, None, samples[2]]) is None


def test_the_content_digest_is_the_same_for_the_same_samples_only():
    def digest(v, seconds=0):
        return content_digest(changes_batch("press", "cycle", TAGS,
                                            [(0, sample_of(value(v, source=T0 + dt.timedelta(seconds=seconds)), 0))]))
    assert digest(1.0) == digest(1.0)
    assert len({digest(1.0), digest(2.0), digest(1.0, 1)}) == 3


def test_changes_at_one_time_share_a_record_and_a_tag_twice_at_one_time_makes_two():
    at = T0 + dt.timedelta(seconds=1)
    samples = [(0, sample_of(value(1.0, source=at), 0)), (1, sample_of(value(False, source=at), 0)),
               (0, sample_of(value(2.0, source=at), 0)), (2, sample_of(value("r", source=T0), 0))]
    batch = changes_batch("press", "cycle", TAGS, samples)
    assert batch.fields["timestamp"].view(np.int64).tolist() == [T0_NS + 10**9, T0_NS + 10**9, T0_NS]
    assert batch.fields["speed"].tolist() == [1.0, 2.0, pytest.approx(np.nan, nan_ok=True)]
    assert batch.fields["running"][0] == 0.0 and np.isnan(batch.fields["running"][1:]).all()
    assert batch.fields["recipe"].tolist() == ["", "", "r"]
