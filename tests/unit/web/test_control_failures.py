"""How /v1/ftx/* and /v1/restream answer when the work itself fails (not the request)."""

import base64
import io
import json
from wsgiref.util import setup_testing_defaults

import pytest

from edge.app import EdgeApp
from edge.settings import load_settings

PASSWORD = "unit-test-password"


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_ADMIN_PASSWORD", PASSWORD)
    edge_app = EdgeApp(load_settings(None, {"DATA_DIR": str(tmp_path / "data")}))
    yield edge_app
    edge_app.scheduler.shutdown()
    edge_app.store.close()  # its housekeeping thread too, before the data goes
    edge_app.catalog.close()


def call(app, method, path, body=b""):
    """The WSGI app called in this thread, so it shares this thread's catalog connection."""
    environ = {}
    setup_testing_defaults(environ)
    environ.update({"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
                    "wsgi.input": io.BytesIO(body), "CONTENT_TYPE": "application/json",
                    "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"sys:{PASSWORD}".encode()).decode()})
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])

    body = b"".join(app.wsgi(environ, start_response))
    return seen["status"], json.loads(body)


def make_catalog_read_only(app):
    # A real SQLite refusal to write (as on a full or read-only disk), on this thread's connection.
    app.catalog.connection().execute("PRAGMA query_only = ON")


@pytest.mark.parametrize("action", ["start", "stop", "restart"])
def test_control_that_cannot_record_its_state_answers_failed(app, action):
    make_catalog_read_only(app)
    status, body = call(app, "POST", f"/v1/ftx/{action}")
    assert status == 500
    assert body["success"] is False
    assert body["response"] == "failed"
    assert body["error"]["code"] == 500
    assert body["error"]["text"].startswith("Cannot record the pipeline state: ")
    app.catalog.connection().execute("PRAGMA query_only = OFF")
    assert call(app, "POST", f"/v1/ftx/{action}")[1] == {
        "success": True, "response": "stopped" if action == "stop" else "running"}


def test_restream_that_cannot_purge_answers_500_and_changes_nothing(app):
    app.config_history.save({"data_receiver": [{"data_receiver_name": "r", "protocol": "localfile",
                                                "streams": [{"asset": "a", "stream_type": "cycle"}]}],
                             "transforms": [], "data_transmit": []})
    app.receiver_state.put("r", "a", "cycle", "f.csv", {"size": 1})
    make_catalog_read_only(app)
    status, body = call(app, "POST", "/v1/restream", json.dumps({"r": [{"asset": "a", "stream_type": "cycle"}]}).encode())
    assert status == 500
    assert body["success"] is False
    assert body["error"]["code"] == 500
    assert body["error"]["text"].startswith("Restream failed, nothing was purged: ")
    assert app.receiver_state.all_for_stream("r", "a", "cycle") == {"f.csv": {"size": 1}}
