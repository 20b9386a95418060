"""One stream's way through the pipeline: its parser, its transforms, the sinks its records reach.

For a stream `asset:stream_type` of a receiver, the parser is the first of the receiver's
`parsers` whose filter_stream matches the stream (receivers whose source gives records, not
bytes, have none: `parsers=None`), and the transforms are every entry of the
configuration's `transforms` whose filter_stream matches, in order. Patterns are shell-style
(fnmatch, case-sensitive) against 'asset:stream_type'.

A transform is a class built from its configuration entry (ValueError for unusable options)
with `apply(batch, warn) -> RecordBatch`; `warn(text)` raises a warning marker for it. A sink
(the historian; the transmits' outboxes, `edge.pipeline.outbox`) has
`deliver(batch, batch_key, warn) -> int`; every sink gets every batch after the transforms.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Callable
from typing import Any, Protocol

from edge.pipeline import registry
from edge.pipeline.batch import RecordBatch

Warn = Callable[[str], None]


class FlowConfigError(ValueError):
    """The configuration cannot work for this stream; reported as a config marker."""


class Transform(Protocol):
    def __init__(self, entry: dict[str, Any]) -> None: ...

    def apply(self, batch: RecordBatch, warn: Warn) -> RecordBatch: ...


class Sink(Protocol):
    def deliver(self, batch: RecordBatch, batch_key: str, warn: Warn) -> int: ...


def stream_matches(patterns: Any, stream_id: str) -> bool:
    """Whether any filter_stream pattern matches `stream_id`; a missing list matches every stream."""
    if patterns is None:
        return True
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list):  # only in a configuration validation refuses
        return False
    return any(isinstance(p, str) and fnmatch.fnmatchcase(stream_id, p) for p in patterns)


class StreamFlow:
    """The parser and transforms of one stream, built once per receiver runtime."""

    def __init__(self, asset: str, stream_type: str, parsers: list[Any] | None, transforms: list[Any]):
        self.asset = asset
        self.stream_type = stream_type
        stream_id = f"{asset}:{stream_type}"
        self.parser = None
        entries: list[Any] = []
        if parsers is not None:
            parser_entry = next((p for p in parsers if isinstance(p, dict)
                                 and stream_matches(p.get("filter_stream", ["*"]), stream_id)), None)
            if parser_entry is None:
                raise FlowConfigError(f"no parser of the receiver applies to stream {stream_id} (filter_stream)")
            self.parser = _build(registry.PARSER, parser_entry.get("parser_type", "spreadsheet"), parser_entry,
                                 "parser", parser_entry.get("parser_name"))
            entries.append(parser_entry)
        self.transforms: list[tuple[str, Transform]] = []
        for entry in transforms:
            if not isinstance(entry, dict) or not stream_matches(entry.get("filter_stream", ["*"]), stream_id):
                continue
            name = str(entry.get("transform_name", entry.get("transform_type")))
            self.transforms.append((name, _build(registry.TRANSFORM, entry.get("transform_type"), entry,
                                                 "transform", name)))
            entries.append(entry)
        # Records read under another parser or transforms are other records: they get other batch keys.
        self.digest = hashlib.blake2b(json.dumps(entries, sort_keys=True, default=str).encode(),
                                      digest_size=8).hexdigest()

    @property
    def stream_id(self) -> str:
        return f"{self.asset}:{self.stream_type}"

    def transform(self, batch: RecordBatch, warn_for: Callable[[str], Warn]) -> RecordBatch:
        """`batch` through every transform; `warn_for(transform_name)` gives its warn callback."""
        for name, transform in self.transforms:
            if not len(batch):
                break
            batch = transform.apply(batch, warn_for(name))
        return batch


def _build(section: str, type_name: Any, entry: dict, what: str, name: Any):
    component = registry.find(section, str(type_name))
    runtime = component.load_runtime() if component is not None else None
    if runtime is None:
        raise FlowConfigError(f"{what} {name!r}: type {type_name!r} cannot run here")
    try:
        return runtime(entry)
    except (ValueError, KeyError, TypeError) as exc:
        raise FlowConfigError(f"{what} {name!r}: {exc}") from None

