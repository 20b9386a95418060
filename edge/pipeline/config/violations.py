"""A configuration violation: what is wrong, where (a JSON path), and how bad."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

ERROR = "error"
WARNING = "warning"

JsonPath = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Violation:
    description: str
    json_path: JsonPath  # object keys (str) and zero-based list indexes (int); () is the root
    level: str  # ERROR or WARNING

    def to_json(self) -> dict:
        return {"description": self.description, "json_path": list(self.json_path), "level": self.level}


def error(path: Iterable[str | int], description: str) -> Violation:
    return Violation(description, tuple(path), ERROR)


def warning(path: Iterable[str | int], description: str) -> Violation:
    return Violation(description, tuple(path), WARNING)


def has_errors(violations: Iterable[Violation]) -> bool:
    return any(v.level == ERROR for v in violations)


def dotted(path: Iterable[str | int]) -> str:
    """A JSON path as people write it in a message: data_receiver[0].streams[1]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def unique(violations: Iterable[Violation]) -> list[Violation]:
    """The violations in order, each reported once."""
    return list(dict.fromkeys(violations))


def quoted(value) -> str:
    """A value as it appears in JSON, for messages."""
    return json.dumps(value, ensure_ascii=False)
