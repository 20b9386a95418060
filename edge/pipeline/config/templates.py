"""Configuration templates (/v1/config/templates): Basic, then each receiver's template.json.

A receiver's template.json is `{"configuration", "name", "description"}`; the list follows the
order of the registry. Only receivers the registry offers (those with a runtime) have their
template served; any other name answers as an unknown template.

A template is asked for by its protocol or by the name the list shows, without case:
`localfile`, `Localfile` and `LOCALFILE` are one template, `SMB` is `smb`, `BASIC` is `basic`
(the FactoryTX documentation writes both `opcua` and `OPCUA`).
"""

from __future__ import annotations

import copy

from edge.pipeline import registry
from edge.pipeline.config.shape import EMPTY_CONFIG

BASIC_NAME = "basic"
BASIC = {
    "configuration": EMPTY_CONFIG,
    "name": "Basic",
    "description": "A basic template without data_receiver, transforms, and data_transmit settings",
}


def all_templates() -> list[dict]:
    found = [BASIC] + [c.template for c in registry.offered(registry.DATA_RECEIVER) if c.template]
    return copy.deepcopy(found)


def template_configuration(protocol: str) -> dict | None:
    """The template configuration of a receiver protocol or template name, in any case ('basic'
    for the empty one), or None."""
    wanted = protocol.strip().casefold()
    if wanted in (BASIC_NAME, BASIC["name"].casefold()):
        return copy.deepcopy(BASIC["configuration"])
    for component in registry.offered(registry.DATA_RECEIVER):
        template = component.template
        if template is not None and wanted in (component.type_name.casefold(), template["name"].casefold()):
            return copy.deepcopy(template["configuration"])
    return None
