"""Rules across entries that a per-component schema cannot state: unique names, unique streams,
filter_stream patterns that select something, streams that some parser reads, streams whose
tag names have room for field names.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from edge.pipeline.config.shape import (PARSERS, RECEIVERS, SECTION_RULES, TRANSFORMS, entries,
                                        receiver_streams, sub_entries)
from edge.pipeline.config.violations import JsonPath, Violation, dotted, error, quoted, warning
from edge.pipeline.runtime.ports import NAME_LENGTH

MATCH_ALL = "*"
_SHOWN_STREAMS = 5


def cross_entry_violations(config: dict, tag_name_bytes: int = NAME_LENGTH) -> list[Violation]:
    found: list[Violation] = []
    for section in SECTION_RULES:
        found += _duplicate_names(((section, i), e) for i, e in entries(config, section))
    for index, receiver in entries(config, RECEIVERS):
        found += _duplicate_names(((RECEIVERS, index, "parsers", j), p) for j, p in sub_entries(receiver, "parsers"))
    found += _duplicate_streams(config)
    found += _filter_stream_violations(config)
    found += _tag_name_room(config, tag_name_bytes)
    return found


def _duplicate_names(located: Iterable[tuple[JsonPath, dict]]) -> list[Violation]:
    found = []
    first_at: dict[str, JsonPath] = {}
    for path, entry in located:
        name_key = _name_key(path)
        name = entry.get(name_key)
        if not isinstance(name, str):
            continue
        if name in first_at:
            found.append(error(path + (name_key,), f"Duplicate {name_key} {quoted(name)}: names must be unique "
                                                   f"(first used at {dotted(first_at[name])})."))
        else:
            first_at[name] = path
    return found


def _name_key(path: JsonPath) -> str:
    return PARSERS.name_key if path[-2] == "parsers" else SECTION_RULES[path[0]].name_key


def _duplicate_streams(config: dict) -> list[Violation]:
    found = []
    first_at: dict[str, JsonPath] = {}
    for index, receiver in entries(config, RECEIVERS):
        for j, sid in receiver_streams(receiver):
            path = (RECEIVERS, index, "streams", j)
            if sid in first_at:
                found.append(error(path, f"Stream {quoted(sid)} (asset:stream_type) is defined more than once "
                                         f"(first at {dotted(first_at[sid])})."))
            else:
                first_at[sid] = path
    return found


def _tag_name_room(config: dict, limit: int) -> list[Violation]:
    """An error at the asset of a stream whose tag names '<asset>:<stream_type>:<field>' would
    not fit the historian's NAME column (`limit` bytes) whatever the field."""
    found = []
    for index, receiver in entries(config, RECEIVERS):
        for j, stream in sub_entries(receiver, "streams"):
            asset, stream_type = stream.get("asset"), stream.get("stream_type")
            if not isinstance(asset, str) or not isinstance(stream_type, str):
                continue
            prefix = len(asset.encode("utf-8")) + len(stream_type.encode("utf-8")) + 2  # the two ':'
            left = limit - prefix
            if left < 1:
                found.append(error((RECEIVERS, index, "streams", j, "asset"),
                                   f"Tag names '<asset>:<stream_type>:<field>' may be at most {limit} bytes; "
                                   f"asset ({len(asset.encode('utf-8'))} bytes) and stream_type "
                                   f"({len(stream_type.encode('utf-8'))} bytes) with their separators take "
                                   f"{prefix}, which leaves {max(left, 0)} for field names: shorten the asset."))
    return found


def _filter_stream_violations(config: dict) -> list[Violation]:
    found = []
    every_stream: list[str] = []
    for index, receiver in entries(config, RECEIVERS):
        streams = receiver_streams(receiver)
        every_stream += [sid for _, sid in streams]
        parsers = list(sub_entries(receiver, "parsers"))
        for j, parser in parsers:
            found += _unmatched_patterns((RECEIVERS, index, "parsers", j), parser, [sid for _, sid in streams])
        if parsers and isinstance(receiver.get("parsers"), list):
            found += _unparsed_streams(index, streams, [p for _, p in parsers])
    for index, transform in entries(config, TRANSFORMS):
        found += _unmatched_patterns((TRANSFORMS, index), transform, every_stream)
    return found


def _patterns(entry: dict) -> list[tuple[int, str]]:
    patterns = entry.get("filter_stream")
    if not isinstance(patterns, list):
        return []
    return [(k, p) for k, p in enumerate(patterns) if isinstance(p, str) and p]


def _unmatched_patterns(path: JsonPath, entry: dict, streams: list[str]) -> list[Violation]:
    found = []
    for k, pattern in _patterns(entry):
        if pattern == MATCH_ALL or any(fnmatch.fnmatchcase(sid, pattern) for sid in streams):
            continue
        found.append(error(path + ("filter_stream", k), f"filter_stream pattern {quoted(pattern)} matches no stream "
                                                         f"({_stream_list(streams)})."))
    return found


def _unparsed_streams(index: int, streams: list[tuple[int, str]], parsers: list[dict]) -> list[Violation]:
    found = []
    for j, sid in streams:
        if not any(fnmatch.fnmatchcase(sid, p) for parser in parsers for _, p in _patterns(parser)):
            found.append(warning((RECEIVERS, index, "streams", j),
                                 f"No parser's filter_stream matches stream {quoted(sid)}: its files will not be read."))
    return found


def _stream_list(streams: list[str]) -> str:
    if not streams:
        return "no streams are defined"
    shown = ", ".join(quoted(s) for s in streams[:_SHOWN_STREAMS])
    more = f" and {len(streams) - _SHOWN_STREAMS} more" if len(streams) > _SHOWN_STREAMS else ""
    return f"streams are {shown}{more}"
