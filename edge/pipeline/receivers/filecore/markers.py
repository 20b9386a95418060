"""What a file's read reports, and the markers only file receivers raise.

Besides the markers every receiver shares (`edge.pipeline.runtime.markers`), a file receiver
raises `parse` for bad lines (by bad_lines_action; cleared by a file without any) and `file`
when a file cannot be read or deleted.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from edge.pipeline.runtime.markers import StreamMarkers

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.filestate import FileState
    from edge.pipeline.receivers.filecore.streams import StreamSetup

PARSE, FILE = "parse", "file"


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


class FileStreamMarkers(StreamMarkers):
    """The stream markers of a file receiver, with what a file's read reports."""

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
            self.clear_quiet_transforms(stream, (name for name, _ in stream.flow.transforms), report.warned)
