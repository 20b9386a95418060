"""What the FactoryTX user interface may create (/v1/meta): object types, their subtypes, and for
each the JSON Schema (from the component's schema.json) and an empty entry to start from.

Objects: data_receiver and data_receiver_asset (subtype: the protocol), data_transmit (subtype
ignored, as in FactoryTX, unless it names another transmit type: mqtt), transforms (subtype:
the transform_type). Only components the registry offers (those with a runtime) appear.

A subtype is looked up without case, and the ids the FactoryTX documentation uses for our
components are aliases of them (`SUBTYPE_ALIASES`): `?subtype=localfile_csv` is the localfile
receiver, and the answer names the subtype as it was asked for, as the documentation's does.
"""

from __future__ import annotations

import copy
from typing import Any

from edge.pipeline import registry

RECEIVER = "data_receiver"
ASSET = "data_receiver_asset"
TRANSMIT = "data_transmit"
TRANSFORMS = "transforms"
OBJECTS = {RECEIVER: "Data Receiver", ASSET: "Asset", TRANSMIT: "Transmit", TRANSFORMS: "Transform"}
DEFAULT_TRANSMIT = "remotedatapost"

# Tokens the user interface replaces in a new_template (FactoryTX's convention).
INDEX_TOKEN = "<<index>>"
ASSET_TOKEN = "<<data_receiver_asset>>"
CONNECTION_TOKEN = "<<data_receiver_connection>>"

# The subtype ids of the FactoryTX documentation (its /v1/meta examples) that name a component
# of ours under another id, by section. Its other ids (sql; the transforms
# counter_assign_column, counter_event_string, pandas) have no component that runs here.
SUBTYPE_ALIASES = {
    registry.DATA_RECEIVER: {"localfile_csv": "localfile"},
    registry.TRANSFORM: {},
}


class UnknownMetaObject(LookupError):
    """An object id or subtype that /v1/meta does not know; the text says which are known."""


def meta_objects() -> list[dict]:
    receivers = registry.offered(registry.DATA_RECEIVER)
    transforms = registry.offered(registry.TRANSFORM)
    objects = [
        {"subtypes": [{"name": c.title, "id": c.type_name} for c in receivers], "name": OBJECTS[RECEIVER],
         "id": RECEIVER},
        {"subtypes": [{"id": c.type_name, "name": c.title, "data_receiver": [c.type_name]} for c in receivers],
         "name": OBJECTS[ASSET], "id": ASSET},
        {"name": OBJECTS[TRANSMIT], "id": TRANSMIT},
        {"subtypes": [{"name": c.title, "id": c.type_name} for c in transforms], "name": OBJECTS[TRANSFORMS],
         "id": TRANSFORMS},
    ]
    return [o for o in objects if o["id"] in _known_objects()]


def _known_objects() -> list[str]:
    return [o for o in OBJECTS if o != TRANSMIT or _transmit() is not None]


def _transmit(subtype: str | None = None) -> registry.Component | None:
    """The transmit /v1/meta describes, when it can run: FactoryTX has one and ignores the
    subtype, so any subtype but another transmit's type (`mqtt`) means remotedatapost."""
    named = registry.find(registry.DATA_TRANSMIT, subtype.strip().casefold()) if subtype else None
    component = named if named is not None else registry.find(registry.DATA_TRANSMIT, DEFAULT_TRANSMIT)
    return component if component is not None and component.offered else None


def describe(object_id: str, subtype: str | None) -> dict:
    """The schema and new_template of one object type and subtype."""
    if object_id == RECEIVER:
        component = _subtype(registry.DATA_RECEIVER, object_id, subtype)
        schema, schema_path = component.schema, _path(component, "schema.json")
        template, template_path = _new_receiver(component)
    elif object_id == ASSET:
        component = _subtype(registry.DATA_RECEIVER, object_id, subtype)
        schema = {"$schema": component.schema.get("$schema"), **component.schema["definitions"]["stream"],
                  "definitions": component.schema["definitions"]}
        schema_path = _path(component, "schema.json") + "#/definitions/stream"
        template, template_path = _new_asset(component)
    elif object_id == TRANSMIT and (transmit := _transmit(subtype)) is not None:
        component = transmit
        schema, schema_path = component.schema, _path(component, "schema.json")
        template, template_path = _new_from_example(component, "transmit_name")
    elif object_id == TRANSFORMS:
        component = _subtype(registry.TRANSFORM, object_id, subtype)
        schema, schema_path = component.schema, _path(component, "schema.json")
        template, template_path = _new_from_example(component, "transform_name")
    else:
        raise UnknownMetaObject(f"No meta object named {object_id!r}; known: {', '.join(_known_objects())}.")
    asked = subtype.strip() if subtype and object_id != TRANSMIT else component.type_name
    return {"subtype": asked, "schema": {"path": schema_path, "schema": copy.deepcopy(schema)},
            "object": object_id, "new_template": {"path": template_path, "schema": template}}


def _subtype(section: str, object_id: str, subtype: str | None) -> registry.Component:
    known = ", ".join(c.type_name for c in registry.offered(section))
    if not subtype:
        raise UnknownMetaObject(f"{object_id} needs ?subtype=, one of: {known}.")
    wanted = subtype.strip().casefold()
    component = registry.find(section, SUBTYPE_ALIASES[section].get(wanted, wanted))
    if component is None or not component.offered:
        raise UnknownMetaObject(f"No {object_id} subtype named {subtype!r}; known: {known}.")
    return component


def _path(component: registry.Component, name: str) -> str:
    return f"{component.package.replace('.', '/')}/{name}"


def _new_receiver(component: registry.Component) -> tuple[dict, str]:
    if component.template is None:
        entry, path = copy.deepcopy(component.schema["examples"][0]), _path(component, "schema.json") + "#/examples/0"
    else:
        entry = copy.deepcopy(component.template["configuration"]["data_receiver"][0])
        path = _path(component, "template.json") + "#/configuration/data_receiver/0"
    entry["data_receiver_name"] = f"{component.type_name}_{INDEX_TOKEN}"
    entry["streams"] = [ASSET_TOKEN]
    entry["connections"] = [CONNECTION_TOKEN]
    return entry, path


def _new_asset(component: registry.Component) -> tuple[dict, str]:
    stream = component.schema["definitions"]["stream"]
    return copy.deepcopy(stream["examples"][0]), _path(component, "schema.json") + "#/definitions/stream/examples/0"


def _new_from_example(component: registry.Component, name_key: str) -> tuple[dict[str, Any], str]:
    entry = copy.deepcopy(component.schema["examples"][0])
    entry[name_key] = f"{name_key.split('_')[0]}_{INDEX_TOKEN}"
    return entry, _path(component, "schema.json") + "#/examples/0"
