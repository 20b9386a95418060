"""remotedatapost against a real HTTP stand-in of the cloud: what arrives, in which order, and
every way a request fails leaving the records queued; the config backup and its error codes."""

from __future__ import annotations

import numpy as np
import pytest

from edge.catalog.backup_status import BackupStatus
from edge.pipeline.batch import RecordBatch
from edge.pipeline.config.secrets import MASK, mask_secrets, restore_secrets
from edge.pipeline.outbox.sender import TransmitFailure
from edge.pipeline.transmits.remotedatapost.backup import ConfigBackup
from edge.pipeline.transmits.remotedatapost.transmit import RemoteDataPostTransmit
from edge.time.textfields import TEXT
from tests.integration.peers import cloud_standin
from tests.integration.peers.cloud_standin import CloudStandIn
from tests.unit.pipeline.transmits.transmit_parts import DEVICE_ID, TransmitParts

T0 = np.datetime64("2024-05-01T00:00:00", "ns").astype(np.int64)


def batch(start: int, count: int, asset: str = "press") -> RecordBatch:
    index = np.arange(start, start + count)
    return RecordBatch(asset, "cycle", {"timestamp": (T0 + index * 10**9).astype("datetime64[ns]"),
                                        "count": index.astype(np.int64),
                                        "label": np.array([f"r{i}" for i in index], dtype=TEXT)}, "timestamp")


@pytest.fixture
def cloud():
    standin = CloudStandIn().start()
    standin.hang_seconds = 1.5
    yield standin
    standin.stop()


@pytest.fixture
def parts(tmp_path):
    made = TransmitParts(tmp_path / "data")
    yield made
    made.close()


def queue(parts, name="cloud", streams=("press", "oven"), batches=4, size=50):
    outbox = parts.outboxes.outbox(name)
    for asset in streams:
        for i in range(batches):
            outbox.append(batch(i * size, size, asset), f"{asset}{i}")
    return outbox


def test_records_arrive_whole_in_order_per_stream_in_requests_of_the_limit(parts, cloud):
    outbox = queue(parts)
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(max_request_records=120, poll_interval=0.05))
    assert runtime.poll().records_out == 400
    assert cloud.requests == 4  # 120, 120, 120, 40
    for asset in ("press", "oven"):
        assert cloud.stream_records(asset, "cycle", "count") == list(range(200))
        assert cloud.stream_records(asset, "cycle", "label") == [f"r{i}" for i in range(200)]
    first = cloud.batches[0]
    assert first["batch_id"] == "press0:0-50" and first["time_field"] == "timestamp"
    assert first["fields"]["timestamp"][1] == "2024-05-01T00:00:01.000000Z"
    assert cloud.devices == {DEVICE_ID}
    status = outbox.status()
    assert (status["records_sent"], status["records_queued"], status["last_error"]) == (400, 0, None)
    runtime.close()


@pytest.mark.parametrize("mode, status, text", [
    (cloud_standin.STATUS, 500, "answered HTTP 500"),
    (cloud_standin.STATUS, 401, "authentication failed: POST"),
    (cloud_standin.STATUS, 403, "authentication failed: POST"),
    (cloud_standin.REDIRECT, 302, "redirect (HTTP 302"),
    (cloud_standin.HANG, 0, "failed to reach the cloud: TimeoutError"),
    (cloud_standin.CUT, 0, "failed to reach the cloud: IncompleteRead"),
    (cloud_standin.NO_SUCCESS, 0, "does not say success"),
])
def test_a_failed_request_keeps_every_record_queued_and_says_why(parts, cloud, mode, status, text):
    outbox = queue(parts, streams=("press",), batches=2)
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(timeout=0.5, poll_interval=0.05))
    cloud.misbehave(mode, times=1, status=status)
    with pytest.raises(TransmitFailure):
        runtime.poll()
    shown = outbox.status()
    assert text in shown["last_error"]
    assert shown["records_queued"] == 100 and cloud.batches == []
    assert runtime.poll().records_out == 100  # the next try sends them
    assert cloud.stream_records("press", "cycle", "count") == list(range(100))
    runtime.close()


@pytest.mark.parametrize("mode", [cloud_standin.STATUS, cloud_standin.CUT, cloud_standin.HANG])
def test_a_failure_while_the_next_request_is_read_ahead_loses_and_reorders_nothing(parts, cloud, mode):
    outbox = queue(parts, batches=6)  # 600 records, 8 requests of 80 (the last 40)
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(max_request_records=80, poll_interval=0.05,
                                                                   timeout=0.5))
    assert runtime.read_ahead
    cloud.misbehave(mode, times=1, after=1)  # the second request fails while the third is ready
    with pytest.raises(TransmitFailure):
        runtime.poll()
    assert cloud.requests == 1 and outbox.status()["records_queued"] == 520  # only the confirmed one left
    assert runtime.poll().records_out == 520
    for asset in ("press", "oven"):
        # in order, each record once but those of the failed request (the cloud may have kept them)
        received = cloud.stream_records(asset, "cycle", "count")
        assert sorted(set(received)) == list(range(300))
        assert received == sorted(received) or _resent_prefix(received)
    assert outbox.status()["records_queued"] == 0 and outbox.status()["records_sent"] == 600


def _resent_prefix(received: list[int]) -> bool:
    """A run of records sent again: ascending up to some point, then again from an earlier one."""
    drop = next(i for i in range(1, len(received)) if received[i] <= received[i - 1])
    return received[:drop] == sorted(received[:drop]) and received[drop:] == sorted(received[drop:])


def test_read_ahead_takes_confirm_in_order_across_segments(tmp_path):
    from edge.pipeline.outbox.outbox import Outbox

    outbox = Outbox(tmp_path / "box", "cloud", max_bytes=1 << 30)
    outbox.segment_bytes = 1  # a segment per batch: takes end exactly at segment ends
    for i in range(5):
        outbox.append(batch(i * 10, 10), f"k{i}")
    first = outbox.take(10, 1 << 22)
    second = outbox.take(10, 1 << 22, after=first)
    third = outbox.take(10, 1 << 22, after=second)
    assert [p["fields"]["count"].tolist() for t in (first, second, third) for p in t.pieces] == [
        list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    for take in (first, second, third):
        outbox.confirm(take)
    assert outbox.status()["records_queued"] == 20
    assert outbox.take(100, 1 << 22).pieces[0]["fields"]["count"].tolist() == list(range(30, 40))
    # read ahead only after the take before was confirmed and its segment removed
    fourth = outbox.take(10, 1 << 22)
    outbox.confirm(fourth)
    fifth = outbox.take(10, 1 << 22, after=fourth)
    outbox.confirm(fifth)
    assert fifth.pieces[0]["fields"]["count"].tolist() == list(range(40, 50))
    assert outbox.status()["records_queued"] == 0 and outbox.take(10, 1 << 22) is None


@pytest.mark.parametrize("request_records", [300, 700, 1000])
def test_requests_ending_at_segment_ends_send_every_record_once(parts, cloud, request_records):
    outbox = parts.outboxes.outbox("cloud")
    outbox.segment_bytes = 20_000  # a segment per batch of 1000 records
    for i in range(12):
        outbox.append(batch(i * 1000, 1000), f"k{i}")
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(max_request_records=request_records))
    assert runtime.poll().records_out == 12_000
    assert cloud.stream_records("press", "cycle", "count") == list(range(12_000))
    assert outbox.status()["records_queued"] == 0


def test_a_wrong_key_is_an_authentication_failure(parts, cloud):
    queue(parts, streams=("press",), batches=1)
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(API_key="wrong", poll_interval=0.05))
    with pytest.raises(TransmitFailure) as failure:
        runtime.poll()
    assert failure.value.auth
    assert parts.outboxes.outbox("cloud").status()["last_error"].startswith("authentication failed: POST ")


def test_an_outage_then_recovery_delivers_everything_in_order(parts, cloud):
    outbox = queue(parts, batches=2)
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(max_request_records=30, poll_interval=0.05))
    cloud.refuse()
    for _ in range(3):
        with pytest.raises(TransmitFailure):
            runtime.poll()
        outbox.append(batch(1000 + _ * 10, 10), f"during{_}")  # the receivers go on queuing
    assert "ConnectionRefusedError" in outbox.status()["last_error"]
    assert runtime.failures == 3
    cloud.accept()
    assert runtime.poll().records_out == 230
    assert runtime.failures == 0
    assert cloud.stream_records("press", "cycle", "count") == list(range(100)) + list(range(1000, 1030))
    assert cloud.stream_records("oven", "cycle", "count") == list(range(100))


def test_backoff_doubles_from_poll_interval_up_to_the_cap_with_jitter(parts, cloud):
    runtime = parts.runtime(RemoteDataPostTransmit, cloud.transmit(poll_interval=10))
    waits = []
    for failures in (1, 2, 3, 10):
        runtime.failures = failures
        waits.append(max(runtime.backoff_seconds() for _ in range(200)))
        assert min(runtime.backoff_seconds() for _ in range(200)) >= 0.5 * min(300, 10 * 2 ** (failures - 1))
    assert waits[0] <= 10 and 10 < waits[1] <= 20 and 20 < waits[2] <= 40 and waits[3] <= 300


class Configuration:
    def __init__(self, body):
        self.body_value = body

    def body(self):
        return self.body_value


@pytest.fixture
def backup_status(parts):
    return BackupStatus(parts.catalog)


def test_config_backup_puts_the_masked_configuration_and_records_success(parts, cloud, backup_status):
    config = {"data_receiver": [], "data_transmit": [cloud.transmit()]}
    backup = ConfigBackup(Configuration(config), backup_status, DEVICE_ID, 3600)
    backup.back_up_if_due()
    shown = backup_status.get("config")
    assert shown["error_code"] is None and shown["last_success"] is not None
    kept = cloud.backups[0]
    assert kept["device_id"] == DEVICE_ID
    assert kept["config"]["data_transmit"][0]["API_key"] == MASK
    backup.back_up_if_due()  # unchanged and not due: nothing sent
    assert len(cloud.backups) == 1
    config["transforms"] = []  # a save
    backup.back_up_if_due()
    assert len(cloud.backups) == 2


@pytest.mark.parametrize("misbehave, code", [
    (lambda c: c.misbehave(cloud_standin.STATUS, status=401), "auth_error"),
    (lambda c: c.misbehave(cloud_standin.BAD_CHECKSUM), "checksum_error"),
    (lambda c: c.refuse(), "connectivity_error"),
    (lambda c: c.misbehave(cloud_standin.REDIRECT), "connectivity_error"),
    (lambda c: c.misbehave(cloud_standin.STATUS, status=500), "unexpected_error"),
    (lambda c: c.misbehave(cloud_standin.NO_SUCCESS), "unexpected_error"),
])
def test_config_backup_error_codes(parts, cloud, backup_status, misbehave, code):
    backup = ConfigBackup(Configuration({"data_transmit": [cloud.transmit()]}), backup_status, DEVICE_ID, 3600)
    backup.back_up_if_due()
    misbehave(cloud)
    backup._next_try = 0  # due now
    backup.back_up_if_due()
    shown = backup_status.get("config")
    assert shown["error_code"] == code
    assert shown["last_success"] is not None  # the earlier success stays
    assert isinstance(shown["error_message"], str) and shown["error_message"]


def test_config_backup_without_a_cloud_is_not_configured(parts, backup_status):
    ConfigBackup(Configuration({"data_transmit": [{"transmit_name": "b", "transmit_type": "mqtt", "host": "h"}]}),
                 backup_status, DEVICE_ID, 3600).back_up_if_due()
    shown = backup_status.get("config")
    assert shown["error_code"] == "not_configured" and shown["last_success"] is None


def test_config_backup_turned_off_sends_nothing(parts, cloud, backup_status):
    ConfigBackup(Configuration({"data_transmit": [cloud.transmit()]}), backup_status, DEVICE_ID, 0).back_up_if_due()
    shown = backup_status.get("config")
    assert shown["error_code"] == "not_configured" and "turned off" in shown["error_message"]
    assert cloud.backups == []


def test_transmit_secrets_are_masked_and_kept_when_the_mask_comes_back():
    stored = {"data_transmit": [{"transmit_name": "cloud", "base_url": "https://a.example", "API_key_ID": "id",
                                 "API_key": "k1"},
                                {"transmit_name": "b", "transmit_type": "mqtt", "host": "h", "password": "p1"}]}
    masked = mask_secrets(stored)
    assert masked["data_transmit"][0]["API_key"] == MASK and masked["data_transmit"][1]["password"] == MASK
    assert masked["data_transmit"][0]["API_key_ID"] == "id"
    restored, violations = restore_secrets(masked, stored)
    assert restored == stored and violations == []
    masked["data_transmit"][1]["host"] = "elsewhere"  # a kept password never goes to another broker
    _, violations = restore_secrets(masked, stored)
    assert [v.json_path for v in violations] == [("data_transmit", 1, "password")]
