"""The shape of a FactoryTX configuration: its sections and how to walk their entries.

The walkers skip what is not the expected type (a section that is not a list, an entry that is
not an object, an asset that is not a string): the schema check reports those, and the
cross-entry rules only look at what is well formed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from edge.pipeline import registry

RECEIVERS = "data_receiver"
TRANSFORMS = "transforms"
TRANSMITS = "data_transmit"
SECTIONS = (RECEIVERS, TRANSFORMS, TRANSMITS)
EMPTY_CONFIG = {RECEIVERS: [], TRANSFORMS: [], TRANSMITS: []}


def with_every_section(config: Any) -> Any:
    """`config` with each section it leaves out as an empty list, the way a configuration is
    stored and shown (a section left out counts as empty, and clients read three lists).
    The sections given keep their order; anything but an object is returned as it is."""
    if not isinstance(config, dict):
        return config
    return {**config, **{section: [] for section in SECTIONS if section not in config}}


class Section:
    """How one kind of entry names itself and picks its component."""

    def __init__(self, kind: str, what: str, name_key: str, type_key: str, default_type: str | None = None):
        self.kind = kind  # registry section
        self.what = what  # "protocol", "parser" ...: as in `No parser named "x".`
        self.name_key = name_key
        self.type_key = type_key
        self.default_type = default_type


SECTION_RULES = {
    RECEIVERS: Section(registry.DATA_RECEIVER, "protocol", "data_receiver_name", "protocol"),
    TRANSFORMS: Section(registry.TRANSFORM, "transform", "transform_name", "transform_type"),
    TRANSMITS: Section(registry.DATA_TRANSMIT, "transmit", "transmit_name", "transmit_type", "remotedatapost"),
}
PARSERS = Section(registry.PARSER, "parser", "parser_name", "parser_type")


def entries(config: Any, section: str) -> Iterator[tuple[int, dict]]:
    """(index, entry) of each object in a section that is a list."""
    items = config.get(section) if isinstance(config, dict) else None
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def sub_entries(entry: dict, key: str) -> Iterator[tuple[int, dict]]:
    """(index, object) of each object in entry[key] when that is a list."""
    items = entry.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def stream_id(stream: dict) -> str | None:
    """'asset:stream_type', the name filter_stream patterns are matched against."""
    asset, stream_type = stream.get("asset"), stream.get("stream_type")
    if isinstance(asset, str) and isinstance(stream_type, str) and ":" not in asset + stream_type:
        return f"{asset}:{stream_type}"
    return None  # refused by the schema; not a stream the other rules should count


def receiver_streams(receiver: dict) -> list[tuple[int, str]]:
    """(index in streams, 'asset:stream_type') of a receiver's well-formed streams."""
    found = []
    for index, stream in sub_entries(receiver, "streams"):
        sid = stream_id(stream)
        if sid is not None:
            found.append((index, sid))
    return found
