"""/v1/config/templates and /v1/meta on a real server, against the spec's examples."""

import json
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "factorytx_spec"
EDGE = Path(__file__).resolve().parents[2] / "edge" / "pipeline"


def spec(name: str):
    return json.loads((SPEC / name).read_text())


def key_shape(value):
    """The keys of every object in `value`, recursively, with list items' shapes merged."""
    if isinstance(value, dict):
        return {k: key_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged = {}
        for item in value:
            shape = key_shape(item)
            if isinstance(shape, dict):
                merged.update(shape)
        return [merged] if merged else []
    return None


def runnable_spec_templates() -> dict:
    """The spec's templates, then the templates of our receivers the spec does not have (serial, Modbus)."""
    document = spec("templates_response.json")
    document["response"] += [json.loads((EDGE / "receivers" / name / "template.json").read_text())
                             for name in ("serial", "modbus")]
    return document


def test_templates_are_the_spec_templates_of_runnable_receivers(client):
    response = client.get("/v1/config/templates")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json == runnable_spec_templates()
    # Same keys in the same order at every level, as the spec writes them.
    assert json.dumps(response.json["response"]) == json.dumps(runnable_spec_templates()["response"])
    assert [list(t) for t in response.json["response"]] == [["configuration", "name", "description"]] * 7


@pytest.mark.parametrize("protocol, name", [("localfile", "Localfile"), ("smb", "SMB"), ("basic", "Basic"),
                                            ("sql", "SQL"), ("opcua", "OPCUA")])
def test_each_protocol_template_matches_its_entry_in_the_list(client, protocol, name):
    [entry] = [t for t in spec("templates_response.json")["response"] if t["name"] == name]
    assert client.get(f"/v1/config/templates/{protocol}").json == {"success": True,
                                                                    "response": entry["configuration"]}


@pytest.mark.parametrize("asked, name", [("Localfile", "Localfile"), ("LOCALFILE", "Localfile"),
                                         ("SMB", "SMB"), ("Smb", "SMB"), ("BASIC", "Basic"), ("Basic", "Basic")])
def test_template_names_are_matched_without_case(client, asked, name):
    [entry] = [t for t in spec("templates_response.json")["response"] if t["name"] == name]
    response = client.get(f"/v1/config/templates/{asked}")
    assert response.status == 200
    assert response.json == {"success": True, "response": entry["configuration"]}


def test_unknown_template_answers_exactly_as_in_the_spec(client):
    response = client.get("/v1/config/templates/tacomania")
    assert response.status == 404
    assert response.body == b'{"response": "Requested configuration is not available", "success": false}'


def test_a_template_passes_validation_once_its_placeholders_are_filled(client):
    config = client.get("/v1/config/templates/smb").json["response"]
    config["data_receiver"][0]["connections"][0].update(host="127.0.0.1", username="u", password="p",
                                                        shared_folder="data")
    config["transforms"][0]["timezone"] = "Europe/Berlin"
    config["transforms"][0]["field_names"] = ["datetime"]
    config["transforms"][1]["field_names"] = "datetime"
    config["data_transmit"][0].update(base_url="https://plant.sightmachine.io", API_key="k", API_key_ID="id")
    assert client.post("/v1/config/validate", config).json == {"success": True, "response": {
        "violations": [], "status": "passed"}}


def test_meta_objects_have_the_spec_shape(client):
    response = client.get("/v1/meta")
    assert response.status == 200
    body = response.json
    assert key_shape(body) == key_shape(spec("meta_response.json"))
    objects = body["response"]["objects"]
    receivers = ["localfile", "smb", "sql", "opcua", "serial", "modbus"]
    assert [o["id"] for o in objects] == ["data_receiver", "data_receiver_asset", "data_transmit", "transforms"]
    assert [s["id"] for s in objects[0]["subtypes"]] == receivers
    assert [s["id"] for s in objects[1]["subtypes"]] == receivers


def test_meta_of_a_receiver_has_the_spec_shape_and_its_schema(client):
    body = client.get("/v1/meta/data_receiver?subtype=localfile").json
    expected = spec("meta_data_receiver_response.json")
    assert set(body) == set(expected)
    assert set(body["response"]) == set(expected["response"]) == {"subtype", "schema", "object", "new_template"}
    assert set(body["response"]["schema"]) == set(body["response"]["new_template"]) == {"path", "schema"}
    assert body["response"]["subtype"] == "localfile"
    assert body["response"]["object"] == "data_receiver"
    schema = body["response"]["schema"]["schema"]
    assert schema["required"] == ["data_receiver_name", "protocol", "streams", "connections", "parsers"]
    assert schema["properties"]["poll_interval"]["type"] == "number"
    assert body["response"]["new_template"]["schema"]["streams"] == ["<<data_receiver_asset>>"]


def test_meta_answers_the_spec_example_subtype_localfile_csv_as_the_localfile_receiver(client):
    response = client.get("/v1/meta/data_receiver?subtype=localfile_csv")
    assert response.status == 200
    body = response.json["response"]
    localfile = client.get("/v1/meta/data_receiver?subtype=localfile").json["response"]
    # The spec's answer names the subtype as asked; the rest is the localfile receiver's.
    assert body["subtype"] == "localfile_csv"
    assert body["object"] == "data_receiver"
    assert body["schema"] == localfile["schema"]
    assert body["new_template"] == localfile["new_template"]
    assert body["schema"]["schema"]["properties"]["protocol"]["enum"] == ["localfile"]


def test_meta_of_the_spec_asset_subtype_localfile_csv_is_the_localfile_asset(client):
    body = client.get("/v1/meta/data_receiver_asset?subtype=localfile_csv").json["response"]
    assert body["subtype"] == "localfile_csv"
    assert body["schema"] == client.get("/v1/meta/data_receiver_asset?subtype=localfile").json["response"]["schema"]


@pytest.mark.parametrize("path, object_id, subtype", [
    ("/v1/meta/data_receiver?subtype=SMB", "data_receiver", "SMB"),
    ("/v1/meta/data_receiver?subtype=LocalFile_CSV", "data_receiver", "LocalFile_CSV"),
    ("/v1/meta/data_receiver_asset?subtype=smb", "data_receiver_asset", "smb"),
    ("/v1/meta/transforms?subtype=filter", "transforms", "filter"),
])
def test_meta_of_other_objects(client, path, object_id, subtype):
    body = client.get(path).json
    assert body["success"] is True
    assert body["response"]["object"] == object_id
    assert body["response"]["subtype"] == subtype
    assert body["response"]["schema"]["schema"]["type"] == "object"


@pytest.mark.parametrize("path, text", [
    ("/v1/meta/widgets", "No meta object named 'widgets'"),
    ("/v1/meta/data_receiver", "data_receiver needs ?subtype="),
    ("/v1/meta/data_receiver?subtype=excel_csv", "No data_receiver subtype named 'excel_csv'"),
    ("/v1/meta/transforms?subtype=localfile_csv", "No transforms subtype named 'localfile_csv'"),
    ("/v1/meta/transforms?subtype=pandas", "No transforms subtype named 'pandas'"),
])
def test_unknown_meta_object_or_subtype_is_a_clear_failure(client, path, text):
    response = client.get(path)
    assert response.status == 404
    assert response.json["success"] is False
    assert response.json["error"]["code"] == 404
    assert text in response.json["error"]["text"]
