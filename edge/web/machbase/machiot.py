"""The Machbase tag API: /machiot and /machiot-rest-api, each also under /v1.

Raw points (append, select, delete) and rollup statistics live here; tag metadata and the
per-tag statistics endpoints in `machiot_tags`. Routes parse and format; the store does the work.
"""

from __future__ import annotations

import dataclasses

import bottle
import numpy as np

from edge.errors import INVALID_ARGUMENT, MB_BAD_REQUEST, EdgeError
from edge.time.timezone import TimeZone
from edge.web.machbase import machiot_tags
from edge.web.envelope import MACHBASE, Flavour, json_app, read_json_body
from edge.web.machbase.format import NO_ERROR, Coded, Column, Nullable, OutputOptions, result_set, status
from edge.web.machbase.params import (first_of, output_options, request_time, request_zone, tag_names,
                                      whole_number)
from edge.web.machbase.machiot_tags import key_columns, require_tags
from edge.web.ports import HistorianPorts
from edge.web.machbase.tag_append import append_rows, cyclic_gc_paused, store_rows

PREFIXES = ("/machiot", "/machiot/v1", "/machiot-rest-api", "/machiot-rest-api/v1")
RAW_PARTS = ("TagNames", "Start", "End", "Direction", "Count", "Offset")
CALCULATED_PARTS = ("TagNames", "Start", "End", "CalculationMode", "Count", "IntervalType", "IntervalValue")
FUNCTIONS = ("min", "max", "sum", "count", "avg")
INTERVALS = {"sec": ("sec", 60), "min": ("min", 60), "hour": ("hour", 24)}
# Bytes of JSON text a result row costs at most, about: bounds a result by HTTP_MAX_MEM early.
ROW_TEXT_BYTES = 96


def machiot_flavour(zone: TimeZone) -> Flavour:
    """Machbase's envelope plus the "timezone" the tag API puts in every answer, errors too."""

    def render(err: EdgeError) -> dict:
        return {"error_code": err.code, "error_message": err.text, "timezone": zone.offset_text(), "data": []}

    return dataclasses.replace(MACHBASE, name="machiot", render=render)


def build(ports: HistorianPorts, flavour: Flavour) -> bottle.Bottle:
    web = json_app(flavour)
    api = MachiotApi(ports)
    for prefix in PREFIXES:
        api.install(web, prefix)
        machiot_tags.install(web, prefix, api)
    return web


class MachiotApi:
    """What every route needs: the store, the zone, the f/m/s/tz options of the request."""

    def __init__(self, ports: HistorianPorts):
        self.store = ports.store
        self.zone = ports.zone
        self.max_result_bytes = ports.max_result_bytes
        self.default_options = OutputOptions(self.zone)

    def options(self) -> OutputOptions:
        if not bottle.request.query_string:  # the usual request: every option at its default
            return self.default_options
        return output_options(bottle.request.query, self.request_zone())

    def request_zone(self) -> TimeZone:
        """The request's tz, else TIMEZONE."""
        if not bottle.request.query_string:
            return self.zone
        return request_zone(bottle.request.query.get("tz"), self.zone)

    def table(self, name: str):
        if not name or not name.strip():
            raise EdgeError(INVALID_ARGUMENT, "Table is missing")
        return self.store.table(name.strip())

    def status(self, zone: TimeZone | None = None, **fields) -> dict:
        return status(zone or self.zone, NO_ERROR, **fields)

    def check_result_size(self, rows: int) -> None:
        limit = self.max_result_bytes // ROW_TEXT_BYTES
        if rows > limit:
            raise EdgeError(INVALID_ARGUMENT, f"The result would exceed HTTP_MAX_MEM ({self.max_result_bytes} bytes, "
                                           f"about {limit} rows); narrow it with Start/End or Count and Offset")

    def install(self, web: bottle.Bottle, prefix: str) -> None:
        base = prefix + "/datapoints"
        web.post(base + "/raw/<table>")(self.append)
        web.get(base + "/raw")(lambda: self.select_raw(None, ""))
        web.get(base + "/raw/")(lambda: self.select_raw(None, ""))
        web.get(base + "/raw/<table>")(lambda table: self.select_raw(table, ""))
        web.get(base + "/raw/<table>/<rest:path>")(self.select_raw)
        web.delete(base + "/raw/<table>/<rest:path>")(self.delete_raw)
        web.get(base + "/calculated")(lambda: self.calculated(None, ""))
        web.get(base + "/calculated/<table>")(lambda table: self.calculated(table, ""))
        web.get(base + "/calculated/<table>/<rest:path>")(self.calculated)

    # Append ----------------------------------------------------------------------------------

    def append(self, table: str):
        target = self.table(table)
        zone = self.request_zone()  # an append reads no f/m/s: only tz
        with cyclic_gc_paused():
            # Integers exact: one beyond 64 bits fails its row, which needs it as an int (orjson
            # would give the nearest float, which a double column takes).
            rows = append_rows(read_json_body(MB_BAD_REQUEST), target.columns, zone)
        return self.status(zone, **store_rows(target, rows))

    # Raw select ------------------------------------------------------------------------------

    def select_raw(self, table: str | None, rest: str):
        args = _arguments(table, rest, RAW_PARTS)
        options = self.options()
        target = self.table(args.get("Table"))
        tags = tag_names(args.get("TagNames"))
        require_tags(target, tags)
        start, end = self._range(args, options)
        direction = whole_number(args.get("Direction"), "Direction", 0, allowed=(0, 1, 2))
        count = whole_number(args.get("Count"), "Count", 0)
        offset = whole_number(args.get("Offset"), "Offset", 0)
        # Read at most one row more than HTTP_MAX_MEM allows, so that memory stays bounded too.
        limit = self.max_result_bytes // ROW_TEXT_BYTES
        result = target.read(tags, start, end, direction=direction, count=min(count or limit + 1, limit + 1),
                             offset=offset)
        self.check_result_size(len(result.times))
        name, time, value = key_columns(target)
        columns = [Column.of(name.name, "varchar", name.length), Column.of(time.name, "datetime"),
                   Column.of(value.name, "double")]
        values = [_names_column(result.name_runs), result.times, result.values]
        # Every data column, as SELECT * gives them: the extra columns follow in table order.
        for extra in (c for c in target.columns if c.role == "extra"):
            columns.append(Column.of(extra.name, extra.type, extra.length if extra.type == "varchar" else None))
            values.append(_extra_values(result.extras[extra.name]))
        return result_set(columns, values, options)

    def _range(self, args: dict, options: OutputOptions) -> tuple[int, int]:
        start = request_time(args.get("Start"), options.zone, options.date_format, "Start") \
            if args.get("Start") else np.iinfo(np.int64).min
        end = request_time(args.get("End"), options.zone, options.date_format, "End") \
            if args.get("End") else np.iinfo(np.int64).max
        if start > end:
            raise EdgeError(INVALID_ARGUMENT, f"Start ({args.get('Start')}) is after End ({args.get('End')})")
        return int(start), int(end)

    # Raw delete ------------------------------------------------------------------------------

    def delete_raw(self, table: str, rest: str):
        parts = [p for p in rest.split("/") if p != ""]
        if len(parts) not in (1, 2):
            raise EdgeError(INVALID_ARGUMENT, "Expected /datapoints/raw/{Table}/{BeforeTime} or "
                                           "/datapoints/raw/{Table}/{TagNames}/{BeforeTime}")
        target = self.table(table)
        options = self.options()
        tags = None
        if len(parts) == 2:
            tags = tag_names(parts[0])
            require_tags(target, tags)
        before = request_time(parts[-1], options.zone, options.date_format, "BeforeTime")
        deleted = target.delete_before(before, tags)
        return self.status(options.zone, effect_rows=str(int(deleted)))

    # Rollup statistics -----------------------------------------------------------------------

    def calculated(self, table: str | None, rest: str):
        args = _arguments(table, rest, CALCULATED_PARTS)
        options = self.options()
        target = self.table(args.get("Table"))
        tags = tag_names(args.get("TagNames"))
        require_tags(target, tags)
        functions = _functions(args.get("CalculationMode"))
        count = whole_number(args.get("Count"), "Count", 0)
        level, multiple = _interval(args.get("IntervalType"), args.get("IntervalValue"))
        start, end = self._range(args, options)
        bucket_times, results = target.aggregate(tags, start, end, level, multiple, functions, count=count)
        columns = [Column.of("time", "datetime")]
        values = [np.asarray(bucket_times, dtype=np.int64)]
        for name in functions:
            columns.append(Column.of(name, "long" if name == "count" else "double"))
            values.append(np.asarray(results[name]))
        return result_set(columns, values, options)


def _arguments(table: str | None, rest: str, parts: tuple[str, ...]) -> dict:
    """Path parts (Table/TagNames/Start/...) merged over the query-string factors."""
    if bottle.request.query_string:
        query = bottle.request.query
        args = {name: first_of(query, name, name.lower()) for name in ("Table", *parts)}
    else:  # all in the path, the usual request
        args = dict.fromkeys(("Table", *parts))
    if table is not None:
        args["Table"] = table
    given = rest.split("/") if rest else []
    while given and given[-1] == "":
        given.pop()
    if len(given) > len(parts):
        raise EdgeError(INVALID_ARGUMENT,
                        f"Too many path parts: expected at most {'/'.join('{' + p + '}' for p in parts)}")
    for name, value in zip(parts, given):
        args[name] = value
    return args


def _names_column(runs: tuple[tuple[str, int], ...]) -> Coded:
    """A result's tag names, given as runs of (name, rows), as `Coded` text: each run's name
    is encoded once."""
    counts = [count for _, count in runs]
    return Coded([name for name, _ in runs], np.repeat(np.arange(len(runs)), counts))


def _extra_values(values: np.ndarray):
    """An extra column of a ReadResult as the printer takes it: masked numbers or times as
    `Nullable`, text (object arrays of str or None) as it is."""
    if isinstance(values, np.ma.MaskedArray):
        return Nullable(np.ma.getdata(values), np.ma.getmaskarray(values))
    return values


def _functions(text: str | None) -> list[str]:
    if not text or not text.strip():
        raise EdgeError(INVALID_ARGUMENT, f"CalculationMode is missing: one or more of {','.join(FUNCTIONS)}")
    functions = []
    for part in text.split(","):
        name = part.strip().lower()
        if name not in FUNCTIONS:
            raise EdgeError(INVALID_ARGUMENT, f"Unknown CalculationMode {part.strip()!r}: expected one or more of "
                                           f"{','.join(FUNCTIONS)} separated by commas")
        if name not in functions:
            functions.append(name)
    return functions


def _interval(kind: str | None, value: str | None) -> tuple[str, int]:
    if not kind or kind.strip().lower() not in INTERVALS:
        raise EdgeError(INVALID_ARGUMENT, f"IntervalType must be sec, min or hour, got {kind!r}")
    level, divides = INTERVALS[kind.strip().lower()]
    multiple = whole_number(value, "IntervalValue", 1, minimum=1, maximum=divides)
    if divides % multiple:
        raise EdgeError(INVALID_ARGUMENT, f"IntervalValue must divide {divides} for IntervalType {level} "
                                       f"(e.g. 1, 5, 10, 15, 30), got {multiple}")
    return level, multiple
