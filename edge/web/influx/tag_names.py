"""The tag a line-protocol field is stored as: measurement, tags and field joined by dots.

    cpu,host=a,region=eu usage_idle=1   ->   cpu.host=a.region=eu.usage_idle
    cpu usage_idle=1                    ->   cpu.usage_idle          (machbase-neo's name)

Tags come sorted by key, so one series is one name however the client ordered its tags.
A dot or a backslash inside a measurement, tag key, tag value or field key is written with a
backslash before it (`\\.`, `\\\\`), and so is an `=` in a tag key: the name splits back at
the dots without a backslash before them (first part the measurement, last the field, the
parts between `key=value` at their first unescaped `=`), so no two different (series, field)
pairs share a name. Names hold no comma unless the measurement, a tag or the field does;
/machiot takes a comma as a list of tags, so such names are read by SQL.
"""

from __future__ import annotations

FIELD_SEPARATOR = "."


def _escaper(characters: str):
    table = str.maketrans({"\\": "\\\\", **{c: "\\" + c for c in characters}})

    def escape(text: str) -> str:
        return text.translate(table)
    return escape


escape_measurement = _escaper(".")
escape_tag_key = _escaper(".=")
escape_tag_value = _escaper(".")
escape_field_key = _escaper(".")


def series_key(measurement: str, tags: list[tuple[str, str]]) -> str:
    """The name prefix of a measurement and its (unescaped) tags."""
    text = escape_measurement(measurement)
    for key, value in sorted(tags):
        text += "." + escape_tag_key(key) + "=" + escape_tag_value(value)
    return text


def tag_name(measurement: str, tags: list[tuple[str, str]], field: str) -> str:
    """The tag a field of that series is stored as."""
    return series_key(measurement, tags) + FIELD_SEPARATOR + escape_field_key(field)
