"""Warnings: values that are legal but probably not what was meant.

A configuration with only warnings passes validation and can be saved.
"""

from __future__ import annotations

import re
from typing import Any

from edge.pipeline.config.secrets import is_secret_key
from edge.pipeline.config.shape import RECEIVERS, TRANSMITS, entries, sub_entries
from edge.pipeline.config.violations import JsonPath, Violation, quoted, warning

# The templates' "<Please input ...>" and "<tenant name>"; plain '<' '>' (SQL comparisons) are not.
PLACEHOLDER = re.compile(r"<(?:please|tenant)\b[^<>]*>", re.IGNORECASE)
SHORTEST_SENSIBLE_POLL = 1.0  # seconds
LONGEST_SENSIBLE_POLL = 86_400.0  # a day
# ':name' in a query, but not '::type' casts (PostgreSQL) nor times like '12:30'.
QUERY_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def advice(config: dict) -> list[Violation]:
    found = _placeholders(config, ())
    for section in (RECEIVERS, TRANSMITS):
        for index, entry in entries(config, section):
            found += _poll_interval((section, index), entry)
    for index, transmit in entries(config, TRANSMITS):
        base_url = transmit.get("base_url")
        if isinstance(base_url, str) and base_url.lower().startswith("http://"):
            found.append(warning((TRANSMITS, index, "base_url"),
                                 "base_url uses http://: records and the API key travel unencrypted; use https://."))
    for index, receiver in entries(config, RECEIVERS):
        if receiver.get("delete_completed") is True:
            found.append(warning((RECEIVERS, index, "delete_completed"),
                                 "delete_completed is true: source files are deleted once their records are stored."))
        for j, stream in sub_entries(receiver, "streams"):
            found += _query_state_fields((RECEIVERS, index, "streams", j), stream)
    return found


def _placeholders(node: Any, path: JsonPath) -> list[Violation]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and PLACEHOLDER.search(value):
                shown = "" if is_secret_key(key) else f": {quoted(value)}"
                found.append(warning(path + (key,), f"'{key}' still holds a template placeholder{shown}."))
            else:
                found += _placeholders(value, path + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, str) and PLACEHOLDER.search(item):
                name = f"'{path[-1]}'" if path and isinstance(path[-1], str) else "A list"
                found.append(warning(path + (index,), f"Entry {index} of {name} is a template placeholder: "
                                                      f"{quoted(item)}."))
            else:
                found += _placeholders(item, path + (index,))
    return found


def _poll_interval(path: JsonPath, entry: dict) -> list[Violation]:
    seconds = entry.get("poll_interval")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        return []  # the schema refuses these
    if seconds < SHORTEST_SENSIBLE_POLL:
        return [warning(path + ("poll_interval",), f"poll_interval of {seconds} s is very short: the source is "
                                                   "polled more than once a second.")]
    if seconds > LONGEST_SENSIBLE_POLL:
        return [warning(path + ("poll_interval",), f"poll_interval of {seconds} s is very long: more than a day "
                                                   "between two polls.")]
    return []


def _query_state_fields(path: JsonPath, stream: dict) -> list[Violation]:
    query = stream.get("query")
    if not isinstance(query, str) or PLACEHOLDER.search(query):
        return []
    used = set(QUERY_PARAMETER.findall(query))
    declared = {f.get("column_name") for _, f in sub_entries(stream, "state_fields")}
    found = [warning(path + ("query",), f"The query uses :{name} but no state field has column_name {quoted(name)}.")
             for name in sorted(used - declared)]
    for k, field in sub_entries(stream, "state_fields"):
        name = field.get("column_name")
        if isinstance(name, str) and name not in used and not PLACEHOLDER.search(name):
            found.append(warning(path + ("state_fields", k, "column_name"),
                                 f"State field {quoted(name)} is not used in the query as :{name}, so each run "
                                 "reads the same rows again."))
    return found
