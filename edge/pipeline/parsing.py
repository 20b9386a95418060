"""What a parser gives the receiver that feeds it, chunk by chunk: the contract between the two.

A file receiver cuts a file into chunks of whole records and hands each to its stream's parser
with the `Position` the previous chunk ended at; the parser answers a `ParsedChunk`. Both
sides import this module, never each other, so a new parser or receiver needs only this.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


class ParserConfigError(ValueError):
    """Parser options, or a file, that cannot work together; reported as a config marker."""


@dataclasses.dataclass(frozen=True)
class Position:
    """How far a file has been read; kept in the receiver state between chunks."""
    columns: tuple[str, ...] | None = None  # field names, once the header is read
    skipped: int = 0  # non-blank rows passed over before the header
    row: int = 0  # data rows read (good and bad): the next record's counter
    line: int = 0  # physical lines read
    numeric: tuple[str, ...] = ()  # fields read as numbers so far: they stay numeric for the file

    def as_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns) if self.columns is not None else None,
                "skipped": self.skipped, "row": self.row, "line": self.line, "numeric": list(self.numeric)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Position:
        if not data:
            return cls()
        columns = data.get("columns")
        return cls(tuple(columns) if columns is not None else None, int(data.get("skipped", 0)),
                   int(data.get("row", 0)), int(data.get("line", 0)), tuple(data.get("numeric") or ()))


@dataclasses.dataclass
class ParsedChunk:
    fields: dict[str, np.ndarray]
    time_field: str | None
    position: Position  # after this chunk
    bad_lines: int = 0
    bad_examples: list[str] = dataclasses.field(default_factory=list)
    unparsed: int = 0  # cells of a numeric field that are no number (stored as missing)
    unparsed_examples: list[str] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int:
        for values in self.fields.values():
            return len(values)
        return 0
