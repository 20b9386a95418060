"""Rules of a serial receiver entry that its schema cannot state (run on an entry the schema accepts).

Ports are configured once; a stream names a configured port; a stream has either a pattern
(a regular expression that compiles and has named groups) or a separator with field_names;
field names are unique; timestamp_field is one of them, and without it no field is called
'timestamp' (the receive time's field); timestamp_format and localtz need timestamp_field;
streams of one port share one terminator.
"""

from __future__ import annotations

import re
from typing import Any

from edge.pipeline.config.violations import Violation, error, quoted
from edge.pipeline.receivers.serial.lines import RECEIVE_TIME
from edge.pipeline.receivers.serial.receiver import DEFAULT_TERMINATOR, stream_port


def serial_checks(entry: dict[str, Any]) -> list[Violation]:
    connections = entry.get("connections") or []
    found: list[Violation] = []
    ports: dict[str, int] = {}
    for k, connection in enumerate(connections):
        port = connection["port"]
        if port in ports:
            found.append(error(("connections", k, "port"), f"Port {quoted(port)} is configured twice (first at "
                                                           f"connections[{ports[port]}])."))
        ports.setdefault(port, k)
    terminators: dict[str, tuple[int, str]] = {}
    for i, stream in enumerate(entry.get("streams") or []):
        path = ("streams", i)
        port = stream_port(stream, connections)
        if "port" in stream and port not in ports:
            found.append(error(path + ("port",), f"Port {quoted(port)} is not among the connections "
                                                 f"({', '.join(map(quoted, ports)) or 'none'})."))
        terminator = stream.get("terminator", DEFAULT_TERMINATOR)
        first = terminators.setdefault(port, (i, terminator))
        if first[1] != terminator:
            found.append(error(path + ("terminator",), f"Streams of one port share its terminator: streams[{first[0]}] "
                                                       f"ends lines on {port} with {quoted(first[1])}."))
        names, problems = _field_names(path, stream)
        found += problems
        found += _time_violations(path, stream, names)
    return found


def _field_names(path, stream: dict) -> tuple[list[str] | None, list[Violation]]:
    """The stream's field names (None when they cannot be known) and what is wrong with them."""
    pattern, separator = stream.get("pattern"), stream.get("separator")
    if pattern is not None and separator is not None:
        return None, [error(path + ("separator",), "Give either pattern or separator (with field_names), not both.")]
    if pattern is None and separator is None:
        return None, [error(path + ("pattern",), "'pattern' or 'separator' (with field_names) is required.")]
    if pattern is not None:
        if "field_names" in stream:
            return None, [error(path + ("field_names",), "field_names go with separator; a pattern names its fields "
                                                         "with named groups (?P<name>...).")]
        try:
            names = list(re.compile(pattern).groupindex)
        except re.error as exc:
            return None, [error(path + ("pattern",), f"pattern is not a regular expression: {exc}.")]
        if not names:
            return None, [error(path + ("pattern",), "pattern has no named group (?P<name>...), so its lines would "
                                                     "have no fields.")]
        return names, []
    names = stream.get("field_names")
    if names is None:
        return None, [error(path + ("field_names",), "separator needs field_names: the names of the fields in line "
                                                     "order.")]
    seen: set[str] = set()
    for k, name in enumerate(names):
        if name in seen:
            return None, [error(path + ("field_names", k), f"Field name {quoted(name)} is given twice.")]
        seen.add(name)
    return names, []


def _time_violations(path, stream: dict, names: list[str] | None) -> list[Violation]:
    time_field = stream.get("timestamp_field")
    if time_field is None:
        found = [error(path + (option,), f"{option} applies to timestamp_field, which is not given.")
                 for option in ("timestamp_format", "localtz") if option in stream]
        if names is not None and RECEIVE_TIME in names:
            found.append(error(path + ("timestamp_field",), f"A field is called {quoted(RECEIVE_TIME)}, the receive "
                                                            "time's field: name it in timestamp_field to take the "
                                                            "record time from it, or call it otherwise."))
        return found
    if names is not None and time_field not in names:
        return [error(path + ("timestamp_field",), f"timestamp_field {quoted(time_field)} is not one of the stream's "
                                                   f"fields ({', '.join(map(quoted, names))}).")]
    return []
