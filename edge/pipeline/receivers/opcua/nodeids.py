"""Tag names as the configuration writes them: a full NodeId, or a string identifier to look up.

A name starting with `ns=` or `nsu=`, or one of `i=`, `s=`, `g=`, `b=` followed by the
identifier, is a full NodeId in the OPC UA text form (`ns=2;s=Line1.Speed`, `i=2258`,
`ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a`, `nsu=urn:plant;s=Speed`). Anything else
(`Spraypaint.Drying.Fan.Speed`) is a string identifier, resolved once per connection in the
server's namespaces. Checked here without the protocol library, so validation stays light.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid

_PREFIX = re.compile(r"^(?:ns|nsu|i|s|g|b)=")
_NAMESPACE = re.compile(r"^ns=(\d+);(.*)$", re.DOTALL)
_NAMESPACE_URI = re.compile(r"^nsu=([^;]+);(.*)$", re.DOTALL)
MAX_NAMESPACE = 65535
MAX_NUMERIC = 2 ** 32 - 1


def is_full_node_id(name: str) -> bool:
    """Whether `name` is written as a NodeId (else it is a string identifier to look up)."""
    return bool(_PREFIX.match(name))


def node_id_problem(name: str) -> str | None:
    """Why `name` is not a well-formed NodeId, or None (a string identifier is always well formed)."""
    if not is_full_node_id(name):
        return None if name.strip() else "is blank"
    rest = name
    if name.startswith("ns="):
        match = _NAMESPACE.match(name)
        if match is None:
            return "has 'ns=' without a namespace number followed by ';' and an identifier"
        if int(match.group(1)) > MAX_NAMESPACE:
            return f"has namespace {match.group(1)}, above {MAX_NAMESPACE}"
        rest = match.group(2)
    elif name.startswith("nsu="):
        match = _NAMESPACE_URI.match(name)
        if match is None:
            return "has 'nsu=' without a namespace URI followed by ';' and an identifier"
        rest = match.group(2)
    kind, equals, identifier = rest.partition("=")
    if not equals or kind not in ("i", "s", "g", "b"):
        return "needs an identifier 'i=<number>', 's=<text>', 'g=<guid>' or 'b=<base64>' after the namespace"
    if not identifier:
        return f"has an empty '{kind}=' identifier"
    if kind == "i" and not (identifier.isdigit() and int(identifier) <= MAX_NUMERIC):
        return f"has numeric identifier {identifier!r}, not a whole number from 0 to {MAX_NUMERIC}"
    if kind == "g":
        try:
            uuid.UUID(identifier)
        except ValueError:
            return f"has GUID identifier {identifier!r}, not a GUID like 09087e75-8e5e-499b-954f-f2a9603db28a"
    if kind == "b":
        try:
            base64.b64decode(identifier.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return f"has opaque identifier {identifier!r}, not base64"
    return None
