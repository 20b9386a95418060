"""/v1/meta content: object types from the registry, schemas from schema.json, new templates."""

import jsonschema
import pytest

from edge.pipeline import registry
from edge.pipeline.config import meta


def test_objects_list_runnable_receivers_assets_and_transforms():
    objects = meta.meta_objects()
    assert [o["id"] for o in objects] == ["data_receiver", "data_receiver_asset", "data_transmit", "transforms"]
    assert [o["name"] for o in objects] == ["Data Receiver", "Asset", "Transmit", "Transform"]
    assert [s["id"] for s in objects[0]["subtypes"]] == ["localfile", "smb", "sql", "opcua", "serial", "modbus"]
    assert objects[1]["subtypes"][1] == {"id": "smb", "name": "SMB Network Share", "data_receiver": ["smb"]}
    assert [s["id"] for s in objects[3]["subtypes"]] == ["convert_timestamps", "rename", "filter", "replicate",
                                                         "checksum_record"]


def test_every_component_is_offered_and_listed():
    for component in registry.COMPONENTS:
        assert component.offered == (component.runtime is not None) is True
    listed = {s["id"] for o in meta.meta_objects() for s in o.get("subtypes", [])}
    assert {c.type_name for c in registry.COMPONENTS if c.section in (registry.DATA_RECEIVER, registry.TRANSFORM)} <= listed


def test_receiver_meta_carries_its_schema_and_a_tokenised_new_template():
    described = meta.describe("data_receiver", "localfile")
    assert list(described) == ["subtype", "schema", "object", "new_template"]
    assert described["schema"] == {"path": "edge/pipeline/receivers/localfile/schema.json",
                                   "schema": registry.find(registry.DATA_RECEIVER, "localfile").schema}
    template = described["new_template"]["schema"]
    assert template["data_receiver_name"] == "localfile_<<index>>"
    assert template["streams"] == ["<<data_receiver_asset>>"]
    assert template["connections"] == ["<<data_receiver_connection>>"]
    assert template["protocol"] == "localfile"


def test_asset_meta_schema_validates_a_stream_of_that_protocol():
    described = meta.describe("data_receiver_asset", "smb")
    schema = described["schema"]["schema"]
    validator = jsonschema.Draft7Validator(schema)
    assert list(validator.iter_errors(described["new_template"]["schema"])) == []
    assert list(validator.iter_errors({"asset": "a"}))  # stream_type missing


def test_transmit_meta_is_remotedatapost_unless_the_subtype_names_another_transmit():
    assert meta.describe("data_transmit", None)["new_template"]["schema"]["transmit_type"] == "remotedatapost"
    assert meta.describe("data_transmit", "anything")["subtype"] == "remotedatapost"
    described = meta.describe("data_transmit", "mqtt")
    assert described["subtype"] == "mqtt"
    assert described["schema"]["path"] == "edge/pipeline/transmits/mqtt/schema.json"


def test_transform_meta_by_subtype():
    described = meta.describe("transforms", "rename")
    assert described["subtype"] == "rename"
    assert described["new_template"]["schema"]["transform_type"] == "rename"


@pytest.mark.parametrize("object_id, subtype, text", [
    ("parsers", None, "No meta object named 'parsers'"),
    ("data_receiver", None, "data_receiver needs ?subtype=, one of: localfile, smb, sql, opcua, serial, modbus."),
    ("data_receiver", "excel_csv", "No data_receiver subtype named 'excel_csv'"),
    ("transforms", "pandas", "No transforms subtype named 'pandas'"),
])
def test_unknown_object_or_subtype_says_what_is_known(object_id, subtype, text):
    with pytest.raises(meta.UnknownMetaObject) as caught:
        meta.describe(object_id, subtype)
    assert text in str(caught.value)
