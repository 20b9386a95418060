"""What the SQL engine answers, in the Machbase envelope: result sets through the Machbase
printer (`machbase_format`), statuses as small dicts.

The engine's columns carry every Machbase type code, TEXT, BINARY and IPV6 among them; the
printer prints them as text, the header says their own code and length.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.sql import types
from edge.sql.results import CodedText, Outcome, ResultSet
from edge.web.machbase.format import NO_ERROR, Coded, Column, Nullable, OutputOptions, result_set


@dataclasses.dataclass(frozen=True)
class _TypedColumn(Column):
    """A printer column whose header reports the engine's type code (TEXT 49, BINARY 57 ...)."""
    code: int = 0

    def header(self) -> dict:
        return {"name": self.name, "type": self.code, "length": self.length}


def _printer_type(kind: types.MachType) -> str:
    if kind.name in types.INTEGER_TYPES:
        return "long"
    if kind.name in types.DECIMAL_TYPES:
        return "double"
    if kind.name == "datetime":
        return "datetime"
    return "varchar"


def _printer_values(values):
    if isinstance(values, CodedText):
        return Coded(list(values.distinct), np.asarray(values.codes, dtype=np.int64))
    if isinstance(values, np.ma.MaskedArray):
        return Nullable(np.ma.getdata(values), np.ma.getmaskarray(values))
    return values


def result_bytes(result: ResultSet, options: OutputOptions) -> bytes:
    columns = [_TypedColumn(c.name, _printer_type(c.type), c.type.length, c.type.code) for c in result.columns]
    return result_set(columns, [_printer_values(v) for v in result.values], options)


def answer(outcome: Outcome, options: OutputOptions):
    """The response body of a statement: result set bytes, or the status dict."""
    if outcome.result is not None:
        return result_bytes(outcome.result, options)
    body = {"error_code": 0, "error_message": outcome.message or NO_ERROR, "data": []}
    if outcome.effect_rows is not None:
        body["effect_rows"] = str(int(outcome.effect_rows))
    return body


def append_answer(success: int, failure: int) -> dict:
    return {"error_code": 0, "error_message": NO_ERROR, "data": [], "append_success": int(success),
            "append_failure": int(failure)}
