"""The scheduler with real threads, a real catalog and test components registered here.

The components below are real runtimes (they implement edge.pipeline.runtime.context's contract);
what each one does is set by its section of the configuration, so every test states its
pipeline as a FactoryTX configuration.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict

import numpy as np
import pytest

from edge.app import EdgeApp
from edge.errors import EdgeError
from edge.pipeline.batch import RecordBatch
from edge.pipeline.outbox.outboxes import folder_name
from edge.pipeline.registry import DATA_RECEIVER, DATA_TRANSMIT, Component
from edge.pipeline.runtime.context import PollResult
from edge.pipeline.runtime.scheduler import DESIRED_KEY, LAST_TRANSMIT_KEY, Scheduler
from edge.settings import load_settings

UTC_TEXT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
FAST = 0.02  # poll_interval of the test components, seconds


class Journal:
    """What the test runtimes did, by service name, for the tests to look at."""

    def __init__(self):
        self.lock = threading.Lock()
        self.built = defaultdict(int)
        self.polls = defaultdict(int)
        self.closed = defaultdict(int)
        self.threads = defaultdict(set)
        self.release = threading.Event()  # lets a blocking poll end

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(0.005)


JOURNAL = Journal()


class CountingRuntime:
    """Reads `records` records per pass; fails every pass when `fail` is set."""

    def __init__(self, context):
        self.context = context
        self.name = context.name
        if context.config.get("fail_build"):
            raise OSError("cannot reach the device")
        with JOURNAL.lock:
            JOURNAL.built[self.name] += 1

    def poll(self) -> PollResult:
        with JOURNAL.lock:
            JOURNAL.polls[self.name] += 1
            JOURNAL.threads[self.name].add(threading.current_thread().name)
        if self.context.config.get("fail"):
            raise RuntimeError(f"{self.name} cannot read")
        if self.context.config.get("block"):
            JOURNAL.release.wait(30)
        if self.context.config.get("exit"):
            raise SystemExit(3)
        for level in self.context.config.get("mark", ()):  # ends the pass well, as a receiver does
            self.context.raise_marker("press", "cycle", "connection", level, f"{level} raised by {self.name}")
        records = self.context.config.get("records", 1)
        return PollResult(records_in=records, records_out=records)

    def close(self) -> None:
        with JOURNAL.lock:
            JOURNAL.closed[self.name] += 1


TEST_COMPONENTS = {
    (DATA_RECEIVER, "counting"): Component(DATA_RECEIVER, "counting", "tests", "Counting receiver",
                                           runtime=f"{__name__}:CountingRuntime"),
    (DATA_TRANSMIT, "counting"): Component(DATA_TRANSMIT, "counting", "tests", "Counting transmit",
                                           runtime=f"{__name__}:CountingRuntime"),
    (DATA_RECEIVER, "noruntime"): Component(DATA_RECEIVER, "noruntime", "tests", "Receiver without runtime"),
}


def find_test_component(section, type_name):
    return TEST_COMPONENTS.get((section, type_name))


def receiver(name, **options):
    return {"data_receiver_name": name, "protocol": "counting", "poll_interval": FAST,
            "streams": [{"asset": "press", "stream_type": "cycle"}, {"asset": "press", "stream_type": "alarm"}],
            **options}


def transmit(name, **options):
    return {"transmit_name": name, "transmit_type": "counting", "poll_interval": FAST, **options}


def config(receivers=(), transmits=()):
    return {"data_receiver": list(receivers), "transforms": [], "data_transmit": list(transmits)}


@pytest.fixture
def app(tmp_path, monkeypatch):
    global JOURNAL
    JOURNAL = Journal()
    monkeypatch.setenv("EDGE_ADMIN_PASSWORD", "unit-test-password")
    edge_app = EdgeApp(load_settings(None, {"DATA_DIR": str(tmp_path / "data")}))
    yield edge_app
    JOURNAL.release.set()
    edge_app.store.close()  # its housekeeping thread too, before the data goes
    edge_app.catalog.close()


@pytest.fixture
def make_scheduler(app):
    made = []

    def make(stop_timeout=5.0):
        scheduler = Scheduler(app.configuration, app.runtime_state, app.pipeline_ports,
                              find_component=find_test_component, stop_timeout=stop_timeout)
        made.append(scheduler)
        return scheduler

    yield make
    JOURNAL.release.set()
    for scheduler in made:
        scheduler.shutdown()


def save(app, body):
    app.config_history.save(body, source="test")


def pipeline_threads():
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(("receiver:", "transmit:")))


def test_first_start_runs_one_named_thread_per_receiver_and_transmit(app, make_scheduler):
    save(app, config([receiver("line_1"), receiver("line_2", records=4)], [transmit("cloud")]))
    scheduler = make_scheduler()
    scheduler.resume()
    JOURNAL.wait_for(lambda: all(JOURNAL.polls[n] >= 2 for n in ("line_1", "line_2", "cloud")))

    assert pipeline_threads() == ["receiver:line_1", "receiver:line_2", "transmit:cloud"]
    assert JOURNAL.threads["line_2"] == {"receiver:line_2"}
    assert JOURNAL.built == {"line_1": 1, "line_2": 1, "cloud": 1}  # one runtime per service, reused
    status = scheduler.status()
    assert status["status"] == "running"
    assert set(status["services"]) == {"line_1", "line_2", "cloud"}
    line_2 = status["services"]["line_2"]
    assert line_2["status"] == "running"
    assert line_2["component_type"] == "Receiver"
    assert line_2["type"] == "counting"
    assert UTC_TEXT.match(line_2["last_run"])
    assert line_2["records_in"] >= 8 and line_2["records_in"] % 4 == 0
    assert line_2["last_error"] is None
    assert status["services"]["cloud"]["component_type"] == "Transmit"
    assert app.runtime_state.get(DESIRED_KEY) is None  # nothing asked for yet: default running


def test_failing_component_is_logged_counted_and_retried_while_others_run(app, make_scheduler, caplog):
    save(app, config([receiver("broken", fail=True), receiver("healthy")]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["broken"] >= 3 and JOURNAL.polls["healthy"] >= 3)

    services = scheduler.status()["services"]
    assert services["broken"]["status"] == "running"
    assert services["broken"]["last_error"] == "RuntimeError: broken cannot read"
    assert UTC_TEXT.match(services["broken"]["last_error_time"])
    assert services["broken"]["error_count"] >= 2
    assert services["broken"]["records_in"] == 0
    assert services["healthy"]["last_error"] is None
    assert services["healthy"]["records_in"] >= 3
    assert scheduler.status()["status"] == "running"
    failures = [r for r in caplog.records if r.name == "edge.pipeline.broken" and r.levelname == "ERROR"]
    assert failures and "broken cannot read" in failures[0].getMessage()


def test_error_markers_a_component_raises_count_as_its_errors(app, make_scheduler):
    save(app, config([receiver("marking", mark=["warning", "error"]), receiver("warning_only", mark=["warning"])]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["marking"] >= 3 and JOURNAL.polls["warning_only"] >= 3)
    scheduler.stop()  # the counts hold still

    services = scheduler.status()["services"]
    marking = services["marking"]
    assert marking["error_count"] == JOURNAL.polls["marking"]  # one error marker a pass; warnings do not count
    assert marking["last_error"] == "press:cycle: error raised by marking"
    [stored] = [m for m in app.markers.for_stream("press", "cycle") if m.component == "marking" and
                m.level == "error"]
    assert marking["last_error_time"] == stored.timestamp
    assert services["warning_only"]["error_count"] == 0
    assert services["warning_only"]["last_error"] is None


def test_runtime_that_cannot_be_built_is_retried_each_interval(app, make_scheduler):
    save(app, config([receiver("offline", fail_build=True)]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: scheduler.status()["services"]["offline"]["error_count"] >= 3)
    assert scheduler.status()["services"]["offline"]["last_error"] == "OSError: cannot reach the device"


def test_component_without_runtime_is_unknown_with_reason_gets_no_thread_and_is_not_counted(
        app, make_scheduler, caplog):
    save(app, config([receiver("waiting", protocol="noruntime"), receiver("nowhere", protocol="carrier_pigeon"),
                      receiver("ok")], [transmit("cloud", transmit_type="noruntime")]))
    TEST_COMPONENTS[(DATA_TRANSMIT, "noruntime")] = Component(DATA_TRANSMIT, "noruntime", "tests", "No runtime")
    try:
        scheduler = make_scheduler()
        with caplog.at_level("INFO", logger="edge.pipeline.scheduler"):
            scheduler.start()
        JOURNAL.wait_for(lambda: JOURNAL.polls["ok"] >= 1)
        services = scheduler.status()["services"]
    finally:
        del TEST_COMPONENTS[(DATA_TRANSMIT, "noruntime")]

    assert services["waiting"]["status"] == "unknown"
    assert services["waiting"]["last_error"] == ("not running: the noruntime receiver has no runtime on this "
                                                 "appliance yet, so nothing is read")
    assert services["waiting"]["last_run"] is None
    assert services["waiting"]["error_count"] == 0
    assert services["cloud"]["status"] == "unknown"
    assert services["cloud"]["last_error"] == ("not running: the noruntime transmit has no runtime on this "
                                               "appliance yet, so nothing is sent")
    assert services["nowhere"]["status"] == "unknown"
    assert services["nowhere"]["last_error"] == "not running: there is no receiver of type 'carrier_pigeon'"
    assert services["ok"]["status"] == "running"
    assert pipeline_threads() == ["receiver:ok"]
    assert scheduler.status()["status"] == "running"
    started = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pipeline started")]
    assert started == ["pipeline started: 1 of 4 services running"]


def test_stop_joins_every_thread_closes_runtimes_and_persists_stopped(app, make_scheduler):
    save(app, config([receiver("a"), receiver("b")], [transmit("t")]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: all(JOURNAL.polls[n] >= 1 for n in "abt"))

    assert scheduler.stop() == "stopped"
    assert pipeline_threads() == []
    assert JOURNAL.closed == {"a": 1, "b": 1, "t": 1}
    status = scheduler.status()
    assert status["status"] == "stopped"
    assert {s["status"] for s in status["services"].values()} == {"stopped"}
    assert status["services"]["a"]["records_in"] >= 1  # what it did is still shown
    assert app.runtime_state.get(DESIRED_KEY) == "stopped"


def test_stopped_pipeline_stays_stopped_after_a_program_restart(app, make_scheduler):
    save(app, config([receiver("a")]))
    first = make_scheduler()
    first.start()
    first.stop()
    first.shutdown()

    second = make_scheduler()  # the next program start, on the same catalog
    second.resume()
    assert pipeline_threads() == []
    assert second.status()["status"] == "stopped"
    assert second.status()["services"]["a"]["status"] == "stopped"

    assert second.start() == "running"
    JOURNAL.wait_for(lambda: JOURNAL.polls["a"] >= 1)
    second.shutdown()  # program exit keeps the wish
    assert app.runtime_state.get(DESIRED_KEY) == "running"
    assert pipeline_threads() == []

    third = make_scheduler()
    third.resume()
    assert third.status()["status"] == "running"
    assert pipeline_threads() == ["receiver:a"]


def test_start_and_stop_are_idempotent_and_restart_builds_new_runtimes(app, make_scheduler):
    save(app, config([receiver("a")]))
    scheduler = make_scheduler()
    assert scheduler.start() == "running"
    assert scheduler.start() == "running"
    JOURNAL.wait_for(lambda: JOURNAL.polls["a"] >= 1)
    assert JOURNAL.built["a"] == 1
    assert pipeline_threads() == ["receiver:a"]

    assert scheduler.restart() == "running"
    JOURNAL.wait_for(lambda: JOURNAL.built["a"] == 2)
    assert JOURNAL.closed["a"] == 1
    assert pipeline_threads() == ["receiver:a"]

    assert scheduler.stop() == "stopped"
    assert scheduler.stop() == "stopped"
    assert scheduler.restart() == "running"  # restart of a stopped pipeline starts it
    assert app.runtime_state.get(DESIRED_KEY) == "running"


def test_reload_restarts_services_on_the_new_configuration(app, make_scheduler):
    save(app, config([receiver("old")]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["old"] >= 1)

    save(app, config([receiver("new")], [transmit("cloud")]))
    scheduler.reload()
    JOURNAL.wait_for(lambda: JOURNAL.polls["new"] >= 1 and JOURNAL.polls["cloud"] >= 1)
    assert pipeline_threads() == ["receiver:new", "transmit:cloud"]
    assert JOURNAL.closed["old"] == 1
    assert set(scheduler.status()["services"]) == {"new", "cloud"}


def test_reload_of_a_stopped_pipeline_starts_nothing_but_shows_the_new_services(app, make_scheduler):
    save(app, config([receiver("old")]))
    scheduler = make_scheduler()
    scheduler.stop()
    save(app, config([receiver("new")]))
    scheduler.reload()
    assert pipeline_threads() == []
    status = scheduler.status()
    assert status["status"] == "stopped"
    assert status["services"] == {"new": {
        "status": "stopped", "component_type": "Receiver", "type": "counting", "poll_interval": FAST,
        "last_run": None, "records_in": 0, "records_out": 0, "error_count": 0, "last_error": None,
        "last_error_time": None}}


def marker_owners_standing(app):
    return sorted((m.component, m.component_type, m.asset, m.stream_type) for m in app.markers.every())


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_reload_clears_the_markers_of_components_no_longer_configured(app, make_scheduler, running):
    rename = {"transform_name": "names", "transform_type": "rename", "filter_stream": ["press:cycle"],
              "renames": {"a": "b"}}
    save(app, {"data_receiver": [receiver("line_1")], "transforms": [rename, {**rename, "transform_name": "gone"}],
               "data_transmit": [transmit("cloud")]})
    scheduler = make_scheduler()
    scheduler.start() if running else scheduler.stop()
    for component, component_type, stream_type in [
            ("line_1", "Receiver", "cycle"), ("line_1", "Receiver", "alarm"), ("names", "Transform", "cycle"),
            ("names", "Transform", "alarm"), ("gone", "Transform", "cycle"), ("cloud", "Transmit", "cycle"),
            ("line_0", "Receiver", "cycle")]:
        app.markers.raise_marker(component, component_type, "press", stream_type, "parse", "error", "bad row")

    # line_1 loses its alarm stream, the "gone" transform goes, and line_0 was renamed long ago.
    line_1 = receiver("line_1")
    line_1["streams"] = line_1["streams"][:1]
    save(app, {"data_receiver": [line_1], "transforms": [rename], "data_transmit": [transmit("cloud")]})
    scheduler.reload()

    assert marker_owners_standing(app) == [("cloud", "Transmit", "press", "cycle"),
                                           ("line_1", "Receiver", "press", "cycle"),
                                           ("names", "Transform", "press", "cycle")]
    assert scheduler.status()["status"] == ("running" if running else "stopped")


def test_start_up_clears_markers_left_by_an_earlier_configuration(app, make_scheduler):
    save(app, config([receiver("line_1")]))
    app.markers.raise_marker("line_0", "Receiver", "press", "cycle", "connection", "error", "no folder")
    app.markers.raise_marker("line_1", "Receiver", "press", "cycle", "connection", "error", "no folder")
    make_scheduler().resume()
    assert marker_owners_standing(app) == [("line_1", "Receiver", "press", "cycle")]


def queue_for(app, transmit_name: str, records: int) -> None:
    stamps = np.datetime64("2024-05-01T00:00:00", "ns") + np.arange(records).astype("timedelta64[s]")
    batch = RecordBatch("press", "cycle", {"timestamp": stamps, "count": np.arange(records)}, "timestamp")
    app.outboxes.outbox(transmit_name).append(batch, f"{transmit_name}-batch")


def outbox_folders(app) -> list[str]:
    return sorted(p.name for p in (app.settings.data_dir / "outbox").iterdir())


@pytest.mark.parametrize("running", [True, False], ids=["running", "stopped"])
def test_reload_deletes_the_outbox_of_a_transmit_removed_or_renamed(app, make_scheduler, running, caplog):
    save(app, config([receiver("line_1")], [transmit("cloud"), transmit("broker")]))
    scheduler = make_scheduler()
    scheduler.start() if running else scheduler.stop()
    queue_for(app, "cloud", 4)
    queue_for(app, "broker", 3)

    save(app, config([receiver("line_1")], [transmit("cloud"), transmit("mqtt broker")]))  # broker renamed
    scheduler.reload()

    assert outbox_folders(app) == [folder_name("cloud")]
    assert scheduler.last_data_transmit()["transmits"]["cloud"]["records_queued"] == 4
    assert scheduler.last_data_transmit()["transmits"]["mqtt broker"]["records_queued"] == 0
    assert f"{folder_name('broker')} (3 unsent records)" in caplog.text


def test_start_up_deletes_outboxes_left_by_an_earlier_configuration(app, make_scheduler):
    queue_for(app, "old", 2)
    queue_for(app, "cloud", 1)
    save(app, config([receiver("line_1")], [transmit("cloud")]))
    make_scheduler().resume()
    assert outbox_folders(app) == [folder_name("cloud")]


def test_stuck_pass_is_reported_and_its_successor_waits_for_it(app, make_scheduler):
    save(app, config([receiver("slow", block=True)]))
    scheduler = make_scheduler(stop_timeout=0.1)
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["slow"] == 1)

    assert scheduler.stop() == "stopped"  # bounded: does not wait for the stuck pass
    services = scheduler.status()["services"]
    assert "did not finish its pass" in services["slow"]["last_error"]
    assert pipeline_threads() == ["receiver:slow"]

    scheduler.start()
    # The new thread must not poll while the old pass still runs.
    assert JOURNAL.built["slow"] == 1
    assert scheduler.status()["services"]["slow"]["last_error"] == \
        "waiting for the pass started before the restart to finish"
    JOURNAL.release.set()
    JOURNAL.wait_for(lambda: JOURNAL.built["slow"] == 2 and JOURNAL.polls["slow"] >= 2)
    assert JOURNAL.closed["slow"] == 1
    JOURNAL.wait_for(lambda: scheduler.status()["services"]["slow"]["last_error"] is None)


def test_a_service_thread_that_dies_makes_factorytx_failed(app, make_scheduler):
    save(app, config([receiver("doomed", exit=True), receiver("fine")]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: scheduler.status()["services"]["doomed"]["status"] == "stopped")
    status = scheduler.status()
    assert status["status"] == "failed"
    assert status["services"]["doomed"]["last_error"] == "the service thread ended unexpectedly"
    assert JOURNAL.closed["doomed"] == 1
    assert status["services"]["fine"]["status"] == "running"


def test_transmit_that_sent_records_becomes_last_data_transmit_and_is_kept(app, make_scheduler):
    save(app, config([receiver("r")], [transmit("quiet", records=0)]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["quiet"] >= 2 and JOURNAL.polls["r"] >= 2)
    shown = scheduler.last_data_transmit()
    assert shown.pop("transmits")["quiet"]["records_queued"] == 0  # each transmit's outbox
    assert shown == {}  # receivers and empty passes do not count

    save(app, config([], [transmit("cloud", records=7)]))
    scheduler.reload()
    JOURNAL.wait_for(lambda: JOURNAL.polls["cloud"] >= 1)
    sent = scheduler.last_data_transmit()
    assert set(sent.pop("transmits")) == {"cloud"}
    assert sent["transmit_name"] == "cloud"
    assert sent["transmit_type"] == "counting"
    assert sent["records"] == 7
    assert UTC_TEXT.match(sent["timestamp"])
    scheduler.stop()
    assert json.loads(app.runtime_state.get(LAST_TRANSMIT_KEY)) == sent
    assert make_scheduler().last_data_transmit() == scheduler.last_data_transmit()


def put_state(app, receiver_name, asset, stream_type, resource):
    app.receiver_state.put(receiver_name, asset, stream_type, resource, {"size": 10, "mtime": 1.5})


def state_rows(app):
    return sorted(app.catalog.connection().execute(
        "SELECT receiver, asset, stream_type, resource FROM receiver_state"))


def test_restream_purges_named_streams_state_and_markers_and_rereads(app, make_scheduler):
    save(app, config([receiver("line_1"), receiver("line_2")]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["line_1"] >= 1)
    put_state(app, "line_1", "press", "cycle", "a.csv")
    put_state(app, "line_1", "press", "cycle", "b.csv")
    put_state(app, "line_1", "press", "alarm", "c.csv")
    put_state(app, "line_2", "press", "cycle", "a.csv")
    app.markers.raise_marker("line_1", "Receiver", "press", "cycle", "parse", "error", "bad row 3")
    app.markers.raise_marker("transmit_0", "Transmit", "press", "cycle", "send", "warning", "slow")
    app.markers.raise_marker("line_2", "Receiver", "press", "cycle", "parse", "error", "bad row 9")
    app.markers.raise_marker("line_1", "Receiver", "press", "alarm", "parse", "error", "bad row 1")
    # A receiver since renamed (or removed): its marker is stale, and goes with the stream's.
    app.markers.raise_marker("line_0", "Receiver", "press", "cycle", "connection", "error", "no folder")

    purged = scheduler.restream({"line_1": [{"asset": "press", "stream_type": "cycle"}]})

    assert purged == 2
    assert state_rows(app) == [("line_1", "press", "alarm", "c.csv"), ("line_2", "press", "cycle", "a.csv")]
    # line_2 has a stream of the same name (a configuration validation would refuse): it keeps its own.
    assert [m.component for m in app.markers.for_stream("press", "cycle")] == ["line_2"]
    assert [m.message for m in app.markers.for_stream("press", "alarm")] == ["bad row 1"]
    JOURNAL.wait_for(lambda: JOURNAL.built["line_1"] == 2)  # read again by a fresh runtime
    assert JOURNAL.closed["line_1"] == 1
    assert JOURNAL.built["line_2"] == 1
    assert pipeline_threads() == ["receiver:line_1", "receiver:line_2"]


def test_restream_of_a_stopped_pipeline_purges_without_starting_anything(app, make_scheduler):
    save(app, config([receiver("line_1")]))
    scheduler = make_scheduler()
    scheduler.stop()
    put_state(app, "line_1", "press", "cycle", "a.csv")
    scheduler.restream({"line_1": [{"asset": "press", "stream_type": "cycle"},
                                   {"asset": "press", "stream_type": "cycle"}]})
    assert state_rows(app) == []
    assert pipeline_threads() == []
    assert scheduler.status()["status"] == "stopped"


@pytest.mark.parametrize("request_body, complaint", [
    ({"line_9": [{"asset": "press", "stream_type": "cycle"}]}, "No data receiver named 'line_9'"),
    ({"line_1": [{"asset": "press", "stream_type": "cycle"}], "line_2": [{"asset": "press", "stream_type": "x"}]},
     "has no stream 'press:x'"),
    ({"line_1": [{"asset": "press"}]}, "asset and stream_type must both be strings"),
    ({"line_1": [{"asset": "press", "stream_type": "cycle", "from": "2020"}]}, "unexpected field(s) from"),
    ({"line_1": []}, "non-empty list"),
    ({"line_1": {"asset": "press", "stream_type": "cycle"}}, "non-empty list"),
    ({"line_1": ["press:cycle"]}, "expected an object"),
    ({}, "naming at least one data receiver"),
    ([{"asset": "press", "stream_type": "cycle"}], "Expected an object"),
])
def test_bad_restream_request_purges_nothing(app, make_scheduler, request_body, complaint):
    save(app, config([receiver("line_1"), receiver("line_2")]))
    scheduler = make_scheduler()
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["line_1"] >= 1)
    put_state(app, "line_1", "press", "cycle", "a.csv")
    put_state(app, "line_2", "press", "cycle", "a.csv")

    with pytest.raises(EdgeError) as raised:
        scheduler.restream(request_body)
    assert raised.value.status == 400
    assert complaint in raised.value.text
    assert len(state_rows(app)) == 2
    assert JOURNAL.built["line_1"] == 1  # not restarted either


def test_restream_fails_without_purging_when_the_receiver_is_stuck(app, make_scheduler):
    save(app, config([receiver("slow", block=True)]))
    scheduler = make_scheduler(stop_timeout=0.1)
    scheduler.start()
    JOURNAL.wait_for(lambda: JOURNAL.polls["slow"] == 1)
    put_state(app, "slow", "press", "cycle", "a.csv")

    with pytest.raises(EdgeError) as raised:
        scheduler.restream({"slow": [{"asset": "press", "stream_type": "cycle"}]})
    assert raised.value.status == 500
    assert "nothing was purged" in raised.value.text
    assert len(state_rows(app)) == 1
    JOURNAL.release.set()
    JOURNAL.wait_for(lambda: JOURNAL.polls["slow"] >= 2)  # and it runs on afterwards
    assert scheduler.status()["status"] == "running"
