"""/machiot: the Machbase tag API, described once and repeated under each of its prefixes
(/machiot, /machiot/v1, /machiot-rest-api, /machiot-rest-api/v1), as the server routes it."""

from __future__ import annotations

from edge.web.openapi.common import MACHBASE_REF, operation, path_parameter, query_parameter

TAG = "Machbase tag API /machiot"
PREFIXES = ("/machiot", "/machiot/v1", "/machiot-rest-api", "/machiot-rest-api/v1")
STATISTICS = ("range", "min", "max", "first", "last", "count", "cnt", "disksize")
TABLE = path_parameter("Table", "The tag table", "tag")
TAG_NAMES = path_parameter("TagNames", "Tag names separated by commas", "tag-1,tag-2")
TIME_TEXT = "a time as YYYY-MM-DDTHH:MI:SS,mmm (or in the date format f)"
# A row that is not what the table takes fails alone (counted in append_failure); the others
# are stored. So a row's shape is the answer's business, not a refusal of the request.
ROWS = {"type": "array", "description": "Rows [tag name, time, value, extra columns...]; a bad row fails "
                                        "alone and is counted in append_failure"}
APPEND = {"type": "object", "required": ["values"],
          "properties": {"date_format": {"type": ["string", "null"], "description": "null: the default forms"},
                         "values": ROWS}}
APPEND_EXAMPLE = {"date_format": "YYYY-MM-DD HH24:MI:SS mmm:uuu:nnn",
                  "values": [["tag-1", "2001-09-09 01:46:40 000:000:000", 1.5]]}
TAGS_BODY = {"type": "object", "required": ["values"],
             "properties": {"values": {**ROWS, "description": "Rows [tag name, metadata values...]; a bad row "
                                                             "fails alone and is counted in append_failure"}}}
METADATA = {"type": "object", "minProperties": 1, "description": "Metadata columns and their new values"}
RAW_EXAMPLE = {"error_code": 0, "error_message": "No Error", "timezone": "+0000",
               "columns": [{"name": "NAME", "type": 5, "length": 80}, {"name": "TIME", "type": 6, "length": 8},
                           {"name": "VALUE", "type": 20, "length": 8}],
               "data": [{"NAME": "tag-1", "TIME": "2001-09-09 01:46:40 000:000:000", "VALUE": 1.5}]}
ZONE = query_parameter("tz", "IANA time zone the request's times are read and printed in (default: TIMEZONE)")
OUTPUT = [query_parameter("f", "Date format of times in and out"),
          query_parameter("m", "1: data as rows of values", {"type": "string", "enum": ["0", "1"]}), ZONE]


def _query(*names: str) -> list[dict]:
    return [query_parameter(name, f"{name} (as in the path form)") for name in names]


def family(prefix: str) -> dict:
    base = prefix + "/datapoints"
    raw_query = operation("Raw points of tags (factors as query parameters)", MACHBASE_REF, "The points", tag=TAG,
                          parameters=_query("Table", "TagNames", "Start", "End", "Direction", "Count", "Offset")
                          + OUTPUT)
    calculated_query = operation(
        "Rollup statistics per interval (factors as query parameters)", MACHBASE_REF, "One row per interval",
        tag=TAG, parameters=_query("Table", "TagNames", "Start", "End", "CalculationMode", "Count", "IntervalType",
                                   "IntervalValue") + OUTPUT)
    raw_of_table = operation("Raw points of a table's tags", MACHBASE_REF, "The points", tag=TAG,
                             parameters=[TABLE, *_query("TagNames", "Start", "End", "Direction", "Count", "Offset"),
                                         *OUTPUT])
    paths = {
        base + "/raw": {"get": raw_query},
        base + "/raw/": {"get": raw_query},
        base + "/raw/{Table}": {
            "get": raw_of_table,
            "post": operation("Append points to a tag table", MACHBASE_REF, "append_success and append_failure",
                              tag=TAG, parameters=[TABLE, ZONE], body=APPEND, body_example=APPEND_EXAMPLE),
        },
        base + "/raw/{Table}/{TagNames}/{Start}/{End}/{Direction}/{Count}/{Offset}": {"get": operation(
            "Raw points of tags in a time range", MACHBASE_REF, "The points", tag=TAG, example=RAW_EXAMPLE,
            parameters=[TABLE, TAG_NAMES, path_parameter("Start", TIME_TEXT, "2001-09-09T00:00:00,000"),
                        path_parameter("End", TIME_TEXT, "2001-09-09T01:20:00,000"),
                        path_parameter("Direction", "0 in the order appended, 1 time decreasing, 2 time increasing", "0"),
                        path_parameter("Count", "At most this many points (0: all)", "5"),
                        path_parameter("Offset", "Skip this many", "0"), *OUTPUT])},
        base + "/raw/{Table}/{BeforeTime}": {"delete": operation(
            "Delete every tag's points before a time", MACHBASE_REF, "effect_rows: points deleted", tag=TAG,
            parameters=[TABLE, path_parameter("BeforeTime", TIME_TEXT, "2001-09-09T01:20:00,000"), ZONE])},
        base + "/raw/{Table}/{TagNames}/{BeforeTime}": {"delete": operation(
            "Delete some tags' points before a time", MACHBASE_REF, "effect_rows: points deleted", tag=TAG,
            parameters=[TABLE, TAG_NAMES, path_parameter("BeforeTime", TIME_TEXT, "2001-09-09T01:20:00,000"),
                        ZONE])},
        base + "/calculated": {"get": calculated_query},
        base + "/calculated/{Table}": {"get": operation(
            "Rollup statistics of a table's tags", MACHBASE_REF, "One row per interval", tag=TAG,
            parameters=[TABLE, *_query("TagNames", "Start", "End", "CalculationMode", "Count", "IntervalType",
                                       "IntervalValue"), *OUTPUT])},
        base + "/calculated/{Table}/{TagNames}/{Start}/{End}/{CalculationMode}/{Count}/{IntervalType}/"
               "{IntervalValue}": {"get": operation(
                   "Rollup statistics (min, max, sum, count, avg) per interval", MACHBASE_REF,
                   "One row per interval", tag=TAG,
                   parameters=[TABLE, TAG_NAMES, path_parameter("Start", TIME_TEXT, "2001-09-09T00:00:00,000"),
                               path_parameter("End", TIME_TEXT, "2001-09-09T01:20:00,000"),
                               path_parameter("CalculationMode", "min,max,sum,count,avg, separated by commas",
                                              "sum,min,max"),
                               path_parameter("Count", "At most this many intervals (0: all)", "5"),
                               path_parameter("IntervalType", "sec, min or hour", "min"),
                               path_parameter("IntervalValue", "A divisor of 60 (sec, min) or 24 (hour)", "5"),
                               *OUTPUT])},
    }
    tags = prefix + "/tags"
    listing = operation("The table's tag names", MACHBASE_REF, "One row per tag", tag=TAG, parameters=[TABLE])
    paths[tags + "/list/{Table}"] = {
        "get": listing,
        "post": operation("Add tags with their metadata", MACHBASE_REF, "append_success and append_failure",
                          tag=TAG, parameters=[TABLE], body=TAGS_BODY,
                          body_example={"values": [["tag0", 100, "192.168.0.1"]]}),
    }
    paths[tags + "/list/{Table}/"] = {"get": listing}
    tag = path_parameter("TagName", "One tag", "tag0")
    paths[tags + "/list/{Table}/{TagName}"] = {
        "get": operation("One tag's metadata", MACHBASE_REF, "The tag's row", tag=TAG, parameters=[TABLE, tag]),
        "put": operation("Change a tag's metadata", MACHBASE_REF, "effect_rows", tag=TAG, parameters=[TABLE, tag],
                         body=METADATA, body_example={"baseip": "192.168.0.1"}),
        "patch": operation("Change a tag's metadata", MACHBASE_REF, "effect_rows", tag=TAG, parameters=[TABLE, tag],
                           body=METADATA, body_example={"baseip": "255.255.255.0", "myshortmeta": 9999}),
        "delete": operation("Delete tags (comma-separated) that hold no data", MACHBASE_REF, "effect_rows",
                            tag=TAG, parameters=[TABLE, tag]),
    }
    for statistic in STATISTICS:
        whole = operation(f"{statistic} of every tag of the table", MACHBASE_REF, "The statistic", tag=TAG,
                          parameters=[TABLE, ZONE])
        paths[f"{tags}/{statistic}/{{Table}}"] = {"get": whole}
        paths[f"{tags}/{statistic}/{{Table}}/"] = {"get": whole}
        paths[f"{tags}/{statistic}/{{Table}}/{{TagNames}}"] = {"get": operation(
            f"{statistic} of some tags", MACHBASE_REF, "One row per tag", tag=TAG,
            parameters=[TABLE, TAG_NAMES, ZONE])}
    rollup = operation("Bring the table's rollups up to date now", MACHBASE_REF, "Done", tag=TAG, parameters=[TABLE])
    for path in (tags + "/rollup/{Table}", prefix + "/rollup/{Table}", prefix + "//rollup/{Table}"):
        paths[path] = {"get": rollup}
    return paths


def paths() -> dict:
    described = {}
    for prefix in PREFIXES:
        described.update(family(prefix))
    return described
