"""The outbox: durable appends, idempotent per batch key, sending in order with a crash-safe
cursor, the OUTBOX_MAX_BYTES bound with its loss record, and the columnar encoding."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from edge.catalog import Catalog
from edge.catalog.markers import Markers
from edge.pipeline.batch import RecordBatch
from edge.pipeline.outbox.encoding import decode_batch, dumps, encode_batch, field_values, piece
from edge.pipeline.outbox.outbox import Outbox
from edge.pipeline.outbox.outboxes import Outboxes, folder_name
from edge.pipeline.outbox.segments import segment_numbers
from edge.time.textfields import TEXT

SECOND = 10**9
T0 = np.datetime64("2024-05-01T00:00:00", "ns").astype(np.int64)


def batch(start: int, count: int, asset: str = "press", stream_type: str = "cycle") -> RecordBatch:
    index = np.arange(start, start + count)
    return RecordBatch(asset, stream_type, {
        "timestamp": (T0 + index * SECOND).astype("datetime64[ns]"),
        "count": index.astype(np.int64),
        "label": np.array([f"r{i}" for i in index], dtype=TEXT),
    }, "timestamp")


def drain(outbox: Outbox, max_records: int = 1000, max_bytes: int = 1 << 22) -> list[dict]:
    pieces = []
    while (take := outbox.take(max_records, max_bytes)) is not None:
        pieces.extend(take.pieces)
        outbox.confirm(take)
    return pieces


def counts(pieces, asset="press", stream_type="cycle") -> list[int]:
    return [int(v) for p in pieces if (p["asset"], p["stream_type"]) == (asset, stream_type)
            for v in p["fields"]["count"]]


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "outbox"


def test_batches_come_out_in_order_in_slices_of_the_take_limits(folder):
    outbox = Outbox(folder, "cloud", 1 << 30)
    for start in range(0, 50, 10):
        assert outbox.append(batch(start, 10), f"key{start}") == 10
    assert outbox.status()["records_queued"] == 50
    take = outbox.take(25, 1 << 22)
    assert take.records == 25
    assert [p["batch_id"] for p in take.pieces] == ["key0:0-10", "key10:0-10", "key20:0-5"]
    outbox.confirm(take)
    rest = drain(outbox, max_records=7)
    assert rest[0]["batch_id"] == "key20:5-10"
    assert counts(take.pieces) + counts(rest) == list(range(50))
    status = outbox.status()
    assert (status["records_sent"], status["records_queued"], status["bytes_queued"]) == (50, 0, 0)
    assert status["last_success"] is not None and status["oldest_queued_record_time"] is None


def test_a_batch_key_is_queued_once_even_after_reopening_and_after_it_was_sent(folder):
    outbox = Outbox(folder, "cloud", 1 << 30)
    assert outbox.append(batch(0, 5), "k1") == 5
    assert outbox.append(batch(0, 5), "k1") == 0
    outbox.close()
    outbox = Outbox(folder, "cloud", 1 << 30)
    assert outbox.append(batch(0, 5), "k1") == 0  # still queued: found in the segment
    assert counts(drain(outbox)) == [0, 1, 2, 3, 4]
    assert outbox.append(batch(10, 1), "k2") == 1  # a new segment; the sent one is removed
    drain(outbox)
    outbox.close()
    outbox = Outbox(folder, "cloud", 1 << 30)
    assert outbox.append(batch(0, 5), "k1") == 0  # sent and removed: kept in keys.log
    assert outbox.append(batch(0, 5), "") == 5  # a restream (no key) is always queued
    assert outbox.append(batch(0, 5), "") == 5
    assert outbox.status()["records_queued"] == 10


def test_an_unconfirmed_take_is_taken_again_after_a_crash_with_the_same_batch_ids(folder):
    outbox = Outbox(folder, "cloud", 1 << 30)
    for start in range(0, 30, 10):
        outbox.append(batch(start, 10), f"key{start}")
    first = outbox.take(15, 1 << 22)
    outbox.confirm(first)
    lost_answer = outbox.take(10, 1 << 22)  # sent, but the answer never came: no confirm
    del outbox  # as after kill -9: nothing closed
    again = Outbox(folder, "cloud", 1 << 30)
    retried = again.take(10, 1 << 22)
    assert [p["batch_id"] for p in retried.pieces] == [p["batch_id"] for p in lost_answer.pieces] == [
        "key10:5-10", "key20:0-5"]
    assert again.status()["records_queued"] == 15
    again.confirm(retried)
    assert counts(first.pieces) + counts(retried.pieces) + counts(drain(again)) == list(range(30))


def test_a_torn_append_is_cut_off_and_the_rest_stays(folder):
    outbox = Outbox(folder, "cloud", 1 << 30)
    outbox.append(batch(0, 10), "a")
    outbox.append(batch(10, 10), "b")
    outbox.close()
    segment = sorted(folder.glob("seg-*.log"))[-1]
    size = segment.stat().st_size
    with open(segment, "ab") as handle:
        handle.write(b"\x10\x00\x00\x00\x00\x10\x00\x00garbage")  # a header and part of a frame
    reopened = Outbox(folder, "cloud", 1 << 30)
    assert segment.stat().st_size == size
    assert counts(drain(reopened)) == list(range(20))


def test_the_bound_drops_the_oldest_whole_segments_and_records_what_was_lost(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    markers = Markers(catalog)
    outboxes = Outboxes(tmp_path / "outbox", 1 << 20, markers, "device")  # 128 KiB segments
    outbox = outboxes.outbox("cloud")
    start = 0
    while start < 60_000:
        outbox.append(batch(start, 1000), f"k{start}")
        outbox.append(batch(start, 1000, asset="oven"), f"o{start}")
        start += 1000
    status = outbox.status()
    assert status["bytes_queued"] <= (1 << 20) + outbox.segment_bytes
    assert status["records_dropped"] > 0
    left = drain(outbox, max_records=5000)
    kept_press, kept_oven = counts(left), counts(left, "oven")
    assert kept_press == list(range(kept_press[0], 60_000))  # the newest, contiguous, in order
    assert kept_oven == list(range(kept_oven[0], 60_000))
    assert status["records_dropped"] == kept_press[0] + kept_oven[0]  # exactly the oldest
    marker = {m.asset: m for m in markers.every()}
    assert set(marker) == {"press", "oven"}
    press = marker["press"]
    assert (press.component, press.component_type, press.category, press.level) == (
        "cloud", "Transmit", "outbox", "error")
    assert f"{kept_press[0]} unsent record(s) of this stream were dropped" in press.message
    assert "recorded from 2024-05-01 00:00:00 to" in press.message
    losses = json.loads((outbox.folder / "losses.json").read_text())
    assert losses[json.dumps(["press", "cycle"])]["records"] == kept_press[0]
    outboxes.close()
    catalog.close()


def test_segments_roll_and_sent_segments_go(folder):
    outbox = Outbox(folder, "cloud", 1 << 20)  # 128 KiB segments
    for start in range(0, 20_000, 1000):
        outbox.append(batch(start, 1000), f"k{start}")
    assert len(segment_numbers(folder)) > 3
    assert counts(drain(outbox, max_records=3000)) == list(range(20_000))
    assert len(segment_numbers(folder)) <= 1


def test_every_kind_of_field_keeps_its_values():
    times = np.array([T0, T0 + 1500, np.iinfo(np.int64).min], dtype=np.int64).view("datetime64[ns]")
    record_batch = RecordBatch("a", "s", {
        "t": times,
        "x": np.array([1.5, np.nan, np.inf]),
        "n": np.array([1, -2, 3], dtype=np.int64),
        "ok": np.array([True, False, True]),
        "text": np.array(["é", "", "a,b"], dtype=TEXT),
    }, "t")
    meta, data = encode_batch(record_batch)
    assert (meta["n"], meta["t0"], meta["t1"]) == (3, int(T0), int(T0) + 1500)
    document = json.loads(dumps(piece("id", meta, decode_batch(data), 0, 3)))  # as sent
    assert document["batch_id"] == "id:0-3" and (document["asset"], document["stream_type"]) == ("a", "s")
    assert document["kinds"] == {"t": "timestamp", "x": "number", "n": "number", "ok": "boolean", "text": "text"}
    assert document["fields"] == {
        "t": ["2024-05-01T00:00:00.000000000Z", "2024-05-01T00:00:00.000001500Z", None],
        "x": [1.5, None, None], "n": [1, -2, 3], "ok": [True, False, True], "text": ["é", "", "a,b"]}
    assert document["time_field"] == "t"
    assert json.loads(dumps(piece("id", meta, decode_batch(data), 0, 1)))["fields"]["t"] == [
        "2024-05-01T00:00:00.000000Z"]  # microseconds when exact
    assert piece("id", meta, decode_batch(data), 1, 3)["fields"]["text"] == ["", "a,b"]
    assert json.loads(dumps(piece("id", meta, decode_batch(data), 1, 3)))["fields"]["x"] == [None, None]
    with pytest.raises(ValueError):
        decode_batch(data[:-1])


def test_times_are_written_as_numpy_writes_them():
    # whole microseconds, none missing: the fast path, checked against numpy's own text
    stamps = np.sort(np.random.default_rng(7).integers(0, 2 ** 62, 5000)) // 1000 * 1000
    stamps = np.concatenate([[0, 951_782_400_000_000_000], stamps]).astype("datetime64[ns]")  # 1970, 2000-02-29
    sent = json.loads(dumps({"t": field_values(stamps, "timestamp")}))["t"]
    assert sent == np.datetime_as_string(stamps.astype("datetime64[us]"), unit="us", timezone="UTC").tolist()
    assert sent[1] == "2000-02-29T00:00:00.000000Z"
    before_1970 = np.array(["1969-12-31T23:59:59.5"], dtype="datetime64[ns]")
    assert json.loads(dumps(field_values(before_1970, "timestamp"))) == ["1969-12-31T23:59:59.500000Z"]


def test_the_sink_queues_each_batch_for_the_transmits_whose_filter_matches(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    outboxes = Outboxes(tmp_path / "outbox", 1 << 30, Markers(catalog), "device")
    sink = outboxes.sink({"data_transmit": [{"transmit_name": "all"},
                                            {"transmit_name": "ovens", "transmit_type": "mqtt",
                                             "filter_stream": ["oven:*"]}]})
    assert sink.deliver(batch(0, 3), "k", print) == 3
    assert sink.deliver(batch(0, 2, asset="oven"), "o", print) == 4
    assert outboxes.status(["all", "ovens"])["all"]["records_queued"] == 5
    assert outboxes.status(["all", "ovens"])["ovens"]["records_queued"] == 2
    assert outboxes.sink({"data_transmit": []}) is None
    assert outboxes.outbox("a/b").folder.parent == tmp_path / "outbox"
    assert outboxes.outbox("a/b").folder != outboxes.outbox("a_b").folder
    outboxes.close()
    catalog.close()


def test_retire_deletes_the_outboxes_of_transmits_not_named_and_keeps_the_others(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    outboxes = Outboxes(tmp_path / "outbox", 1 << 30, Markers(catalog), "device")
    for name, records in [("cloud", 5), ("old cloud", 3), ("broker", 0)]:
        outboxes.outbox(name).append(batch(0, records), "k") if records else outboxes.outbox(name)
    outboxes.close()
    reopened = Outboxes(tmp_path / "outbox", 1 << 30, Markers(catalog), "device")  # "old cloud" not opened
    reopened.outbox("broker").append(batch(0, 2), "b")
    gone = reopened.retire(["cloud"])
    assert sorted(gone) == [f"{folder_name('broker')} (2 unsent records)",
                            f"{folder_name('old cloud')} (3 unsent records)"]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [folder_name("cloud")]
    assert counts(drain(reopened.outbox("cloud"))) == [0, 1, 2, 3, 4]
    assert reopened.status(["broker"])["broker"]["records_queued"] == 0  # a new, empty outbox
    assert reopened.retire(["cloud", "broker"]) == []
    reopened.close()
    catalog.close()


def test_a_damaged_batch_is_skipped_and_reported_as_lost(folder):
    lost = []
    outbox = Outbox(folder, "cloud", 1 << 30, on_loss=lambda asset, stream_type, loss: lost.append(
        (asset, stream_type, loss["records"])))
    outbox.append(batch(0, 10), "a")
    outbox.append(batch(10, 10), "b")
    outbox.close()
    segment = sorted(folder.glob("seg-*.log"))[-1]
    data = bytearray(segment.read_bytes())
    meta_length, data_length, _ = struct.unpack_from("<III", data)
    middle = 12 + meta_length + data_length // 2
    data[middle:middle + 8] = b"\xff" * 8  # inside the first batch's records: its checksum fails
    segment.write_bytes(bytes(data))
    reopened = Outbox(folder, "cloud", 1 << 30, on_loss=outbox._on_loss)
    assert counts(drain(reopened)) == list(range(10, 20))
    assert lost == [("press", "cycle", 10)]
    assert reopened.status()["records_dropped"] == 10
