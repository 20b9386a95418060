"""/v1/meta content: object types from the registry, schemas from schema.json, new templates."""

import jsonschema
import pytest

from edge.pipeline import registry
from edge.pipeline.config import meta


def test_objects_list_runnable_receivers_assets_and_transforms():
    objects = meta.meta_objects()
    # data_transmit is left out until remotedatapost has a runtime.
    assert [o["id"] for o in objects] == ["data_receiver", "data_receiver_asset", "transforms"]
    assert [o["name"] for o in objects] == ["Data Receiver", "Asset", "Transform"]
    assert [s["id"] for s in objects[0]["subtypes"]] == ["localfile", "smb", "serial", "modbus"]
    assert objects[1]["subtypes"][1] == {"id": "smb", "name": "SMB Network Share", "data_receiver": ["smb"]}
    assert [s["id"] for s in objects[2]["subtypes"]] == ["convert_timestamps", "rename", "filter", "replicate",
                                                         "checksum_record"]


def test_components_without_a_runtime_are_not_offered():
    offered = {(c.section, c.type_name) for section in (registry.DATA_RECEIVER, registry.DATA_TRANSMIT)
               for c in registry.offered(section)}
    assert offered == {(registry.DATA_RECEIVER, name) for name in ("localfile", "smb", "serial", "modbus")}
    for component in registry.COMPONENTS:
        assert component.offered == (component.runtime is not None)
    listed = {s["id"] for o in meta.meta_objects() for s in o.get("subtypes", [])}
    assert not listed & {"sql", "opcua", "remotedatapost"}


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


@pytest.mark.parametrize("object_id, subtype, text", [
    ("data_receiver", "sql", "No data_receiver subtype named 'sql'; known: localfile, smb, serial, modbus."),
    ("data_receiver", "opcua", "No data_receiver subtype named 'opcua'; known: localfile, smb, serial, modbus."),
    ("data_receiver_asset", "opcua", "No data_receiver_asset subtype named 'opcua'; known: localfile, smb, serial, "
                                     "modbus."),
    ("data_transmit", None, "No meta object named 'data_transmit'; known: data_receiver, data_receiver_asset, "
                            "transforms."),
    ("data_transmit", "anything", "No meta object named 'data_transmit'"),
])
def test_components_without_a_runtime_are_not_described(object_id, subtype, text):
    with pytest.raises(meta.UnknownMetaObject) as caught:
        meta.describe(object_id, subtype)
    assert text in str(caught.value)


def test_transform_meta_by_subtype():
    described = meta.describe("transforms", "rename")
    assert described["subtype"] == "rename"
    assert described["new_template"]["schema"]["transform_type"] == "rename"


@pytest.mark.parametrize("object_id, subtype, text", [
    ("parsers", None, "No meta object named 'parsers'"),
    ("data_receiver", None, "data_receiver needs ?subtype=, one of: localfile, smb, serial, modbus."),
    ("data_receiver", "excel_csv", "No data_receiver subtype named 'excel_csv'"),
    ("transforms", "pandas", "No transforms subtype named 'pandas'"),
])
def test_unknown_object_or_subtype_says_what_is_known(object_id, subtype, text):
    with pytest.raises(meta.UnknownMetaObject) as caught:
        meta.describe(object_id, subtype)
    assert text in str(caught.value)
