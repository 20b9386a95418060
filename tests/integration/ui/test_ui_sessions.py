"""The web UI's sessions over HTTP: login, the cookie, CSRF on changes, roles, logout, and
what anyone may fetch without credentials."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.conftest import ADMIN_PASSWORD

UI = {"X-Requested-With": "edge-ui"}


def log_in(client, user: str, password: str):
    answer = client.post("/ui/login", {"user": user, "password": password}, auth=False)
    assert answer.status == 200, answer.body
    cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
    return cookie, answer.json["response"]["csrf_token"], answer.headers["Set-Cookie"]


@pytest.fixture(scope="module")
def reader(edge_server):
    q = urllib.parse.quote("CREATE USER scada IDENTIFIED BY 'reader-pw'")
    assert edge_server.client.get(f"/machbase?q={q}").status == 200
    return "scada", "reader-pw"


def test_the_page_and_its_files_need_no_credentials_and_show_no_data(client):
    page = client.get("/", auth=False)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    for name, kind in (("app.js", "text/javascript"), ("uPlot.iife.min.js", "text/javascript"),
                       ("app.css", "text/css"), ("uPlot.min.css", "text/css")):
        answer = client.get(f"/ui/static/{name}", auth=False)
        assert answer.status == 200 and answer.headers["Content-Type"].startswith(kind), name
    again = client.get("/ui/static/app.js", auth=False,
                       headers={"If-None-Match": client.get("/ui/static/app.js", auth=False).headers["ETag"]})
    assert again.status == 304 and again.body == b""
    assert client.get("/ui/static/..%2Fsessions.py", auth=False).status == 404
    assert client.get("/ui/static/.hidden", auth=False).status == 404
    assert client.get("/ui/session", auth=False).status == 401
    assert client.get("/ui/config/revisions", auth=False).status == 401


def test_a_wrong_password_gets_no_cookie(client):
    answer = client.post("/ui/login", {"user": "sys", "password": "wrong"}, auth=False)
    assert answer.status == 401 and "Set-Cookie" not in answer.headers
    assert answer.json["error"]["text"] == "Invalid user name or password."
    bad = client.post("/ui/login", {"user": "sys"}, auth=False)
    assert bad.status == 400 and bad.json["success"] is False


def test_the_cookie_is_http_only_strict_and_stands_for_the_user(client):
    cookie, csrf, header = log_in(client, "sys", ADMIN_PASSWORD)
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    session = client.get("/ui/session", auth=False, headers={"Cookie": cookie})
    assert session.status == 200
    assert session.json["response"] == {"user": "sys", "role": "admin", "csrf_token": csrf}
    assert client.get("/v1/status", auth=False, headers={"Cookie": cookie}).status == 200


def test_a_change_with_the_cookie_needs_the_csrf_token(client):
    cookie, csrf, _ = log_in(client, "sys", ADMIN_PASSWORD)
    for headers in ({"Cookie": cookie}, {"Cookie": cookie, "X-CSRF-Token": "forged"}):
        answer = client.post("/v1/ftx/stop", auth=False, headers=headers)
        assert answer.status == 403 and "CSRF" in answer.json["error"]["text"]
    assert client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"
    answer = client.post("/v1/ftx/stop", auth=False, headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert answer.status == 200 and answer.json["response"] == "stopped"
    answer = client.post("/v1/ftx/start", auth=False, headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    assert answer.status == 200 and answer.json["response"] == "running"
    # The Machbase envelope too, for the historian's routes.
    append = client.post("/machiot/datapoints/raw/tag", {"values": [["csrf-tag", "2001-09-09 01:46:40", 1]]},
                         auth=False, headers={"Cookie": cookie})
    assert append.status == 403 and "CSRF" in append.json["error_message"]


def test_a_reader_logged_in_may_read_but_not_change(client, reader):
    cookie, csrf, _ = log_in(client, *reader)
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf}
    assert client.get("/ui/session", auth=False, headers=headers).json["response"]["role"] == "reader"
    assert client.get("/v1/config", auth=False, headers=headers).status == 200
    refused = client.post("/v1/ftx/stop", auth=False, headers=headers)
    assert refused.status == 403 and "reader" in refused.json["error"]["text"]
    assert client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"
    # Logging out is one's own business.
    assert client.post("/ui/logout", auth=False, headers=headers).status == 200
    assert client.get("/ui/session", auth=False, headers=headers).status == 401


def test_logout_ends_the_session_and_a_changed_password_ends_it_too(client, edge_server):
    cookie, csrf, _ = log_in(client, "sys", ADMIN_PASSWORD)
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf}
    out = client.post("/ui/logout", auth=False, headers=headers)
    assert out.status == 200 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert client.get("/v1/status", auth=False, headers=headers).status == 401

    q = urllib.parse.quote("CREATE USER ops IDENTIFIED BY 'first' ROLE admin")
    assert client.get(f"/machbase?q={q}").status == 200
    cookie, csrf, _ = log_in(client, "ops", "first")
    assert client.get("/v1/status", auth=False, headers={"Cookie": cookie}).status == 200
    q = urllib.parse.quote("ALTER USER ops IDENTIFIED BY 'second'")
    assert client.get(f"/machbase?q={q}").status == 200
    assert client.get("/v1/status", auth=False, headers={"Cookie": cookie}).status == 401


def test_the_pages_get_no_basic_challenge_so_the_browser_shows_no_dialog(client):
    plain = client.get("/v1/status", auth=False)
    assert plain.status == 401 and plain.headers["WWW-Authenticate"] == 'Basic realm="edge"'
    from_page = client.get("/v1/status", auth=False, headers=UI)
    assert from_page.status == 401 and "WWW-Authenticate" not in from_page.headers


def test_revisions_are_listed_newest_first_with_secrets_masked(client):
    config = {"data_receiver": [], "transforms": [], "data_transmit": [
        {"transmit_name": "t0", "transmit_type": "remotedatapost", "base_url": "https://x.sightmachine.io",
         "API_key_ID": "id", "API_key": "very-secret-key"}]}
    saved = client.post("/v1/config", config)
    assert saved.status == 200, saved.body
    assert client.post("/v1/config", {"data_receiver": [], "transforms": [], "data_transmit": []}).status == 200
    answer = client.get("/ui/config/revisions?limit=2")
    revisions = answer.json["response"]
    assert [r["revision"] for r in revisions] == sorted((r["revision"] for r in revisions), reverse=True)
    assert revisions[0]["body"]["data_transmit"] == []
    assert revisions[1]["body"]["data_transmit"][0]["API_key_ID"] == "id"
    assert b"very-secret-key" not in answer.body
    assert client.get("/ui/config/revisions?limit=0").status == 400
    assert client.get("/ui/config/revisions?limit=x").json["success"] is False


def test_an_idle_session_expires_and_a_removed_user_loses_it(tmp_path):
    from edge.catalog import Catalog
    from edge.catalog.users import ADMIN, Users
    from edge.web.auth import AuthResult
    from edge.web.ui.sessions import COOKIE, Sessions

    catalog = Catalog(tmp_path / "catalog.db")
    try:
        users = Users(catalog)
        users.create("ops", "pw-1", ADMIN)
        users.create("other", "pw-2", ADMIN)
        lasting = Sessions(users)
        assert lasting.log_in("ops", "wrong") is None
        other_token, _ = lasting.log_in("other", "pw-2")
        environ = {"REQUEST_METHOD": "GET", "HTTP_COOKIE": f"{COOKIE}={other_token}"}
        assert lasting.check(environ).outcome == AuthResult.OK
        assert lasting.check({**environ, "HTTP_COOKIE": "edge_session=\"unbalanced"}).outcome == AuthResult.MISSING
        users.remove("other")
        assert lasting.check(environ).outcome == AuthResult.MISSING

        expiring = Sessions(users, idle_seconds=0)
        token, _ = expiring.log_in("ops", "pw-1")
        assert expiring.check({"REQUEST_METHOD": "GET", "HTTP_COOKIE": f"{COOKIE}={token}"}).outcome \
            == AuthResult.MISSING
    finally:
        catalog.close()
