"""Warnings: values that are legal but probably not what was meant.

A configuration with only warnings passes validation and can be saved.
"""

from __future__ import annotations

import os
import re
from typing import Any

from edge.pipeline.config.secrets import is_secret_key
from edge.pipeline.config.shape import RECEIVERS, TRANSFORMS, TRANSMITS, entries, stream_id, sub_entries
from edge.pipeline.config.violations import JsonPath, Violation, quoted, warning
from edge.pipeline.runtime.streamflow import stream_matches

# The templates' "<Please input ...>" and "<tenant name>"; plain '<' '>' (SQL comparisons) are not.
PLACEHOLDER = re.compile(r"<(?:please|tenant)\b[^<>]*>", re.IGNORECASE)
SHORTEST_SENSIBLE_POLL = 1.0  # seconds
LONGEST_SENSIBLE_POLL = 86_400.0  # a day
LOCALFILE = "localfile"
CONVERT_TIMESTAMPS = "convert_timestamps"


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
        if receiver.get("protocol") == LOCALFILE:
            for k, connection in sub_entries(receiver, "connections"):
                found += _missing_folder((RECEIVERS, index, "connections", k), connection)
        found += _streams_without_time(config, index, receiver)
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


def _missing_folder(path: JsonPath, connection: dict) -> list[Violation]:
    """A localfile folder that is not on this machine: every poll fails to list it."""
    key = "root_path" if "root_path" in connection else "data_directory"
    root = connection.get(key)
    if not isinstance(root, str) or not root or PLACEHOLDER.search(root) or os.path.isdir(root):
        return []
    what = "is not a folder" if os.path.exists(root) else "does not exist"
    return [warning(path + (key,), f"{quoted(root)} {what} on this appliance: the receiver will find no files "
                                   "there (a connection error at every poll) until it is created.")]


def _streams_without_time(config: dict, index: int, receiver: dict) -> list[Violation]:
    """Streams whose records can have no time, so the historian can store none of them.

    A record's time is the first parse_timestamps / parse_dates field of the stream's parser,
    else the first field a convert_timestamps transform converts; with neither named, every
    record is refused at run time ("no timestamp field"). Only a certain failure is reported:
    a named field that the files turn out not to have is a run-time marker.
    """
    parsers = [p for _, p in sub_entries(receiver, "parsers")]
    found = []
    for j, stream in sub_entries(receiver, "streams"):
        sid = stream_id(stream)
        if sid is None:
            continue
        parser = next((p for p in parsers if stream_matches(p.get("filter_stream", ["*"]), sid)), None)
        if parser is None or _parser_names_a_time(parser):
            continue  # no parser: a warning of its own (the stream is not read at all)
        if any(_converts_a_time(t) for _, t in entries(config, TRANSFORMS) if stream_matches(t.get("filter_stream", ["*"]), sid)):
            continue
        name = parser.get("parser_name")
        found.append(warning((RECEIVERS, index, "streams", j),
                             f"Records of stream {quoted(sid)} have no time, so the historian cannot store any of "
                             f"them: parser {quoted(name)} names no parse_timestamps or parse_dates field, and no "
                             "convert_timestamps transform names a field of this stream."))
    return found


def _named(field: Any) -> bool:
    return isinstance(field, str) and bool(field) and not PLACEHOLDER.search(field)


def _parser_names_a_time(parser: dict) -> bool:
    options = parser.get("options")
    parse = options.get("parse") if isinstance(options, dict) else None
    if not isinstance(parse, dict):
        return False
    stamps = parse.get("parse_timestamps")
    dates = parse.get("parse_dates")
    stamps = stamps if isinstance(stamps, list) else []
    dates = dates if isinstance(dates, list) else []
    return any(isinstance(s, dict) and _named(s.get("field_name")) for s in stamps) or any(map(_named, dates))


def _converts_a_time(transform: dict) -> bool:
    if transform.get("transform_type") != CONVERT_TIMESTAMPS:
        return False
    names = transform.get("field_names", transform.get("field_name"))
    if isinstance(names, str):
        names = [names]
    return isinstance(names, list) and any(_named(n) for n in names)
