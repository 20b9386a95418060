"""Slow or hostile clients must not stall the box: half-open connections, connection floods,
slow queries on every worker, and requests waitress itself refuses (answered in JSON)."""

from __future__ import annotations

import base64
import json
import select
import socket
import time
import urllib.parse

import pytest

from tests.conftest import ADMIN_PASSWORD

AUTH = "Basic " + base64.b64encode(f"sys:{ADMIN_PASSWORD}".encode()).decode()
SLOW_QUERY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
HALF_OPEN = b"GET /v1/status HTTP/1.1\r\nHost: edge\r\n"  # the request line and one header, never finished


def connect(server, source: str = "127.0.0.1") -> socket.socket:
    """A connection to `server` from the loopback address `source` (any 127.x.y.z is ours)."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=15, source_address=(source, 0))


def read_response(sock: socket.socket, timeout: float = 15) -> tuple[int, dict, bytes]:
    """One whole response from a connection the server closes after it: (status, headers, body)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def has_answer(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


@pytest.fixture
def sockets():
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


# Item 5: half-open connections and floods ----------------------------------------------------

def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(15)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_half_open_connections_from_one_address_leave_status_answering(edge_server_factory, sockets):
    server = edge_server_factory(conf_lines=["HTTP_CONNECTIONS_PER_ADDRESS = 20"])
    for _ in range(110):
        sock = connect(server, "127.0.0.2")
        sock.sendall(HALF_OPEN)
        sockets.append(sock)
    # Everyone is served while the address holds its 20, that address too.
    response = server.client.get("/v1/status", timeout=10)
    assert response.status == 200
    assert response.json["success"] is True
    from_the_same = connect(server, "127.0.0.2")
    sockets.append(from_the_same)
    from_the_same.sendall(f"GET /v1/status HTTP/1.1\r\nHost: edge\r\nAuthorization: {AUTH}\r\n"
                          f"Connection: close\r\n\r\n".encode())
    status, _, body = read_response(from_the_same)
    assert status == 200 and json.loads(body)["success"] is True
    # Each new connection past the 20 closed the oldest half-open one of the address.
    assert all(closed_by_server(sock) for sock in sockets[:90])
    assert not any(has_answer(sock) for sock in sockets[91:110])


def test_an_address_whose_connections_are_all_busy_is_answered_503_at_once(edge_server_factory, sockets):
    server = edge_server_factory(conf_lines=["HTTP_CONNECTIONS_PER_ADDRESS = 2", "REQUEST_TIMEOUT_MS = 3000"])
    slow = (f"GET /machbase?q={urllib.parse.quote(SLOW_QUERY)} HTTP/1.1\r\nHost: edge\r\n"
            f"Authorization: {AUTH}\r\nConnection: close\r\n\r\n").encode()
    for _ in range(2):
        sock = connect(server, "127.0.0.3")
        sock.sendall(slow)
        sockets.append(sock)
    assert server.client.get("/health").status == 200  # by now both queries are read and running
    third = connect(server, "127.0.0.3")
    sockets.append(third)
    third.sendall(b"GET /machbase?q=select+1 HTTP/1.1\r\nHost: edge\r\n\r\n")
    status, headers, body = read_response(third)
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error_code": 3011, "error_message":
                                "Too many connections from 127.0.0.3 (HTTP_CONNECTIONS_PER_ADDRESS = 2), all of them "
                                "busy; try again later", "data": []}
    fourth = connect(server, "127.0.0.3")
    sockets.append(fourth)
    fourth.sendall(HALF_OPEN)
    status, _, body = read_response(fourth)
    assert status == 503
    assert json.loads(body)["error"]["code"] == 503
    for sock in sockets[:2]:  # the busy ones were left alone
        assert json.loads(read_response(sock, timeout=30)[2])["error_code"] == 2013


def test_a_flood_of_half_open_connections_gives_way_to_new_clients(edge_server_factory, sockets):
    server = edge_server_factory(conf_lines=["HTTP_MAX_CONNECTIONS = 50", "HTTP_CONNECTIONS_PER_ADDRESS = 10"])
    for n in range(300):
        sock = connect(server, f"127.0.1.{n % 30 + 1}")
        sock.sendall(HALF_OPEN)
        sockets.append(sock)
    response = server.client.get("/v1/status", timeout=10)
    assert response.status == 200
    assert response.json["success"] is True
    assert server.client.get("/health", auth=None, timeout=10).json == {"status": "up"}


def test_a_request_that_never_finishes_gets_408_and_the_connection_closes(edge_server_factory, sockets):
    server = edge_server_factory(conf_lines=["REQUEST_TIMEOUT_MS = 1000"])
    half_open = connect(server)
    sockets.append(half_open)
    half_open.sendall(b"GET /machbase?q=select+1 HTTP/1.1\r\nHost: edge\r\n")
    status, headers, body = read_response(half_open)
    assert status == 408
    assert headers["Connection"] == "close"
    assert json.loads(body) == {"error_code": 3010, "error_message":
                                "The request did not arrive within REQUEST_TIMEOUT_MS (1000 ms)", "data": []}
    idle = connect(server)
    sockets.append(idle)
    idle.settimeout(15)
    assert idle.recv(1) == b""  # closed by the server, without an answer


def test_a_request_trickled_byte_by_byte_is_cut_off(edge_server_factory, sockets):
    server = edge_server_factory(conf_lines=["REQUEST_TIMEOUT_MS = 1000"])
    slow = connect(server)
    sockets.append(slow)
    request = b"GET /v1/status HTTP/1.1\r\nHost: edge\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    answered_while_sending = False
    for byte in request:  # each byte keeps the connection from being idle
        if has_answer(slow):
            answered_while_sending = True
            break
        slow.sendall(bytes([byte]))
        time.sleep(0.05)
    assert answered_while_sending
    status, _, body = read_response(slow)
    assert status == 408
    assert json.loads(body)["error"]["code"] == 408


# Item 6: slow queries get a share of the workers, not all -----------------------------------

def test_slow_queries_on_every_worker_leave_status_health_and_appends_answering(edge_server_factory, sockets):
    server = edge_server_factory(conf_lines=["HTTP_THREADS = 4", "HTTP_QUERY_THREADS = 2",
                                             "REQUEST_TIMEOUT_MS = 3000"])
    created = server.client.get("/machbase?q=" + urllib.parse.quote(
        "create tag table plant (name varchar(20) primary key, time datetime basetime, value double summarized)"))
    assert created.json["error_code"] == 0
    request = (f"GET /machbase?q={urllib.parse.quote(SLOW_QUERY)} HTTP/1.1\r\nHost: edge\r\n"
               f"Authorization: {AUTH}\r\nConnection: close\r\n\r\n").encode()
    for _ in range(4):  # as many as HTTP_THREADS
        sock = connect(server)
        sock.sendall(request)
        sockets.append(sock)

    status = server.client.get("/v1/status", timeout=30)
    health = server.client.get("/health", auth=None, timeout=30)
    append = server.client.post("/machbase", {"name": "plant", "date_format": "YYYY-MM-DD HH24:MI:SS",
                                              "values": [["press", "2026-01-02 03:04:05", 1.5]]}, timeout=30)
    # All three were answered while every query still ran or waited its turn.
    assert not any(has_answer(sock) for sock in sockets)
    assert status.status == 200 and status.json["success"] is True
    assert health.json == {"status": "up"}
    assert append.json["error_code"] == 0
    assert append.json["append_success"] == 1
    # The queries queued behind each other, none refused: each ran until REQUEST_TIMEOUT_MS.
    for sock in sockets:
        code, _, body = read_response(sock, timeout=30)
        assert json.loads(body)["error_code"] == 2013, body


# Item 7: what waitress refuses is answered in the envelope too ------------------------------

def raw_exchange(server, request: bytes) -> tuple[int, dict, bytes]:
    with connect(server) as sock:
        sock.sendall(request)
        return read_response(sock)


def test_unparseable_request_line_answers_400_in_factorytx_envelope(edge_server):
    status, headers, body = raw_exchange(edge_server, b"NOT A REQUEST LINE AT ALL\r\nHost: edge\r\n\r\n")
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["success"] is False and answer["response"] == {}
    assert answer["error"]["code"] == 400
    assert answer["error"]["text"].startswith("Bad Request: ")


def test_negative_content_length_answers_400_in_machbase_envelope(edge_server):
    status, headers, body = raw_exchange(
        edge_server, b"POST /machbase HTTP/1.1\r\nHost: edge\r\nContent-Length: -5\r\n\r\n")
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error_code": 3000, "error_message": "Bad Request: Content-Length is invalid",
                                "data": []}


def test_headers_too_large_answer_431_in_machiot_envelope(edge_server):
    head = b"GET /machiot/tags/list/tag HTTP/1.1\r\nHost: edge\r\nX-Big: "
    request = head + b"a" * (262144 - len(head))  # exactly waitress's limit: all of it is read
    status, headers, body = raw_exchange(edge_server, request)
    assert status == 431
    assert headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["error_code"] == 3000
    assert answer["error_message"] == "Request Header Fields Too Large: exceeds max_header of 262144"
    assert "timezone" in answer and answer["data"] == []


def test_unsupported_transfer_encoding_answers_501_in_factorytx_envelope(edge_server):
    status, headers, body = raw_exchange(
        edge_server, b"POST /v1/config HTTP/1.1\r\nHost: edge\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert status == 501
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["code"] == 501
    assert edge_server.client.get("/v1/status").status == 200
