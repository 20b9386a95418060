"""/v1/config and /v1/config/validate on a real server: save, history, masking, bad input."""

import copy
import json
import re
import sqlite3
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "factorytx_spec"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
MASK = "********"


def spec(name: str):
    return json.loads((SPEC / name).read_text())


def smb_config(password="share-pw", api_key="cloud-key") -> dict:
    return {
        "data_receiver": [{
            "data_receiver_name": "share", "protocol": "smb", "poll_interval": 5,
            "connections": [{"host": "10.0.0.5", "username": "u", "password": password, "shared_folder": "data/in"}],
            "parsers": [{"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["*"],
                         "options": {"parse": {"parse_dates": ["time"]}}}],
            "streams": [{"asset": "oven", "stream_type": "cycle", "file_filter": ["*.csv"]}],
        }],
        "transforms": [],
        "data_transmit": [{"transmit_name": "cloud", "base_url": "https://plant.sightmachine.io",
                           "API_key": api_key, "API_key_ID": "id@plant"}],
    }


def stored_revisions(server) -> list[tuple[int, dict, str]]:
    """(revision, body, saved_at) of every stored configuration, oldest first, read from the catalog."""
    db = sqlite3.connect(f"file:{server.data_dir / 'catalog.db'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT revision, body, saved_at FROM ftx_config ORDER BY revision").fetchall()
    finally:
        db.close()
    return [(r, json.loads(b), at) for r, b, at in rows]


@pytest.fixture
def server(edge_server_factory):
    return edge_server_factory()


def test_fresh_server_has_an_empty_configuration(server):
    response = server.client.get("/v1/config")
    assert response.status == 200
    assert response.json == {"success": True, "response": {"data_receiver": [], "transforms": [], "data_transmit": []},
                             "meta": {"last_modified": None}}


@pytest.mark.parametrize("posted, stored", [
    ({}, {"data_receiver": [], "transforms": [], "data_transmit": []}),
    ({"transforms": []}, {"transforms": [], "data_receiver": [], "data_transmit": []}),
    ({"data_transmit": smb_config()["data_transmit"]},
     {"data_transmit": smb_config()["data_transmit"], "data_receiver": [], "transforms": []}),
], ids=["empty", "one-empty-section", "transmit-only"])
def test_empty_or_partial_configuration_is_stored_and_shown_with_every_section(server, posted, stored):
    client = server.client
    shown = copy.deepcopy(stored)
    for transmit in shown["data_transmit"]:
        transmit["API_key"] = MASK
    response = client.post("/v1/config", posted)
    assert response.status == 200
    assert response.json["response"] == shown
    assert list(response.json["response"]) == list(stored)  # the sections posted first, in their order
    got = client.get("/v1/config").json
    assert got == {"success": True, "response": shown, "meta": response.json["meta"]}
    [(_, body, _)] = stored_revisions(server)
    assert body == stored


def test_spec_post_example_is_saved_and_answered_as_in_the_spec(server):
    request = spec("post_config_request.json")
    response = server.client.post("/v1/config", request)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json
    expected = spec("post_config_response.json")
    assert set(body) == set(expected) == {"meta", "response", "success"}
    assert body["success"] is True
    shown = copy.deepcopy(request)
    shown["data_transmit"][0]["API_key"] = MASK
    assert body["response"] == shown
    assert TIMESTAMP.match(body["meta"]["last_modified"])

    got = server.client.get("/v1/config").json
    assert got == {"success": True, "response": shown, "meta": body["meta"]}
    [(_, stored, saved_at)] = stored_revisions(server)
    assert stored == request  # the secret is kept in clear in the catalog
    assert saved_at == body["meta"]["last_modified"]


def test_spec_get_example_configuration_can_be_saved(server):
    config = spec("get_config_response.json")["response"]
    response = server.client.post("/v1/config", config)
    assert response.json["success"] is True
    assert response.json["response"]["data_transmit"][0]["API_key"] == MASK


def test_posting_the_masked_configuration_back_keeps_the_stored_secrets(server):
    client = server.client
    client.post("/v1/config", smb_config())
    shown = client.get("/v1/config").json["response"]
    assert shown["data_receiver"][0]["connections"][0]["password"] == MASK
    assert shown["data_transmit"][0]["API_key"] == MASK

    shown["data_receiver"][0]["poll_interval"] = 7
    response = client.post("/v1/config", shown)
    assert response.json["success"] is True
    assert response.json["response"]["data_receiver"][0]["connections"][0]["password"] == MASK

    revisions = stored_revisions(server)
    assert len(revisions) == 2
    assert revisions[-1][1] == {**smb_config(), "data_receiver": [
        {**smb_config()["data_receiver"][0], "poll_interval": 7}]}


def test_masked_secret_for_a_renamed_receiver_is_refused(server):
    client = server.client
    client.post("/v1/config", smb_config())
    shown = client.get("/v1/config").json["response"]
    shown["data_receiver"][0]["data_receiver_name"] = "share_2"
    response = client.post("/v1/config", shown)
    assert response.status == 400
    assert response.json["success"] is False
    [violation] = [v for v in response.json["response"]["violations"] if v["level"] == "error"]
    assert violation["json_path"] == ["data_receiver", 0, "connections", 0, "password"]
    assert len(stored_revisions(server)) == 1


def test_a_new_secret_replaces_the_stored_one(server):
    client = server.client
    client.post("/v1/config", smb_config())
    shown = client.get("/v1/config").json["response"]
    shown["data_transmit"][0]["API_key"] = "new-key"
    assert client.post("/v1/config", shown).json["success"] is True
    assert stored_revisions(server)[-1][1]["data_transmit"][0]["API_key"] == "new-key"
    assert stored_revisions(server)[-1][1]["data_receiver"][0]["connections"][0]["password"] == "share-pw"


def test_secrets_are_shown_when_masking_is_off(edge_server_factory):
    server = edge_server_factory(conf_lines=["MASK_SECRETS = 0"])
    server.client.post("/v1/config", smb_config())
    shown = server.client.get("/v1/config").json["response"]
    assert shown == smb_config()


def test_every_save_is_a_revision_and_the_newest_is_in_force(server):
    client = server.client
    stamps = []
    for password in ("one", "two", "three"):
        stamps.append(client.post("/v1/config", smb_config(password=password)).json["meta"]["last_modified"])
    revisions = stored_revisions(server)
    assert [r[1]["data_receiver"][0]["connections"][0]["password"] for r in revisions] == ["one", "two", "three"]
    assert [r[2] for r in revisions] == stamps == sorted(stamps)
    assert client.get("/v1/config").json["meta"]["last_modified"] == stamps[-1]


def test_failed_save_answers_violations_and_changes_nothing(server):
    client = server.client
    client.post("/v1/config", smb_config())
    before = client.get("/v1/config").body

    bad = smb_config()
    bad["data_transmit"] = {"transmit_name": "x"}
    response = client.post("/v1/config", bad)
    assert response.status == 400
    assert response.json == {"response": {"violations": [{"description": "'data_transmit' section is not defined as a list.",
                                                          "json_path": ["data_transmit"], "level": "error"}],
                                          "status": "failed"},
                             "success": False}
    assert client.get("/v1/config").body == before
    assert len(stored_revisions(server)) == 1


def test_save_with_warnings_only_succeeds(server):
    config = smb_config()
    config["data_receiver"][0]["delete_completed"] = True
    response = server.client.post("/v1/config", config)
    assert response.json["success"] is True


@pytest.mark.parametrize("body, text", [
    (b"{not json", "Malformed JSON in request body"),
    (b"", "Request body is empty"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"data_receiver": NaN}', "Malformed JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
], ids=["malformed", "empty", "not-utf8", "nan", "deep-nesting"])
def test_unreadable_body_is_a_failure_envelope_and_saves_nothing(server, body, text):
    client = server.client
    client.post("/v1/config", smb_config())
    for path in ("/v1/config", "/v1/config/validate"):
        response = client.post(path, body)
        assert response.status == 400
        assert response.json["success"] is False
        assert text in response.json["error"]["text"]
    assert len(stored_revisions(server)) == 1
    assert client.get("/v1/config").json["response"]["data_transmit"][0]["transmit_name"] == "cloud"


@pytest.mark.parametrize("body", [[], "config", 42, None])
def test_body_that_is_not_an_object_is_a_root_violation(server, body):
    response = server.client.post("/v1/config", json.dumps(body))
    assert response.status == 400
    [violation] = response.json["response"]["violations"]
    assert violation["json_path"] == [] and violation["level"] == "error"
    assert stored_revisions(server) == []


def test_body_larger_than_max_request_size_is_refused(edge_server_factory):
    server = edge_server_factory(conf_lines=["MAX_REQUEST_SIZE = 2048"])
    client = server.client
    assert client.post("/v1/config", smb_config()).json["success"] is True
    huge = smb_config()
    huge["data_receiver"][0]["streams"] = [{"asset": f"asset_{i}", "stream_type": "cycle"} for i in range(100)]
    assert len(json.dumps(huge)) > 2048
    for path in ("/v1/config", "/v1/config/validate"):
        response = client.post(path, huge)
        assert response.status == 413
        assert response.json["success"] is False
        assert "MAX_REQUEST_SIZE" in response.json["error"]["text"]
    assert len(stored_revisions(server)) == 1
    assert client.get("/v1/config").json["response"]["data_receiver"][0]["streams"] == smb_config()[
        "data_receiver"][0]["streams"]


def test_validate_passes_the_spec_example_with_warnings(client):
    response = client.post("/v1/config/validate", spec("post_config_request.json"))
    assert response.status == 200
    body = response.json
    assert body["success"] is True
    assert body["response"]["status"] == "passed"
    assert {v["level"] for v in body["response"]["violations"]} == {"warning"}


def test_validate_reports_errors_with_precise_paths(client):
    config = spec("post_config_request.json")
    config["data_receiver"][0]["parsers"][0]["parser_type"] = "spreadsheets"
    del config["data_receiver"][0]["connections"][0]["root_path"]
    response = client.post("/v1/config/validate", config)
    assert response.status == 200
    body = response.json
    assert body["success"] is False
    assert body["response"]["status"] == "failed"
    errors = [v for v in body["response"]["violations"] if v["level"] == "error"]
    assert errors == [
        {"description": "'root_path' or 'data_directory' is required.",
         "json_path": ["data_receiver", 0, "connections", 0, "root_path"], "level": "error"},
        {"description": 'No parser named "spreadsheets".',
         "json_path": ["data_receiver", 0, "parsers", 0, "parser_type"], "level": "error"},
    ]


def test_validate_saves_nothing(server):
    assert server.client.post("/v1/config/validate", smb_config()).json["response"]["status"] == "passed"
    assert stored_revisions(server) == []


def test_validate_treats_a_mask_as_the_stored_secret(server):
    client = server.client
    masked = copy.deepcopy(smb_config())
    masked["data_transmit"][0]["API_key"] = MASK
    first = client.post("/v1/config/validate", masked).json
    assert first["response"]["violations"][0]["json_path"] == ["data_transmit", 0, "API_key"]
    assert first["success"] is False
    client.post("/v1/config", smb_config())
    assert client.post("/v1/config/validate", masked).json["response"] == {"violations": [],
                                                                            "status": "passed"}


def test_server_keeps_serving_after_bad_input(client):
    client.post("/v1/config", b"{")
    client.post("/v1/config/validate", b"[" * 50)
    assert client.get("/v1/config").json["success"] is True
