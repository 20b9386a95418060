"""Cross-cutting HTTP behaviour: auth, body limits, unknown routes, start-up refusals."""

import base64
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_missing_auth_is_401_in_factorytx_envelope(client):
    response = client.get("/v1/config", auth=None)
    assert response.status == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json == {"success": False, "response": {},
                              "error": {"code": 401, "text": "There is No Authorization Header."}}
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_missing_auth_is_3118_in_machbase_envelope(client):
    response = client.get("/machbase?q=select+1", auth=None)
    assert response.status == 401
    assert response.json == {"error_code": 3118, "error_message": "There is No Authorization Header.", "data": []}


@pytest.mark.parametrize("credentials", ["sys:test-admin-password", "sys@localhost:test-admin-password",
                                         "sys@anyhost:test-admin-password"])
def test_both_credential_styles_are_accepted(client, credentials):
    response = client.get("/v1/config", auth=basic(credentials))
    assert response.status == 200
    assert response.json["success"] is True


def test_wrong_password_is_refused(client):
    response = client.get("/v1/config", auth=basic("sys:nope"))
    assert response.status == 401
    assert response.json["success"] is False
    response = client.get("/machiot/tags/list/tag", auth=basic("sys@localhost:nope"))
    assert response.status == 401
    assert response.json["error_code"] == 3119


def test_unknown_routes_answer_json_404(client):
    for path in ("/v1/no/such/thing", "/nothing-here", "/ui/no-such-page"):  # "/" is the web UI
        response = client.get(path)
        assert response.status == 404, path
        assert response.headers["Content-Type"] == "application/json"
        assert response.json["success"] is False
        assert response.json["error"]["code"] == 404


def test_wrong_method_answers_json_405(client):
    response = client.request("DELETE", "/v1/config")
    assert response.status == 405
    assert response.json["success"] is False


def test_body_over_max_request_size_is_refused_and_server_keeps_serving(edge_server_factory):
    server = edge_server_factory(conf_lines=["MAX_REQUEST_SIZE = 2048"])
    huge = b'{"data_receiver": [' + b'{"x": 1},' * 2000 + b'{"x": 1}]}'
    response = server.client.post("/v1/config", body=huge)
    assert response.status == 413
    assert response.json["error"]["code"] == 413
    assert "MAX_REQUEST_SIZE" in response.json["error"]["text"]
    response = server.client.request("POST", "/machbase", body=huge)
    assert response.status == 413
    assert response.json["error_code"] != 0
    assert server.client.get("/v1/config").status == 200


def test_health_answers_up_without_credentials_and_tells_nothing_else(client):
    for auth in (None, basic("sys:wrong"), True):
        response = client.get("/health", auth=auth)
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.json == {"status": "up"}
    head = client.request("HEAD", "/health", auth=None)
    assert head.status == 200 and head.body == b""
    response = client.post("/health", body={}, auth=None)
    assert response.status == 405
    assert response.json["success"] is False and response.json["error"]["code"] == 405
    # Only the exact path is open: what lies beside it still needs credentials.
    assert client.get("/health/more", auth=None).status == 401
    assert client.get("/v1/health", auth=None).status == 401


def test_auth_can_be_turned_off(edge_server_factory):
    server = edge_server_factory(conf_lines=["HTTP_AUTH = 0"])
    assert server.client.get("/v1/config", auth=None).status == 200


def test_bad_setting_stops_start_up_naming_file_and_line(tmp_path):
    conf = tmp_path / "edge.conf"
    conf.write_text("HTTP_PORT_NO = 5657\nHTTP_THREADZ = 4\n")
    result = subprocess.run([sys.executable, "-m", "edge", "serve", "--config", str(conf), "--data-dir",
                             str(tmp_path / "d")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{conf}:2: unknown setting HTTP_THREADZ" in result.stderr
    assert not (tmp_path / "d").exists()


def test_port_in_use_is_a_clear_error(edge_server, tmp_path):
    result = subprocess.run([sys.executable, "-m", "edge", "serve", "--data-dir", str(tmp_path / "d"),
                             "--http-port", str(edge_server.port)], cwd=REPO, capture_output=True, text=True,
                            timeout=60, env={"EDGE_ADMIN_PASSWORD": "x", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "cannot serve on 127.0.0.1:" in result.stderr


def test_version_command():
    result = subprocess.run([sys.executable, "-m", "edge", "version"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("edge ")


def test_an_answer_leaves_in_one_piece_and_a_bodiless_one_keeps_the_connection(edge_server):
    """The head is held for the body and sent with it (edge.web.sending): on loopback the
    first read after the request holds the whole answer. A 204 has no body: its head goes
    alone, and the connection serves on (waitress alone would close it)."""
    with socket.create_connection(("127.0.0.1", edge_server.port), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = sock.recv(65536)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert body == b'{"status": "up"}'
            assert f"content-length: {len(body)}".encode() in head.lower()
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 204 ") and answer.endswith(b"\r\n\r\n")
            assert b"connection: close" not in answer.lower()
            sock.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")
            head = sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")


def test_a_bodiless_answer_closes_the_connection_when_the_client_asks(edge_server):
    with socket.create_connection(("127.0.0.1", edge_server.port), timeout=10) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 204 ") and b"connection: close" in answer.lower()
        assert sock.recv(65536) == b""  # closed
