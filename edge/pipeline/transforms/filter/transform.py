"""filter: keeps the records that satisfy simple comparisons (field operator constant).

A number compares numerically (a field that is not numeric fails; booleans count as 0/1), a
string as text (a numeric field in its text form; a timestamp field against the string read
as an ISO 8601 time, UTC unless it says otherwise), booleans and null only with == and !=
(null: the field is missing). A record whose field is missing fails every comparison but
`== null`.
"""

from __future__ import annotations

import datetime as _dt
import operator
from typing import Any

import numpy as np

from edge.pipeline.batch import BOOLEAN, NUMBER, TEXT, TIMESTAMP, RecordBatch, field_kind, missing_mask
from edge.pipeline.runtime.streamflow import Warn
from edge.time.civil import datetime_to_ns

OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
             ">=": operator.ge}
_TRUE_WORDS = np.array(["true", "1", "yes", "on"])
_FALSE_WORDS = np.array(["false", "0", "no", "off"])


class Condition:
    def __init__(self, item: Any):
        if not isinstance(item, dict) or not {"field", "operator", "value"} <= set(item):
            raise ValueError("a condition needs field, operator and value")
        self.field = str(item["field"])
        self.operator = item["operator"]
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}; use one of {' '.join(OPERATORS)}")
        self.value = item["value"]
        if (self.value is None or isinstance(self.value, bool)) and self.operator not in ("==", "!="):
            raise ValueError(f"{self.field}: booleans and null compare only with == and !=")
        if not (self.value is None or isinstance(self.value, (bool, int, float, str))):
            raise ValueError(f"{self.field}: value must be a number, a string, a boolean or null")
        self._time = _iso_ns(self.value) if isinstance(self.value, str) else None

    def holds(self, batch: RecordBatch) -> np.ndarray:
        rows = len(batch)
        values = batch.fields.get(self.field)
        if values is None:
            return np.full(rows, self.value is None and self.operator == "==")
        missing = missing_mask(values)
        if self.value is None:
            return missing if self.operator == "==" else ~missing
        compare = OPERATORS[self.operator]
        kind = field_kind(values)
        if isinstance(self.value, bool):
            truth = self._truth(values, kind)
            if truth is None:
                return np.zeros(rows, dtype=bool)
            known, flag = truth
            return known & ~missing & compare(flag, self.value)
        if isinstance(self.value, (int, float)):
            if kind not in (NUMBER, BOOLEAN):
                return np.zeros(rows, dtype=bool)
            return ~missing & compare(values.astype(np.float64), float(self.value))
        if kind == TIMESTAMP:
            if self._time is None:
                return np.zeros(rows, dtype=bool)
            return ~missing & compare(values.view(np.int64), self._time)
        return ~missing & compare(values.astype(TEXT), self.value)

    @staticmethod
    def _truth(values: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray] | None:
        if kind in (NUMBER, BOOLEAN):
            return np.ones(len(values), dtype=bool), values.astype(np.float64) != 0
        if kind == TIMESTAMP:
            return None
        lowered = np.strings.lower(np.strings.strip(values))
        is_true = np.isin(lowered, _TRUE_WORDS)
        return is_true | np.isin(lowered, _FALSE_WORDS), is_true


def _iso_ns(text: str) -> int | None:
    try:
        moment = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return datetime_to_ns(moment)  # a time without an offset is UTC


class FilterTransform:
    def __init__(self, entry: dict[str, Any]):
        conditions = entry.get("conditions")
        if not isinstance(conditions, list) or not conditions:
            raise ValueError("conditions must be a non-empty list")
        self.conditions = [Condition(item) for item in conditions]
        self.match = entry.get("match", "all")
        if self.match not in ("all", "any"):
            raise ValueError("match must be 'all' or 'any'")

    def apply(self, batch: RecordBatch, warn: Warn) -> RecordBatch:
        masks = [condition.holds(batch) for condition in self.conditions]
        keep = np.logical_and.reduce(masks) if self.match == "all" else np.logical_or.reduce(masks)
        return batch if keep.all() else batch.take(keep)
