"""The streams of a file receiver: which files each one takes and the flow its records go through."""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any

from edge.pipeline.runtime.streamflow import FlowConfigError, StreamFlow


@dataclasses.dataclass
class StreamSetup:
    asset: str
    stream_type: str
    patterns: list[str]  # file_filter
    flow: StreamFlow | None
    problem: str | None  # why the stream cannot run (config marker)

    def matches(self, name: str, case_sensitive: bool) -> bool:
        if case_sensitive:
            return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)
        return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in self.patterns)


def stream_setups(config: dict[str, Any], full_config: dict[str, Any]) -> list[StreamSetup]:
    """One setup per configured stream; a stream whose flow cannot be built keeps its problem,
    so the receiver reports it on every pass while the other streams run."""
    parsers = config.get("parsers") or []
    transforms = full_config.get("transforms") if isinstance(full_config, dict) else None
    transforms = transforms if isinstance(transforms, list) else []
    return [_stream_setup(entry, parsers, transforms) for entry in config.get("streams") or []
            if isinstance(entry, dict)]


def _stream_setup(entry: dict, parsers: list, transforms: list) -> StreamSetup:
    asset, stream_type = str(entry.get("asset")), str(entry.get("stream_type"))
    patterns = entry.get("file_filter") or ["*"]
    try:
        flow = StreamFlow(asset, stream_type, parsers, transforms)
        return StreamSetup(asset, stream_type, list(patterns), flow, None)
    except FlowConfigError as exc:
        return StreamSetup(asset, stream_type, list(patterns), None, str(exc))
