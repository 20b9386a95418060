"""/v1/ftx/*, /v1/status, /v1/streams, /v1/restream, /v1/log/stream, SIGTERM and sd_notify,
against a real `edge serve` process."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import time

import pytest

from edge.catalog import Catalog
from edge.catalog.markers import Markers
from edge.catalog.receiver_state import ReceiverState
from edge.pipeline import registry
from tests.waiting import wait_for

UTC_TEXT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def configuration(data_dir, receivers=("line_1",)):
    """A configuration /v1/config accepts: localfile receivers over `data_dir`, one transmit."""
    return {
        "data_receiver": [{
            "data_receiver_name": name,
            "protocol": "localfile",
            "poll_interval": 1,
            "connections": [{"root_path": str(data_dir)}],
            "parsers": [{"parser_name": "csv_0", "parser_type": "spreadsheet", "filter_stream": ["*"]}],
            "streams": [{"asset": f"press_{index}", "stream_type": "cycle", "file_filter": ["*.csv"]},
                        {"asset": f"oven_{index}", "stream_type": "temperature", "file_filter": ["*.txt"]}],
        } for index, name in enumerate(receivers)],
        "transforms": [],
        "data_transmit": [{"transmit_name": "cloud", "transmit_type": "remotedatapost",
                           "base_url": "http://127.0.0.1:9", "API_key": "k", "API_key_ID": "id"}],
    }


def post_config(server, body):
    response = server.client.post("/v1/config", body=body)
    assert response.status == 200, response.body
    assert response.json["success"] is True


def expected_service_status(section, type_name):
    component = registry.find(section, type_name)
    return "running" if component is not None and component.load_runtime() is not None else "unknown"


def raw_get(server, path):
    """GET `path` exactly as written (no client-side normalisation of ../ or %2F)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Authorization", server.client.auth)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_start_stop_restart_answer_the_factorytx_shapes(client):
    assert client.post("/v1/ftx/stop").json == {"response": "stopped", "success": True}
    assert client.get("/v1/status").json["response"]["factorytx"]["status"] == "stopped"
    assert client.post("/v1/ftx/stop").json == {"response": "stopped", "success": True}
    assert client.post("/v1/ftx/start").json == {"response": "running", "success": True}
    assert client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"
    assert client.post("/v1/ftx/restart").json == {"response": "running", "success": True}
    assert client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"
    assert client.get("/v1/ftx/start").status == 405


def test_status_without_configuration_has_the_spec_shape(client):
    response = client.get("/v1/status")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json
    assert body["success"] is True
    status = body["response"]
    assert set(status) == {"backup", "last_data_transmit", "machine_info", "factorytx"}
    assert status["backup"]["config"]["last_success"] is None
    assert status["backup"]["config"]["error_code"] == "not_configured"
    assert isinstance(status["backup"]["config"]["error_message"], str)
    assert status["last_data_transmit"] == {}
    assert status["factorytx"] == {"status": "running", "services": {}}
    machine = status["machine_info"]
    assert set(machine["cpu"]) == {"percent", "cpu_count"}
    assert machine["cpu"]["cpu_count"] == float(os.cpu_count())
    for part in ("memory", "disk"):
        numbers = machine[part]
        assert set(numbers) == {"total_gb", "available_gb", "used_gb", "percent_used", "percent_free"}
        assert all(type(v) is float for v in numbers.values())
        assert numbers["used_gb"] == pytest.approx(numbers["total_gb"] - numbers["available_gb"], abs=1e-9)
        assert numbers["percent_free"] == pytest.approx(100.0 - numbers["percent_used"], abs=1e-9)
    assert type(machine["cpu"]["percent"]) is float and 0.0 <= machine["cpu"]["percent"] <= 100.0


def test_stopped_pipeline_stays_stopped_when_the_server_restarts(edge_server_factory):
    server = edge_server_factory()
    assert server.client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"
    assert server.client.post("/v1/ftx/stop").json["response"] == "stopped"
    assert server.stop() == 0
    server.start()
    assert server.client.get("/v1/status").json["response"]["factorytx"]["status"] == "stopped"
    assert server.client.post("/v1/ftx/start").json["response"] == "running"
    assert server.stop() == 0
    server.start()
    assert server.client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"


def test_status_has_one_service_per_configured_receiver_and_transmit(edge_server_factory, tmp_path):
    server = edge_server_factory()
    post_config(server, configuration(tmp_path, receivers=("line_1", "line_2")))
    services = server.client.get("/v1/status").json["response"]["factorytx"]["services"]
    assert set(services) == {"line_1", "line_2", "cloud"}
    receiver_status = expected_service_status("data_receiver", "localfile")
    for name in ("line_1", "line_2"):
        service = services[name]
        assert service["component_type"] == "Receiver"
        assert service["type"] == "localfile"
        assert service["status"] == receiver_status
        assert service["poll_interval"] == 1.0
        assert isinstance(service["records_in"], int) and isinstance(service["records_out"], int)
        assert service["last_run"] is None or UTC_TEXT.match(service["last_run"])
        if receiver_status == "unknown":
            assert "has no runtime on this appliance yet" in service["last_error"]
    assert services["cloud"]["component_type"] == "Transmit"
    assert services["cloud"]["type"] == "remotedatapost"
    transmit_status = expected_service_status("data_transmit", "remotedatapost")
    assert services["cloud"]["status"] == transmit_status

    assert server.client.post("/v1/ftx/stop").json["response"] == "stopped"
    services = server.client.get("/v1/status").json["response"]["factorytx"]["services"]
    stopped = {"running": "stopped", "unknown": "unknown"}
    assert {name: s["status"] for name, s in services.items()} == {
        "line_1": stopped[receiver_status], "line_2": stopped[receiver_status], "cloud": stopped[transmit_status]}
    # A new configuration while stopped shows its services, still stopped.
    post_config(server, configuration(tmp_path, receivers=("line_3",)))
    status = server.client.get("/v1/status").json["response"]["factorytx"]
    assert status["status"] == "stopped"
    assert set(status["services"]) == {"line_3", "cloud"}


def core_log(server) -> list[str]:
    return (server.data_dir / "logs" / "factorytx_core.log").read_text().splitlines()


def test_a_transmit_runs_as_a_service_and_is_counted(edge_server_factory, tmp_path):
    server = edge_server_factory()
    config = configuration(tmp_path)
    violations = server.client.post("/v1/config/validate", config).json["response"]["violations"]
    assert [v for v in violations if v["json_path"] == ["data_transmit", 0]] == []  # no "cannot run" warning
    post_config(server, config)

    services = server.client.get("/v1/status").json["response"]["factorytx"]["services"]
    assert services["cloud"]["status"] == "running"
    assert (services["cloud"]["component_type"], services["cloud"]["type"]) == ("Transmit", "remotedatapost")
    assert services["line_1"]["status"] == "running"
    started = [line for line in core_log(server) if "pipeline started:" in line]
    # At start-up nothing is configured; after the save, the receiver and the transmit run.
    assert started[-1].endswith("edge.pipeline.scheduler INFO pipeline started: 2 of 2 services running")
    transmits = server.client.get("/v1/status").json["response"]["last_data_transmit"]["transmits"]
    assert transmits["cloud"]["records_queued"] == 0 and transmits["cloud"]["records_sent"] == 0



def test_error_markers_a_receiver_raises_show_in_its_error_count_and_last_error(edge_server_factory, tmp_path):
    server = edge_server_factory()
    missing = tmp_path / "not-mounted"
    post_config(server, configuration(missing))  # saved with a warning: the folder is not there

    def line_1():
        return server.client.get("/v1/status").json["response"]["factorytx"]["services"]["line_1"]

    # Each pass ends well (nothing raised) but marks both streams with a connection error.
    wait_for(lambda: line_1()["error_count"] >= 2)
    service = line_1()
    assert service["status"] == "running"
    assert service["last_error"] in (f"{stream}: {missing}: the folder does not exist or is not a folder"
                                     for stream in ("press_0:cycle", "oven_0:temperature"))
    markers = [m for s in server.client.get("/v1/streams").json["response"] for m in s["markers"]]
    assert {(m["component"], m["category"], m["level"]) for m in markers} == {("line_1", "connection", "error")}
    assert service["last_error_time"] in {m["timestamp"] for m in markers}


def test_streams_lists_every_configured_stream_with_its_markers(edge_server_factory, tmp_path):
    server = edge_server_factory()
    assert server.client.get("/v1/streams").json == {"success": True, "response": []}
    post_config(server, configuration(tmp_path, receivers=("line_1", "line_2")))
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        Markers(catalog).raise_marker("line_2", "Receiver", "oven_1", "temperature", "parse", "error",
                                      "Row 4: cannot parse 'x' as a number")
    finally:
        catalog.close()

    response = server.client.get("/v1/streams").json
    assert response["success"] is True
    streams = response["response"]
    assert [(s["stream"], s["data_receiver"]) for s in streams] == [
        ("press_0:cycle", "line_1"), ("oven_0:temperature", "line_1"),
        ("press_1:cycle", "line_2"), ("oven_1:temperature", "line_2")]
    assert streams[0] == {"stream": "press_0:cycle", "asset": "press_0", "stream_type": "cycle",
                          "data_receiver": "line_1", "markers": []}
    marker = streams[3]["markers"][0]
    assert streams[3]["markers"] == [marker]
    assert UTC_TEXT.match(marker.pop("timestamp"))
    assert marker == {"component": "line_2", "component_type": "Receiver", "asset": "oven_1",
                      "stream_type": "temperature", "category": "parse", "level": "error",
                      "message": "Row 4: cannot parse 'x' as a number"}


def stored_state(server):
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        return sorted(catalog.connection().execute("SELECT receiver, asset, stream_type, resource FROM receiver_state"))
    finally:
        catalog.close()


def seed_state(server, rows):
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        state = ReceiverState(catalog)
        for receiver, asset, stream_type, resource in rows:
            state.put(receiver, asset, stream_type, resource, {"size": 120, "mtime": 1700000000.5})
        Markers(catalog).raise_marker("line_1", "Receiver", "press_0", "cycle", "parse", "warning", "short row")
    finally:
        catalog.close()


SEEDED = [("line_1", "press_0", "cycle", "a.csv"), ("line_1", "press_0", "cycle", "b.csv"),
          ("line_1", "oven_0", "temperature", "t.txt"), ("line_2", "press_1", "cycle", "a.csv")]


@pytest.fixture
def restream_server(edge_server_factory, tmp_path):
    server = edge_server_factory()
    # An existing, empty folder: the receivers run clean (no markers) until stopped.
    folder = tmp_path / "empty-share"
    folder.mkdir()
    post_config(server, configuration(folder, receivers=("line_1", "line_2")))
    # Stopped, so that only the seeded rows are in receiver_state.
    assert server.client.post("/v1/ftx/stop").json["response"] == "stopped"
    seed_state(server, SEEDED)
    return server


def test_restream_purges_the_named_streams_receiver_state(restream_server):
    server = restream_server
    response = server.client.post("/v1/restream", body={"line_1": [{"asset": "press_0", "stream_type": "cycle"}]})
    assert response.status == 200
    assert response.json == {"success": True, "response": "Restream has completed successfully"}
    assert stored_state(server) == sorted([("line_1", "oven_0", "temperature", "t.txt"),
                                           ("line_2", "press_1", "cycle", "a.csv")])
    streams = server.client.get("/v1/streams").json["response"]
    assert all(s["markers"] == [] for s in streams)

    response = server.client.post("/v1/restream", body={
        "line_1": [{"asset": "oven_0", "stream_type": "temperature"}],
        "line_2": [{"asset": "press_1", "stream_type": "cycle"}]})
    assert response.json["success"] is True
    assert stored_state(server) == []


def raise_marker(server, component, asset, stream_type, message):
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        Markers(catalog).raise_marker(component, "Receiver", asset, stream_type, "connection", "error", message)
    finally:
        catalog.close()


def stream_markers(server):
    return {s["stream"]: [(m["component"], m["message"]) for m in s["markers"]]
            for s in server.client.get("/v1/streams").json["response"]}


def test_markers_of_a_renamed_receiver_are_cleared_by_the_save_and_by_restream(restream_server, tmp_path):
    server = restream_server
    raise_marker(server, "line_1", "press_0", "cycle", "the folder does not exist")
    assert sorted(stream_markers(server)["press_0:cycle"]) == [("line_1", "short row"),  # seeded
                                                               ("line_1", "the folder does not exist")]

    folder = tmp_path / "empty-share"
    post_config(server, configuration(folder, receivers=("press_line", "line_2")))  # line_1 renamed
    markers = stream_markers(server)
    assert markers["press_0:cycle"] == []  # line_1's marker no longer shows on press_line's stream
    assert markers["oven_0:temperature"] == []

    # A marker of a receiver that is gone, standing on the stream: restream clears it too.
    raise_marker(server, "line_1", "press_0", "cycle", "left over")
    raise_marker(server, "press_line", "press_0", "cycle", "its own")
    response = server.client.post("/v1/restream", body={"press_line": [{"asset": "press_0", "stream_type": "cycle"}]})
    assert response.json == {"success": True, "response": "Restream has completed successfully"}
    assert stream_markers(server)["press_0:cycle"] == []


@pytest.mark.parametrize("body", [
    b'{"line_1": [{"asset": "press_0", "stream_type": "cycle"}',
    b"",
    b'["line_1"]',
    b'{"line_9": [{"asset": "press_0", "stream_type": "cycle"}]}',
    b'{"line_1": [{"asset": "press_0", "stream_type": "cycle"}], "line_2": [{"asset": "oven_0", '
    b'"stream_type": "temperature"}]}',
    b'{"line_1": [{"asset": "press_0", "stream_type": 7}]}',
    b'{"line_1": "press_0:cycle"}',
])
def test_bad_restream_is_refused_and_purges_nothing(restream_server, body):
    response = restream_server.client.post("/v1/restream", body=body)
    assert response.status == 400
    assert response.json["success"] is False
    assert response.json["error"]["code"] == 400
    assert response.json["error"]["text"]
    assert stored_state(restream_server) == sorted(SEEDED)


def test_log_stream_returns_the_last_lines_of_the_core_log(edge_server):
    client = edge_server.client
    core = (edge_server.data_dir / "logs" / "factorytx_core.log").read_text().splitlines()
    response = client.get("/v1/log/stream")
    assert response.status == 200
    lines = response.json["response"]
    assert response.json["success"] is True
    assert lines == core[-100:]
    assert any("serving on http://127.0.0.1:" in line for line in lines)
    assert all(LOG_LINE.match(line) for line in lines)
    assert client.get("/v1/log/stream/factorytx_core.log?lines=2").json["response"] == core[-2:]


def test_log_stream_of_the_web_log_shows_requests(client):
    for _ in range(3):
        client.get("/v1/streams")
    lines = client.get("/v1/log/stream/factorytx_web.log?lines=3").json["response"]
    assert len(lines) == 3
    assert all(re.search(r" edge\.web INFO 127\.0\.0\.1 GET /v1/streams 200 ", line) for line in lines)


@pytest.mark.parametrize("lines", ["0", "-5", "abc", "10001", "1e3", ""])
def test_log_stream_refuses_a_bad_line_count(client, lines):
    response = client.get(f"/v1/log/stream?lines={lines}")
    assert response.status == 400
    assert response.json["success"] is False
    assert "lines must be" in response.json["error"]["text"]


@pytest.mark.parametrize("path", [
    "/v1/log/stream/../catalog.db",
    "/v1/log/stream/..%2Fcatalog.db",
    "/v1/log/stream/..%2f..%2finitial-password",
    "/v1/log/stream/%2Fetc%2Fpasswd",
    "/v1/log/stream//etc/passwd",
    "/v1/log/stream/logs/factorytx_core.log",
    "/v1/log/stream/factorytx_core.log.1",
    "/v1/log/stream/catalog.db",
    "/v1/log/stream/factorytx_core.log%00",
    "/v1/log/stream/factorytx_core.log%2F..%2F..%2Fcatalog.db",
    "/v1/log/stream/.",
    "/v1/log/stream/%2e%2e",
])
def test_log_stream_refuses_every_path_trick(edge_server, path):
    rotated = edge_server.data_dir / "logs" / "factorytx_core.log.1"
    rotated.write_text("ROTATED-SECRET\n")
    try:
        status, body = raw_get(edge_server, path)
    finally:
        rotated.unlink()
    assert status in (400, 404)
    text = body.decode()
    assert '"success": false' in text
    for secret in ("SQLite", "root:", "test-admin-password", "ROTATED-SECRET", "serving on"):
        assert secret not in text


def test_sigterm_stops_cleanly_with_exit_code_0(edge_server_factory, tmp_path):
    server = edge_server_factory()
    post_config(server, configuration(tmp_path))
    assert server.client.get("/v1/status").json["success"] is True
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    core = (server.data_dir / "logs" / "factorytx_core.log").read_text().splitlines()
    assert core[-1].endswith("edge.app INFO stopped")
    assert any(line.endswith("edge.app INFO signal 15: stopping") for line in core)
    if expected_service_status("data_receiver", "localfile") == "running":
        assert any(line.endswith("receiver:line_1 stopped") for line in core)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_systemd_hears_ready_watchdog_pings_and_stopping(edge_server_factory):
    name = f"@edge-notify-test-{os.getpid()}-{time.monotonic_ns()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name[1:])
    listener.settimeout(30)
    try:
        # WATCHDOG_USEC of 1 s: a ping at least every 0.5 s while healthy.
        server = edge_server_factory(env={"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "1000000"})
        heard = [listener.recv(4096).decode()]
        while heard.count("WATCHDOG=1") < 3:
            heard.append(listener.recv(4096).decode())
        assert heard[0] == "READY=1\nSTATUS=serving"
        assert server.client.get("/v1/status").status == 200
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
        while heard[-1] != "STOPPING=1":
            heard.append(listener.recv(4096).decode())
        assert set(heard[1:-1]) == {"WATCHDOG=1"}
    finally:
        listener.close()
