"""The transforms on columnar batches: rename, filter, replicate, convert_timestamps, checksum_record."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from edge.pipeline.batch import TEXT, RecordBatch
from edge.pipeline.transforms.checksum_record.transform import ChecksumRecordTransform
from edge.pipeline.transforms.convert_timestamps.transform import ConvertTimestampsTransform
from edge.pipeline.transforms.filter.transform import FilterTransform
from edge.pipeline.transforms.rename.transform import RenameTransform
from edge.pipeline.transforms.replicate.transform import ReplicateTransform

T0 = np.datetime64("2024-01-01T00:00:00", "ns")


def batch(time_field="ts", **fields) -> RecordBatch:
    arrays = {name: (np.array(values, dtype=TEXT) if len(values) and isinstance(values[0], str) else np.array(values))
              for name, values in fields.items()}
    return RecordBatch("press", "cycle", arrays, time_field if time_field in arrays else None)


class Warnings(list):
    def __call__(self, text):
        self.append(text)


def test_rename_swaps_overwrites_and_follows_the_time_field():
    b = batch(ts=[T0, T0], a=[1, 2], b=["x", "y"], c=[0.5, 0.25])
    out = RenameTransform({"renames": {"a": "b", "b": "a", "ts": "time", "c": "a_dup"}}).apply(b, Warnings())
    assert list(out.fields) == ["time", "b", "a", "a_dup"]
    assert out.fields["b"].tolist() == [1, 2] and out.fields["a"].tolist() == ["x", "y"]
    assert out.time_field == "time"
    overwritten = RenameTransform({"renames": {"c": "b"}}).apply(b, Warnings())
    assert list(overwritten.fields) == ["ts", "a", "b"] and overwritten.fields["b"].tolist() == [0.5, 0.25]


def test_filter_compares_numbers_text_booleans_and_null():
    b = batch(ts=[T0] * 4, temp=[19.5, 20.0, np.nan, 25.0], state=["run", "stop", "run", ""],
              ok=["true", "False", "1", "no"])
    def kept(conditions, match="all"):
        out = FilterTransform({"conditions": conditions, "match": match}).apply(b, Warnings())
        return out.fields["state"].tolist()
    assert kept([{"field": "temp", "operator": ">=", "value": 20}]) == ["stop", ""]
    assert kept([{"field": "state", "operator": "==", "value": "run"}]) == ["run", "run"]
    assert kept([{"field": "temp", "operator": "!=", "value": 20}]) == ["run", ""]  # missing temp fails
    assert kept([{"field": "state", "operator": "==", "value": None}]) == [""]
    assert kept([{"field": "state", "operator": "!=", "value": None}]) == ["run", "stop", "run"]
    assert kept([{"field": "ok", "operator": "==", "value": True}]) == ["run", "run"]
    assert kept([{"field": "ok", "operator": "==", "value": False}]) == ["stop", ""]
    assert kept([{"field": "temp", "operator": "<", "value": 20}, {"field": "temp", "operator": ">", "value": 24}],
                match="any") == ["run", ""]
    assert kept([{"field": "state", "operator": ">", "value": 1}]) == []  # text is not a number
    assert kept([{"field": "temp", "operator": "==", "value": "20.0"}]) == ["stop"]  # a number as text
    assert kept([{"field": "nope", "operator": "==", "value": 1}]) == []


def test_filter_on_timestamps_reads_the_value_as_iso_time():
    b = batch(ts=[T0, T0 + np.timedelta64(2, "h")], v=[1, 2])
    out = FilterTransform({"conditions": [{"field": "ts", "operator": ">", "value": "2024-01-01T01:00:00+00:00"}]}
                          ).apply(b, Warnings())
    assert out.fields["v"].tolist() == [2]


def test_filter_refuses_ordering_with_booleans():
    with pytest.raises(ValueError):
        FilterTransform({"conditions": [{"field": "a", "operator": "<", "value": True}]})


def test_replicate_copies_from_the_incoming_record_and_sets_constants():
    b = batch(ts=[T0, T0], temp=[1.5, 2.5], line=["a", "b"])
    out = ReplicateTransform({"copy_fields": {"raw_temp": "temp", "temp": "line", "ghost": "missing"},
                              "constant_fields": {"site": "L1", "shift": 3, "ratio": 0.5, "flag": True,
                                                  "none": None}}).apply(b, Warnings())
    assert out.fields["raw_temp"].tolist() == [1.5, 2.5] and out.fields["temp"].tolist() == ["a", "b"]
    assert "ghost" not in out.fields
    assert out.fields["site"].tolist() == ["L1", "L1"] and out.fields["shift"].dtype == np.int64
    assert out.fields["ratio"].tolist() == [0.5, 0.5] and out.fields["flag"].tolist() == [True, True]
    assert out.fields["none"].tolist() == ["", ""]


def test_convert_timestamps_with_format_timezone_and_unit():
    b = batch(time_field=None, local=["2024-07-01 08:00", "2024-01-01 08:00"], epoch_ms=[1704067200000, 0],
              secs=["1704067200.5", ""])
    warnings = Warnings()
    out = ConvertTimestampsTransform({"field_names": ["local"], "timezone": "America/New_York",
                                      "format": "%Y-%m-%d %H:%M"}).apply(b, warnings)
    assert out.fields["local"].astype("datetime64[s]").astype(str).tolist() == ["2024-07-01T12:00:00",
                                                                                   "2024-01-01T13:00:00"]
    assert out.time_field == "local"
    out = ConvertTimestampsTransform({"field_name": "epoch_ms", "unit": "ms"}).apply(out, warnings)
    assert out.fields["epoch_ms"].view(np.int64).tolist() == [1704067200000 * 10**6, 0]
    assert out.time_field == "local"  # the first converted field stays the record time
    out = ConvertTimestampsTransform({"field_names": "secs"}).apply(out, warnings)
    assert out.fields["secs"].view(np.int64)[0] == 1704067200500000000 and np.isnat(out.fields["secs"][1])
    assert warnings == []


def test_convert_timestamps_warns_and_keeps_fields_it_cannot_convert():
    b = batch(time_field=None, when=["2024-01-01T00:00:00", "soon"], label=["a", "b"])
    warnings = Warnings()
    out = ConvertTimestampsTransform({"field_names": ["when", "label"]}).apply(b, warnings)
    assert out.fields["when"].astype(str).tolist() == ["2024-01-01T00:00:00.000000000", "NaT"]
    assert out.fields["label"].tolist() == ["a", "b"]  # nothing converted: left as it was
    assert len(warnings) == 2 and "'soon'" in warnings[0] and "left as it was" in warnings[1]


def test_checksum_is_the_digest_of_the_records_json():
    b = batch(ts=[T0 + np.timedelta64(123456, "us"), T0], temp=[20.5, np.nan], count=[1, 2],
              label=['quo"te\n', "Zürich"], ok=np.array([True, False]))
    out = ChecksumRecordTransform({"field_name": "sum", "algorithm": "sha1"}).apply(b, Warnings())
    records = [
        {"ts": "2024-01-01T00:00:00.123456+00:00", "temp": 20.5, "count": 1, "label": 'quo"te\n', "ok": True},
        {"ts": "2024-01-01T00:00:00+00:00", "temp": None, "count": 2, "label": "Zürich", "ok": False},
    ]
    expected = [hashlib.sha1(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                             .encode()).hexdigest() for r in records]
    assert out.fields["sum"].tolist() == expected
    only = ChecksumRecordTransform({"field_name": "sum", "fields": ["count", "absent"]}).apply(out, Warnings())
    assert only.fields["sum"][0] == hashlib.sha256(b'{"absent":null,"count":1}').hexdigest()


def test_checksum_escapes_control_characters_like_json():
    b = batch(time_field=None, text=["a\x01b\tc"])
    out = ChecksumRecordTransform({"field_name": "sum"}).apply(b, Warnings())
    assert out.fields["sum"][0] == hashlib.sha256(
        json.dumps({"text": "a\x01b\tc"}, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
