"""How far a SQL stream has read, and the chunk it is storing: committed to the catalog before
the chunk goes to the historian.

The record (receiver state, resource `query`) is `{"state": {...}, "pending": {...} | null}`.
`state` is where the stream's query goes on. `pending` is the intent of the chunk being
stored: the state before it, the number of rows, the state after it and its batch key. A crash
after the intent is committed leaves it there; the next pass runs the query again from the
intent's state-before and takes the intent's rows, up to its state-after, under its key (the
historian skips them if it stored them), then goes on with the rows that came after. A query
without LIMIT may return more rows than the first time, and keying only by the state before
would then skip the newer rows for ever: the intent's row count and state-after keep the
replayed chunk exactly what it was.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

RESOURCE = "query"


@dataclasses.dataclass(frozen=True)
class Intent:
    before: dict[str, Any]
    rows: int
    after: dict[str, Any]
    key: str
    historian: bool = True  # False: rows the historian had before a restream (see `ledger`)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Intent | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(dict(data["before"]), int(data["rows"]), dict(data["after"]), str(data["key"]),
                       bool(data.get("historian", True)))
        except (KeyError, TypeError, ValueError):
            return None


@dataclasses.dataclass(frozen=True)
class Progress:
    state: dict[str, Any]
    pending: Intent | None = None

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "pending": self.pending.to_json() if self.pending else None}

    @classmethod
    def from_json(cls, data: Any, initial: dict[str, Any]) -> Progress:
        """The stored record; a missing one (first run, restream) starts from `initial`. State
        fields added to the configuration since start from their initial value."""
        if not isinstance(data, dict) or not isinstance(data.get("state"), dict):
            return cls(dict(initial))
        return cls({**initial, **{k: v for k, v in data["state"].items() if k in initial}},
                   Intent.from_json(data.get("pending")))


def state_text(state: dict[str, Any]) -> str:
    """The state in one canonical text, for batch keys."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"))
