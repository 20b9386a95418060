"""LOGIN_ATTEMPTS over HTTP: wrong passwords from one address, then 429 with Retry-After in
each API's envelope, with no password checked; a client that verified before goes on."""

from __future__ import annotations

import base64
import urllib.parse

from tests.conftest import ADMIN_PASSWORD


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_past_the_limit_every_api_answers_429_and_a_verified_client_goes_on(edge_server_factory):
    server = edge_server_factory(conf_lines=["LOGIN_ATTEMPTS = 2"])
    client = server.client
    assert client.get("/v1/status").status == 200  # this client's header is now remembered
    select = "/machbase?q=" + urllib.parse.quote("select count(*) from v$stmt")
    for guess in ("guess-1", "guess-2"):
        wrong = client.get(select, auth=basic("sys", guess))
        assert wrong.status == 401 and wrong.json["error_code"] == 3119

    refused = client.get(select, auth=basic("sys", "guess-3"))
    assert refused.status == 429
    assert refused.json["error_code"] == 3120
    assert refused.json["error_message"].startswith("Too many wrong passwords from 127.0.0.1; try again in ")
    assert 1 <= int(refused.headers["Retry-After"]) <= 6
    # The right password is not even checked from this address now ...
    fresh = client.get("/v1/status", auth=basic("sys@elsewhere", ADMIN_PASSWORD))
    assert fresh.status == 429
    assert fresh.json["success"] is False and fresh.json["error"]["code"] == 429
    # ... nor through InfluxDB's u/p or the web UI's login form ...
    influx = client.post("/write?db=TAG&u=sys%40influx&p=" + urllib.parse.quote(ADMIN_PASSWORD), b"m v=1 1",
                         headers={"Content-Type": "text/plain"}, auth=False)
    assert influx.status == 429 and "Too many wrong passwords" in influx.body.decode()
    login = client.post("/ui/login", {"user": "sys", "password": ADMIN_PASSWORD}, auth=False)
    assert login.status == 429 and login.json["error"]["code"] == 429
    assert "Set-Cookie" not in login.headers and int(login.headers["Retry-After"]) >= 1
    # ... but the client whose credentials verified before goes on.
    assert client.get("/v1/status").status == 200
    answer = client.get(select)
    assert answer.status == 200, answer.body
