"""What the historian has had of a SQL stream: the state up to which every row is stored,
kept in the historian ledger, which a restream does not purge.

After a restream the stream reads again from its initial state, and the batches it reads
need not be cut as they were the first time (rows that came one poll at a time come back as
one page), so their batch keys differ. The ledger's `taken` state says which rows the
historian has: rows up to it (in the query's order, which is the state fields' order) go to
the other sinks only, the rest to the historian as usual. `taken` is written with the
stream's progress and never moves back.

Only states that compare as the database orders them are used: integer, float and timestamp
fields (timestamps of one kind, all naive or all with a zone). A stream with a string state
field keeps no ledger (text collations differ from Python's order): after a restream its
pages come back under the same keys only when they are cut as before.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from edge.pipeline.receivers.sql.statefields import FLOAT, INTEGER, TIMESTAMP, StateField

ORDERED_TYPES = (INTEGER, FLOAT, TIMESTAMP)


def state_order(fields: Sequence[StateField], state: dict[str, Any]) -> tuple | None:
    """The state as a tuple that sorts as the rows do, or None when it cannot be compared."""
    if not fields or any(field.data_type not in ORDERED_TYPES for field in fields):
        return None
    key = []
    for field in fields:
        value = state.get(field.column)
        if value is None:
            return None
        if field.data_type == TIMESTAMP:
            try:
                moment = datetime.datetime.fromisoformat(value)
            except (TypeError, ValueError):
                return None
            key.append(moment)
        else:
            key.append(value)
    return tuple(key)


def before_mark(order: tuple | None, mark: tuple | None) -> bool:
    """Whether a state (its order) lies at or before the ledger's mark."""
    if order is None or mark is None:
        return False
    try:
        return order <= mark
    except TypeError:  # naive and aware timestamps: not comparable
        return False


def ledger_entry(state: dict[str, Any]) -> dict[str, Any]:
    return {"taken": state}


def ledger_taken(entry: Any) -> dict[str, Any] | None:
    if isinstance(entry, dict) and isinstance(entry.get("taken"), dict):
        return entry["taken"]
    return None
