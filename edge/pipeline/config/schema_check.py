"""One component entry against its schema.json (JSON Schema draft 7), as violations a person can read.

jsonschema's own messages quote the whole offending instance ("{...} is not valid under any of
the given schemas"), which is useless in a form and may carry a password. Each keyword we use
in the schemas gets a message here that names the field and says what it must be.
"""

from __future__ import annotations

import codecs
import difflib
import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from edge.pipeline.config.secrets import is_secret_key
from edge.pipeline.registry import Component
from edge.pipeline.config.violations import JsonPath, Violation, error, quoted

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("iana-timezone", raises=(ZoneInfoNotFoundError, ValueError, OSError))
def _is_timezone(value) -> bool:
    if isinstance(value, str):
        ZoneInfo(value)
    return True


@FORMATS.checks("text-encoding", raises=LookupError)
def _is_text_encoding(value) -> bool:
    # base64 and the like are codecs too, but bytes-to-bytes: no use for reading text.
    return not isinstance(value, str) or getattr(codecs.lookup(value), "_is_text_encoding", True)


@FORMATS.checks("strptime")
def _is_strptime_layout(value) -> bool:
    # The pipeline's own test of a layout, so validation refuses exactly what it cannot read.
    from edge.time.timestamps import check_format

    return not isinstance(value, str) or check_format(value) is None


_FORMAT_TEXT = {"iana-timezone": "a known IANA time zone (e.g. 'America/New_York')",
                "text-encoding": "a known text encoding (e.g. 'utf-8', 'latin-1')",
                "strptime": "a strptime layout (e.g. '%Y-%m-%d %H:%M:%S')"}

_TYPE_TEXT = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
              "number": "a number", "boolean": "true or false", "null": "null"}


@functools.lru_cache(maxsize=None)
def validator(component: Component) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(component.schema, format_checker=FORMATS)


def schema_violations(component: Component, entry: object, prefix: JsonPath) -> list[Violation]:
    """Everything in `entry` that its component's schema refuses; paths start with `prefix`."""
    found: list[Violation] = []
    for err in validator(component).iter_errors(entry):
        found.extend(_describe(err, prefix))
    return found


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _subject(path: JsonPath) -> str:
    if not path:
        return "The entry"
    if isinstance(path[-1], int):
        parent = f" of '{path[-2]}'" if len(path) > 1 and isinstance(path[-2], str) else ""
        return f"Entry {path[-1]}{parent}"
    return f"'{path[-1]}'"


def _types(names: str | Iterable[str]) -> str:
    names = [names] if isinstance(names, str) else list(names)
    if "integer" in names and "number" in names:
        names.remove("integer")
    return " or ".join(_TYPE_TEXT.get(n, n) for n in names)


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def _describe(err: jsonschema.ValidationError, prefix: JsonPath) -> list[Violation]:
    path = prefix + tuple(err.absolute_path)
    subject = _subject(path)
    keyword, expected, value = err.validator, err.validator_value, err.instance

    if "propertyNames" in err.relative_schema_path:
        return [error(path, f"{subject} has an invalid field name {quoted(value)}: names must not be empty.")]
    if keyword == "required":
        return [error(path + (name,), f"'{name}' is required.") for name in expected
                if isinstance(value, dict) and name not in value]
    if keyword == "additionalProperties":
        known = list(err.schema.get("properties", {}))
        return [error(path + (name,), f"Unknown property '{name}'.{_did_you_mean(name, known)}")
                for name in value if name not in known]
    if keyword == "type":
        return [error(path, f"{subject} must be {_types(expected)}, not {json_type(value)}.")]
    if keyword == "enum":
        choices = ", ".join(quoted(c) for c in expected)
        return [error(path, f"{subject} must be one of {choices}; got {quoted(value)}.")]
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bound = {"minimum": "at least", "exclusiveMinimum": "greater than", "maximum": "at most",
                 "exclusiveMaximum": "less than"}[keyword]
        return [error(path, f"{subject} must be {bound} {expected}; got {value}.")]
    if keyword == "minLength":
        text = "must not be empty" if expected == 1 else f"must be at least {expected} characters long"
        return [error(path, f"{subject} {text}.")]
    if keyword == "maxLength":
        text = "must be one character" if expected == 1 else f"must be at most {expected} characters long"
        return [error(path, f"{subject} {text}.")]
    if keyword in ("minItems", "minProperties"):
        return [error(path, f"{subject} needs at least {_entries(expected)}.")]
    if keyword in ("maxItems", "maxProperties"):
        return [error(path, f"{subject} takes at most {_entries(expected)}.")]
    if keyword == "pattern":
        hint = err.schema.get("x-pattern-hint", f"must match the pattern {expected}")
        return [error(path, f"{subject} {hint}.")]
    if keyword == "format":
        return [error(path, f"{subject} must be {_FORMAT_TEXT.get(expected, expected)}; got {quoted(value)}.")]
    if keyword == "not" and set(expected) == {"required"}:
        names = " and ".join(f"'{n}'" for n in expected["required"])
        return [error(path, f"{names} cannot be used together.")]
    if keyword in ("anyOf", "oneOf"):
        return _describe_alternatives(err, path, prefix)
    if any(isinstance(p, str) and is_secret_key(p) for p in path):
        return [error(path, f"{subject} is not valid.")]  # jsonschema's text would quote the secret
    return [error(path, err.message)]


def _describe_alternatives(err: jsonschema.ValidationError, path: JsonPath, prefix: JsonPath) -> list[Violation]:
    branches = err.validator_value
    if all(set(b) == {"required"} and len(b["required"]) == 1 for b in branches):
        # Points at the first (preferred) property, where a form would show the missing field.
        names = [b["required"][0] for b in branches]
        return [error(path + (names[0],), f"{' or '.join(repr(n) for n in names)} is required.")]
    # A branch of the right type that failed deeper in says more than "is not a string".
    deeper = [e for e in err.context if len(e.absolute_path) > len(err.absolute_path)]
    if deeper:
        return [v for e in deeper for v in _describe(e, prefix)]
    wanted: list[str] = []
    for e in err.context:
        if e.validator == "type":
            wanted.extend([e.validator_value] if isinstance(e.validator_value, str) else e.validator_value)
    if wanted:
        return [error(path, f"{_subject(path)} must be {_types(dict.fromkeys(wanted))}, not {json_type(err.instance)}.")]
    return [v for e in err.context for v in _describe(e, prefix)]


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" Did you mean '{close[0]}'?" if close else ""
