"""Each component's schema.json and template.json: valid, documented, and in step with the spec."""

import json
from pathlib import Path

import jsonschema
import pytest

from edge.pipeline import registry
from edge.pipeline.config import templates
from edge.pipeline.config.schema_check import schema_violations
from edge.pipeline.config.validation import validate_config

SPEC = Path(__file__).resolve().parents[3] / "fixtures" / "factorytx_spec"
ALL = registry.COMPONENTS


def ids(component):
    return f"{component.section}:{component.type_name}"


def walk_properties(schema, path=()):
    """(path, property schema) of every property declared anywhere in `schema`."""
    if isinstance(schema, dict):
        for name, prop in schema.get("properties", {}).items():
            yield path + (name,), prop
        for key, value in schema.items():
            if key not in ("if", "then", "not"):  # conditions restate properties documented elsewhere
                yield from walk_properties(value, path + (key,))
    elif isinstance(schema, list):
        for item in schema:
            yield from walk_properties(item, path)


@pytest.mark.parametrize("component", ALL, ids=ids)
def test_schema_is_valid_draft_7(component):
    jsonschema.Draft7Validator.check_schema(component.schema)
    assert component.schema["$schema"] == "http://json-schema.org/draft-07/schema#"


@pytest.mark.parametrize("component", ALL, ids=ids)
def test_every_property_has_a_description(component):
    undocumented = [path for path, prop in walk_properties(component.schema)
                    if not prop.get("description") and "$ref" not in prop.get("items", {})]
    assert undocumented == []


@pytest.mark.parametrize("component", ALL, ids=ids)
def test_schema_examples_are_valid_entries(component):
    assert component.schema["examples"]
    for example in component.schema["examples"]:
        assert schema_violations(component, example, ()) == []


@pytest.mark.parametrize("component", ALL, ids=ids)
def test_type_field_of_the_schema_is_the_registry_name(component):
    type_key = {registry.DATA_RECEIVER: "protocol", registry.PARSER: "parser_type",
                registry.TRANSFORM: "transform_type", registry.DATA_TRANSMIT: "transmit_type"}[component.section]
    assert component.schema["properties"][type_key]["enum"] == [component.type_name]


def test_every_component_folder_is_registered_once():
    root = Path(registry.__file__).parent
    folders = {str(p.parent.relative_to(root)).replace("/", ".") for p in root.glob("*/*/schema.json")}
    packages = [c.package.removeprefix("edge.pipeline.") for c in ALL]
    assert sorted(packages) == sorted(folders)
    assert len(set(packages)) == len(packages)


def test_receiver_templates_are_the_spec_templates_of_runnable_receivers():
    spec = json.loads((SPEC / "templates_response.json").read_text())["response"]
    assert [t["name"] for t in spec] == ["Basic", "Localfile", "SMB", "SQL", "OPCUA"]
    # The spec has no serial or Modbus template: ours follow the spec's, in registry order.
    assert templates.all_templates()[:5] == spec
    assert [t["name"] for t in templates.all_templates()[5:]] == ["Serial", "Modbus"]


def test_template_by_protocol_and_unknown_protocol():
    [localfile] = [t for t in templates.all_templates() if t["name"] == "Localfile"]
    assert templates.template_configuration("localfile") == localfile["configuration"]
    assert templates.template_configuration("basic") == {"data_receiver": [], "transforms": [], "data_transmit": []}
    assert templates.template_configuration("tacomania") is None


def test_a_component_without_a_runtime_is_not_offered():
    component = registry.Component(registry.DATA_RECEIVER, "sql", "edge.pipeline.receivers.sql", "SQL")
    assert component.template is not None and not component.offered


@pytest.mark.parametrize("name", ["SQL", "OPCUA"])
def test_sql_and_opcua_templates_are_the_spec_templates(name):
    [entry] = [t for t in json.loads((SPEC / "templates_response.json").read_text())["response"]
               if t["name"] == name]
    [component] = [c for c in registry.COMPONENTS if c.template and c.template["name"] == name]
    assert component.template == entry


def test_templates_are_copies():
    templates.all_templates()[1]["configuration"]["data_receiver"].clear()
    assert templates.all_templates()[1]["configuration"]["data_receiver"]


def test_templates_without_placeholder_values_in_enums_validate_without_errors():
    [template] = [t for t in templates.all_templates() if t["name"] == "Basic"]
    assert [v for v in validate_config(template["configuration"]) if v.level == "error"] == []


@pytest.mark.parametrize("protocol", ["sql", "opcua", "serial", "modbus"])
def test_a_served_template_has_no_error_before_its_placeholders_are_filled(protocol):
    template = registry.find(registry.DATA_RECEIVER, protocol).template
    assert [v for v in validate_config(template["configuration"]) if v.level == "error"] == []
