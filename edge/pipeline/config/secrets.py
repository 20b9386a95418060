"""Secrets in the FactoryTX configuration: which keys hold them, masking, and keeping them.

A key holds a secret when its last word (split on '_', case ignored) is password, passwd,
passphrase, secret or token, or when it ends with api_key / apikey / private_key. So
`password`, `API_key`, `proxy_password`, `client_secret` are secrets; `API_key_ID` and
`username` are not.

GET /v1/config shows each non-empty secret string as MASK. A configuration posted back with MASK
in place of a secret keeps the stored secret, but only for the same secret of the same
component: same section, same name and type (data_receiver_name + protocol, parser_name +
parser_type, transform_name + transform_type, transmit_name + transmit_type), same position
inside it (connections[0] ...), and the same `host` / `base_url` beside it. So renaming a
receiver, reordering its connections or pointing it at another server never hands a stored
password to something it was not entered for; such a MASK is a violation.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from edge.pipeline.config.violations import JsonPath, Violation, error

MASK = "********"

_SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "token"})
_SECRET_ENDINGS = ("api_key", "apikey", "private_key")
# Where a secret is sent: a kept secret must still go to the same place.
_ENDPOINT_KEYS = ("host", "base_url")
# How each entry of a top-level section (and a receiver's parsers) is known: name and type keys.
_ENTRY_IDENTITY = {
    "data_receiver": ("data_receiver_name", "protocol", None),
    "transforms": ("transform_name", "transform_type", None),
    "data_transmit": ("transmit_name", "transmit_type", "remotedatapost"),
}
_PARSER_IDENTITY = ("parser_name", "parser_type", None)


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered.rsplit("_", 1)[-1] in _SECRET_WORDS or lowered.endswith(_SECRET_ENDINGS)


def secret_slots(config: Any) -> Iterator[tuple[JsonPath, tuple, str]]:
    """(json path, identity, value) of every secret string in `config`."""
    yield from _walk(config, (), ())


def mask_secrets(config: Any) -> Any:
    """A copy of `config` with every non-empty secret string replaced by MASK."""
    masked = copy.deepcopy(config)
    for path, _, value in list(secret_slots(masked)):
        if value:
            _set(masked, path, MASK)
    return masked


def restore_secrets(candidate: Any, stored: Any) -> tuple[Any, list[Violation]]:
    """`candidate` with each MASK replaced by the stored secret it stands for.

    A MASK with no stored secret of the same identity is left in place and reported.
    """
    kept = {identity: value for _, identity, value in secret_slots(stored)}
    restored = copy.deepcopy(candidate)
    violations = []
    for path, identity, value in list(secret_slots(restored)):
        if value != MASK:
            continue
        if identity in kept and kept[identity] != MASK:
            _set(restored, path, kept[identity])
        else:
            violations.append(error(path, f"'{path[-1]}' holds the mask {MASK!r} but no stored secret matches it "
                                          "(the component is new, or its name, type, position or host changed); "
                                          "enter the secret itself."))
    return restored, violations


def _walk(node: Any, path: JsonPath, identity: tuple) -> Iterator[tuple[JsonPath, tuple, str]]:
    if isinstance(node, dict):
        endpoint = tuple((k, node[k]) for k in _ENDPOINT_KEYS if isinstance(node.get(k), str))
        for key, value in node.items():
            if isinstance(key, str) and is_secret_key(key) and isinstance(value, str):
                yield path + (key,), identity + (endpoint, key), value
            else:
                yield from _walk(value, path + (key,), identity + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, path + (index,), identity + (_entry_identity(path, index, item),))


def _entry_identity(path: JsonPath, index: int, item: Any) -> Any:
    keys = None
    if len(path) == 1 and path[0] in _ENTRY_IDENTITY:
        keys = _ENTRY_IDENTITY[path[0]]
    elif len(path) == 3 and path[0] == "data_receiver" and path[2] == "parsers":
        keys = _PARSER_IDENTITY
    if keys is None or not isinstance(item, dict):
        return index
    name_key, type_key, default_type = keys
    return ("named", _hashable(item.get(name_key)), _hashable(item.get(type_key, default_type)))


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _set(root: Any, path: JsonPath, value: Any) -> None:
    node = root
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
