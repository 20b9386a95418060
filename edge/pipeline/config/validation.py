"""Validation of a whole FactoryTX configuration: its shape, each entry against its component's
schema.json, the rules across entries, and warnings. Used by /v1/config, /v1/config/validate
and `edge config validate FILE`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from edge.pipeline import registry
from edge.pipeline.config.advice import advice
from edge.pipeline.config.rules import cross_entry_violations
from edge.pipeline.config.shape import PARSERS, SECTION_RULES, SECTIONS, Section
from edge.pipeline.config.schema_check import json_type, schema_violations
from edge.pipeline.config.violations import ERROR, JsonPath, Violation, error, quoted, unique, warning
from edge.pipeline.runtime.ports import NAME_LENGTH

_SECTION_NAMES = ", ".join(SECTIONS)


def validate_config(config: Any, tag_name_bytes: int = NAME_LENGTH) -> list[Violation]:
    """Every violation in `config`, errors and warnings, in the order of the configuration.

    `tag_name_bytes` is the longest tag name the historian table takes (its NAME column)."""
    if not isinstance(config, dict):
        return [error((), f"The configuration must be a JSON object with the sections {_SECTION_NAMES}; "
                          f"got {json_type(config)}.")]
    found = [error((key,), f"Unknown section '{key}': the sections are {_SECTION_NAMES}.")
             for key in config if key not in SECTIONS]
    for section in SECTIONS:
        items = config.get(section, [])
        if not isinstance(items, list):
            found.append(error((section,), f"'{section}' section is not defined as a list."))
            continue
        for index, entry in enumerate(items):
            found += _entry_violations(SECTION_RULES[section], entry, (section, index))
    found += cross_entry_violations(config, tag_name_bytes)
    refused = {v.json_path for v in found if v.level == ERROR}
    # A placeholder that is also refused (an enum, a time zone) needs only the error.
    found += [w for w in advice(config) if w.json_path not in refused]
    return unique(found)


def _entry_violations(rules: Section, entry: Any, path: JsonPath) -> list[Violation]:
    if not isinstance(entry, dict):
        return [error(path, f"Entry {path[-1]} of '{path[0]}' must be an object, not {json_type(entry)}.")]
    component, problem = _component(rules, entry, path)
    if component is None:
        return [problem] if problem else []
    # A component that cannot run is refused, and
    # its entry still checked so every fault shows.
    found = [problem] if problem else []
    shape = schema_violations(component, entry, path)
    found += shape
    checks = component.load_checks()
    if checks is not None and not any(v.level == ERROR for v in shape):
        found += [dataclasses.replace(v, json_path=path + v.json_path) for v in checks(entry)]
    takes_parsers = "parsers" in component.schema.get("properties", {})
    if takes_parsers and isinstance(entry.get("parsers"), list):
        for j, parser in enumerate(entry["parsers"]):
            if isinstance(parser, dict):  # the receiver's schema reports the others
                found += _entry_violations(PARSERS, parser, path + ("parsers", j))
    return found


def _component(rules: Section, entry: dict, path: JsonPath) -> tuple[registry.Component | None, Violation | None]:
    """The entry's component and the reason it is refused: unknown, missing, or without a runtime."""
    type_name = entry.get(rules.type_key, rules.default_type)
    type_path = path + (rules.type_key,)
    if type_name is None:
        return None, error(type_path, f"'{rules.type_key}' is required.")
    if not isinstance(type_name, str):
        return None, error(type_path, f"'{rules.type_key}' must be a string, not {json_type(type_name)}.")
    component = registry.find(rules.kind, type_name)
    if component is None:
        return None, error(type_path, f"No {rules.what} named {quoted(type_name)}.")
    if not component.offered:
        runnable = ", ".join(quoted(c.type_name) for c in registry.offered(rules.kind)) or "none"
        return component, error(type_path, f"The {rules.what} {quoted(type_name)} cannot run on this appliance yet "
                                           f"(it has no runtime); the {rules.what}s that run are: {runnable}.")
    return component, None
