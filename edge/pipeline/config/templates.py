"""Configuration templates (/v1/config/templates): Basic, then each receiver's template.json.

A receiver's template.json is `{"configuration", "name", "description"}`; the list follows the
order of the registry. Only receivers the registry offers (those with a runtime) have their
template served; any other name answers as an unknown template.
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
    """The template configuration of a receiver protocol ('basic' for the empty one), or None."""
    if protocol.lower() == BASIC_NAME:
        return copy.deepcopy(BASIC["configuration"])
    component = registry.find(registry.DATA_RECEIVER, protocol)
    if component is None or not component.offered or component.template is None:
        return None
    return copy.deepcopy(component.template["configuration"])
