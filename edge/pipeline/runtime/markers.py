"""The markers a receiver raises on its streams, with the categories every receiver shares.

Markers (component: the receiver) on each stream: `connection` when the source cannot be
reached (cleared by the next good contact), `config` when the configuration cannot work for
the stream, `storage` when the historian refuses a batch (retried), `historian` for records
the historian could not take. A transform's warnings stand as `transform` markers of that
transform, cleared by a batch it took quietly. Receivers add their own categories (`file`,
`parse`, `query`, `quality` ...).

A pass clears many markers that are not there (every stored batch clears `config` and
`storage`); the markers standing are kept in memory, so a clear costs a catalog write only
when there is something to clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from edge.pipeline.runtime.context import TRANSFORM, ComponentContext
from edge.pipeline.runtime.streamflow import Warn

CONNECTION, CONFIG, STORAGE, HISTORIAN, TRANSFORM_CATEGORY = (
    "connection", "config", "storage", "historian", "transform")


class Stream(Protocol):
    asset: str
    stream_type: str


class StreamMarkers:
    """Raises and clears the markers of one receiver's streams."""

    def __init__(self, context: ComponentContext, streams: Iterable[Stream]):
        self._context = context
        self._markers = context.books.markers
        self._name = context.name
        self._log = context.log
        # Markers standing now (from an earlier run too), so clearing costs nothing when none is.
        self._raised: set[tuple[str, str, str, str]] = set()
        for stream in streams:
            for marker in self._markers.for_stream(stream.asset, stream.stream_type):
                self._raised.add((marker.component, marker.asset, marker.stream_type, marker.category))

    def mark(self, stream: Stream, category: str, level: str, message: str) -> None:
        self._context.raise_marker(stream.asset, stream.stream_type, category, level, message)
        self._raised.add((self._name, stream.asset, stream.stream_type, category))

    def clear(self, stream: Stream, category: str, component: str | None = None) -> None:
        key = (component or self._name, stream.asset, stream.stream_type, category)
        if key in self._raised:
            self._markers.clear(key[0], stream.asset, stream.stream_type, category)
            self._raised.discard(key)

    def is_raised(self, stream: Stream, category: str) -> bool:
        return (self._name, stream.asset, stream.stream_type, category) in self._raised

    def transform_warn(self, stream: Stream, transform: str, warned: set[str]) -> Warn:
        """The warn callback of `transform` on `stream`: a warning marker of the transform;
        `warned` collects the transforms that warned."""
        def warn(text: str) -> None:
            warned.add(transform)
            self._markers.raise_marker(transform, TRANSFORM, stream.asset, stream.stream_type,
                                       TRANSFORM_CATEGORY, "warning", text)
            self._raised.add((transform, stream.asset, stream.stream_type, TRANSFORM_CATEGORY))
        return warn

    def clear_quiet_transforms(self, stream: Stream, transforms: Iterable[str], warned: set[str]) -> None:
        """Clears the transform markers of the transforms that took records without a warning."""
        for name in transforms:
            if name not in warned:
                self.clear(stream, TRANSFORM_CATEGORY, component=name)
