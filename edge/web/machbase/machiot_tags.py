"""The tag API's /tags endpoints: tag metadata (list), per-tag statistics, forced rollup.

The statistics (range, min, max, first, last, count, disksize) come from the store's per-tag
stats, so none of them scans data. Without tag names they answer for the whole table.
"""

from __future__ import annotations

import bottle
import numpy as np

from edge.errors import MB_BAD_REQUEST, EdgeError
from edge.time.dateformat import parse_time
from edge.store import errors as store_errors
from edge.store.schema import check_metadata_value
from edge.web.envelope import read_json_body
from edge.web.machbase.format import Column, Nullable, result_set
from edge.web.machbase.params import tag_names

STATISTICS = ("range", "min", "max", "first", "last", "count", "cnt", "disksize")
# Widths Machbase reports for the tag-name column of per-tag statistics, and for "ALL".
STAT_NAME_LENGTH = 100
ALL_NAME_LENGTH = 3


def install(web: bottle.Bottle, prefix: str, api) -> None:
    tags = TagRoutes(api)
    base = prefix + "/tags"
    web.post(base + "/list/<table>")(tags.add)
    web.get(base + "/list/<table>")(tags.names)
    web.get(base + "/list/<table>/")(tags.names)
    web.get(base + "/list/<table>/<tag>")(tags.info)
    web.put(base + "/list/<table>/<tag>")(tags.update)
    web.patch(base + "/list/<table>/<tag>")(tags.update)
    web.delete(base + "/list/<table>/<tag_list>")(tags.delete)
    for statistic in STATISTICS:
        handler = tags.statistic(statistic)
        web.get(f"{base}/{statistic}/<table>")(handler)
        web.get(f"{base}/{statistic}/<table>/")(handler)
        web.get(f"{base}/{statistic}/<table>/<tag_list>")(handler)
    for path in (base + "/rollup/<table>", prefix + "/rollup/<table>", prefix + "//rollup/<table>"):
        web.get(path)(tags.rollup)


class TagRoutes:
    def __init__(self, api):
        self.api = api

    # Metadata --------------------------------------------------------------------------------

    def add(self, table: str):
        target = self.api.table(table)
        body = read_json_body(MB_BAD_REQUEST)
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise EdgeError(MB_BAD_REQUEST, 'The body needs "values": a list of rows [tag name, metadata values...]')
        name_column = _name_column(target)
        metadata = list(target.metadata_columns)
        good, failures = [], 0
        for row in body["values"]:
            checked = _tag_row(row, name_column, metadata, self.api.zone)
            if checked is None:
                failures += 1
            else:
                good.append(checked)
        success, refused = target.add_tags(good) if good else (0, 0)
        return self.api.status(data=[], append_success=int(success), append_failure=failures + int(refused))

    def names(self, table: str):
        target = self.api.table(table)
        name_column = _name_column(target)
        names = list(target.tag_names())
        columns = [Column.of(name_column.name.lower(), "varchar", name_column.length)]
        return result_set(columns, [names], self.api.options())

    def info(self, table: str, tag: str):
        target = self.api.table(table)
        details = target.tag_info(tag)
        if details is None:
            raise store_errors.tag_not_found(target.name, tag)
        name_column = _name_column(target)
        columns = [Column.of(name_column.name.lower(), "varchar", name_column.length)]
        values: list = [[tag]]
        metadata = _metadata_of(details)
        for column in target.metadata_columns:
            columns.append(_column_of(column))
            values.append(_one_value(column, metadata.get(column.name)))
        return result_set(columns, values, self.api.options())

    def update(self, table: str, tag: str):
        target = self.api.table(table)
        body = read_json_body(MB_BAD_REQUEST)
        if not isinstance(body, dict) or not body:
            raise EdgeError(MB_BAD_REQUEST,
                            'The body must be a JSON object of metadata columns, e.g. {"baseip": "10.0.0.1"}')
        require_tags(target, [tag])
        by_name = {c.name.upper(): c for c in target.metadata_columns}
        values = {}
        for key, value in body.items():
            column = by_name.get(str(key).strip().upper())
            if column is None:
                raise store_errors.column_not_found(target.name, str(key).strip().upper())
            values[column.name] = metadata_value(column, value, self.api.zone)
        changed = target.update_tag(tag, values)
        return self.api.status(effect_rows=str(int(changed)), data=[])

    def delete(self, table: str, tag_list: str):
        target = self.api.table(table)
        tags = tag_names(tag_list, "TagName")
        require_tags(target, tags)
        # Every tag is checked before any is deleted, so a refusal changes nothing.
        for tag in tags:
            stats = target.stats(tag)
            if stats is not None and stats.count:
                raise store_errors.tag_has_data()
        deleted = sum(int(target.delete_tag(tag)) for tag in tags)
        return self.api.status(effect_rows=str(deleted), data=[])

    # Statistics ------------------------------------------------------------------------------

    def statistic(self, kind: str):
        def handler(table: str, tag_list: str | None = None):
            target = self.api.table(table)
            if tag_list:
                tags = tag_names(tag_list)
                require_tags(target, tags)
            else:
                tags = None
            columns, values = _STATISTIC_BUILDERS[kind](target, tags)
            return result_set(columns, values, self.api.options())

        return handler

    def rollup(self, table: str):
        self.api.table(table).force_rollup()
        return self.api.status(data=[])


# Statistic answers ---------------------------------------------------------------------------

def _all_stats(table, tags):
    names = list(tags if tags is not None else table.tag_names())
    return names, [table.stats(tag) for tag in names]


def _times(stats, pick) -> Nullable:
    raw = [pick(s) if s is not None and s.count else None for s in stats]
    return Nullable(np.array([t if t is not None else 0 for t in raw], dtype=np.int64),
                    np.array([t is None for t in raw], dtype=bool))


def _floats(raw) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in raw], dtype=np.float64)


def _range(table, tags):
    names, stats = _all_stats(table, tags)
    if tags is None:
        present = [s for s in stats if s is not None and s.count]
        low = min((s.min_time for s in present), default=None)
        high = max((s.max_time for s in present), default=None)
        columns = [Column.of("name", "varchar", ALL_NAME_LENGTH), Column.of("min", "datetime"),
                   Column.of("max", "datetime")]
        return columns, [["ALL"], _nullable_times([low]), _nullable_times([high])]
    columns = [Column.of("name", "varchar", _name_column(table).length), Column.of("min", "datetime"),
               Column.of("max", "datetime")]
    return columns, [names, _times(stats, lambda s: s.min_time), _times(stats, lambda s: s.max_time)]


def _nullable_times(raw) -> Nullable:
    return Nullable(np.array([0 if t is None else t for t in raw], dtype=np.int64),
                    np.array([t is None for t in raw], dtype=bool))


def _extreme(kind: str):
    def build(table, tags):
        names, stats = _all_stats(table, tags)
        value_of = (lambda s: s.min_value) if kind == "min" else (lambda s: s.max_value)
        time_of = (lambda s: s.min_value_time) if kind == "min" else (lambda s: s.max_value_time)
        if tags is None:
            candidates = [value_of(s) for s in stats if s is not None and s.count and value_of(s) is not None]
            pick = min if kind == "min" else max
            return [Column.of(kind, "double")], [_floats([pick(candidates) if candidates else None])]
        columns = [Column.of("name", "varchar", STAT_NAME_LENGTH), Column.of("time", "datetime"),
                   Column.of(kind, "double")]
        return columns, [names, _times(stats, time_of),
                         _floats([value_of(s) if s is not None else None for s in stats])]

    return build


def _edge_row(kind: str):
    def build(table, tags):
        names, stats = _all_stats(table, tags)
        row_of = (lambda s: s.first) if kind == "first" else (lambda s: s.last)
        name_column, time_column, value_column = key_columns(table)
        columns = [Column.of(name_column.name, "varchar", name_column.length),
                   Column.of(time_column.name, "datetime"), Column.of(value_column.name, "double")]
        rows = [(name, row_of(s)) for name, s in zip(names, stats) if s is not None and s.count]
        if tags is None:
            if rows:
                # Ties go to the tag listed first, as the per-tag stats break ties by insertion.
                choose = min if kind == "first" else max
                best = choose(range(len(rows)), key=lambda i: (rows[i][1][0], -i if kind == "last" else i))
                rows = [rows[best]]
        else:
            rows = [(name, row_of(s) if s is not None and s.count else None) for name, s in zip(names, stats)]
        return columns, [[name for name, _ in rows], _nullable_times([r[0] if r else None for _, r in rows]),
                         _floats([r[1] if r else None for _, r in rows])]

    return build


def _count(table, tags):
    names, stats = _all_stats(table, tags)
    counts = [s.count if s is not None else 0 for s in stats]
    if tags is None:
        return [Column.of("count", "long")], [np.array([sum(counts)], dtype=np.int64)]
    return ([Column.of("name", "varchar", STAT_NAME_LENGTH), Column.of("count", "long")],
            [names, np.array(counts, dtype=np.int64)])


def _disksize(table, tags):
    if tags is None:
        return [Column.of("disksize", "long")], [np.array([int(table.disksize())], dtype=np.int64)]
    return ([Column.of("name", "varchar", STAT_NAME_LENGTH), Column.of("disksize", "long")],
            [tags, np.array([int(table.disksize(tag)) for tag in tags], dtype=np.int64)])


_STATISTIC_BUILDERS = {
    "range": _range, "min": _extreme("min"), "max": _extreme("max"), "first": _edge_row("first"),
    "last": _edge_row("last"), "count": _count, "cnt": _count, "disksize": _disksize,
}


# Helpers on the table's columns --------------------------------------------------------------

def key_columns(table):
    """The table's (name, time, value) columns."""
    by_role = {c.role: c for c in table.columns}
    return by_role["name"], by_role["time"], by_role["value"]


def require_tags(table, tags: list[str]) -> None:
    """EdgeError naming the first tag the table does not know (a known tag has stats)."""
    for tag in tags:
        if not table.has_tag(tag):
            raise store_errors.tag_not_found(table.name, tag)


def _name_column(table):
    return key_columns(table)[0]


def _column_of(column) -> Column:
    if column.type == "varchar":
        return Column.of(column.name.lower(), "varchar", column.length)
    return Column.of(column.name.lower(), column.type)


def _metadata_of(details: dict) -> dict:
    metadata = details.get("metadata", details)
    return {str(k).upper(): v for k, v in metadata.items()}


def _one_value(column, value):
    if column.type in ("varchar", "ipv4"):
        return [value]
    if column.type == "datetime":
        return _nullable_times([value])
    if column.type in ("float", "double"):
        return _floats([value])
    return Nullable(np.array([0 if value is None else value], dtype=np.int64), np.array([value is None]))


def metadata_value(column, value, zone):
    """A metadata value checked for its column; a datetime may be given as text in a tag API
    time form (kept as ns since the epoch, as the store keeps times)."""
    if column.type == "datetime" and isinstance(value, str):
        value = parse_time(value, zone, what=column.name)
    return check_metadata_value(column, value)


def _tag_row(row, name_column, metadata, zone) -> dict | None:
    """{column: value} of one row of a tags/list append, or None if it does not fit the table."""
    if not isinstance(row, list) or len(row) not in (1, 1 + len(metadata)):
        return None
    name = row[0]
    if not isinstance(name, str) or not name or len(name.encode("utf-8")) > name_column.length:
        return None
    checked = {name_column.name: name}
    for column, value in zip(metadata, row[1:]):
        try:
            checked[column.name] = metadata_value(column, value, zone)
        except EdgeError:
            return None
    return checked
