"""The markers a file receiver raises on its streams, and what a file's read reports to them.

Markers (component: the receiver) on each stream: `connection` when a connection cannot be
listed (cleared by the next good listing), `config` when the configuration cannot work for
the stream, `parse` for bad lines (by bad_lines_action; cleared by a file without any),
`file` when a file cannot be read or deleted, `storage` when the historian refuses a chunk
(retried every pass), `historian` for records the historian could not take. A transform's
warnings stand as `transform` markers of that transform, cleared by a file it read quietly.

A pass clears many markers that are not there (every stored chunk clears `config` and
`storage`); the markers standing are kept in memory, so a clear costs a catalog write only
when there is something to clear.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from edge.pipeline.runtime.context import TRANSFORM, ComponentContext
from edge.pipeline.runtime.streamflow import Warn

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.filestate import FileState
    from edge.pipeline.receivers.filecore.streams import StreamSetup

CONNECTION, CONFIG, PARSE, FILE, STORAGE, HISTORIAN, TRANSFORM_CATEGORY = (
    "connection", "config", "parse", "file", "storage", "historian", "transform")


@dataclasses.dataclass
class FileReport:
    """What reading one file found: the pass's counts, and what its markers say."""

    bad_lines: int = 0
    bad_examples: list[str] = dataclasses.field(default_factory=list)
    unparsed: int = 0  # cells of numeric fields that are no number
    unparsed_examples: list[str] = dataclasses.field(default_factory=list)
    records_in: int = 0
    records_out: int = 0
    warned: set[str] = dataclasses.field(default_factory=set)  # transforms that raised a warning


class StreamMarkers:
    """Raises and clears the markers of one receiver's streams."""

    def __init__(self, context: ComponentContext, streams: list[StreamSetup]):
        self._context = context
        self._markers = context.books.markers
        self._name = context.name
        self._log = context.log
        # Markers standing now (from an earlier run too), so clearing costs nothing when none is.
        self._raised: set[tuple[str, str, str, str]] = set()
        for stream in streams:
            for marker in self._markers.for_stream(stream.asset, stream.stream_type):
                self._raised.add((marker.component, marker.asset, marker.stream_type, marker.category))

    def mark(self, stream: StreamSetup, category: str, level: str, message: str) -> None:
        self._context.raise_marker(stream.asset, stream.stream_type, category, level, message)
        self._raised.add((self._name, stream.asset, stream.stream_type, category))

    def clear(self, stream: StreamSetup, category: str, component: str | None = None) -> None:
        key = (component or self._name, stream.asset, stream.stream_type, category)
        if key in self._raised:
            self._markers.clear(key[0], stream.asset, stream.stream_type, category)
            self._raised.discard(key)

    def transform_warn(self, stream: StreamSetup, transform: str, report: FileReport) -> Warn:
        """The warn callback of `transform` on `stream`: a warning marker of the transform."""
        def warn(text: str) -> None:
            report.warned.add(transform)
            self._markers.raise_marker(transform, TRANSFORM, stream.asset, stream.stream_type,
                                       TRANSFORM_CATEGORY, "warning", text)
            self._raised.add((transform, stream.asset, stream.stream_type, TRANSFORM_CATEGORY))
        return warn

    def file_read(self, stream: StreamSetup, file: str, report: FileReport, state: FileState) -> None:
        """Bad lines and unparsed cells of the file (`file`: its name as the user knows it) as
        a parse marker; markers the file shows resolved are cleared."""
        action = stream.flow.parser.bad_lines_action
        problems = []
        if report.bad_lines:
            problems.append(f"{report.bad_lines} bad line(s) skipped"
                            + (f"; {'; '.join(report.bad_examples)}" if report.bad_examples else ""))
        if report.unparsed:
            problems.append(f"{report.unparsed} value(s) that are not numbers skipped"
                            + (f"; {'; '.join(report.unparsed_examples)}" if report.unparsed_examples else ""))
        if problems:
            text = f"{file}: " + "; ".join(problems)
            self._log.warning("%s", text)
            if action != "skip":
                self.mark(stream, PARSE, "error" if action == "error" else "warning", text)
        elif state.done and report.records_in:
            self.clear(stream, PARSE)
        if report.records_in:
            for name, _ in stream.flow.transforms:
                if name not in report.warned:
                    self.clear(stream, TRANSFORM_CATEGORY, component=name)
