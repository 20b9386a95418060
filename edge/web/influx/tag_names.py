"""The tag a line-protocol field is stored as: the series key, a dot, the field key.

    cpu,host=a,region=eu usage_idle=1   ->   cpu,host=a,region=eu.usage_idle
    cpu usage_idle=1                    ->   cpu.usage_idle          (machbase-neo's name)

The series key is InfluxDB's canonical form: the measurement, then the tags sorted by key,
written with line protocol's escapes (`\\,` `\\ ` in the measurement, `\\,` `\\=` `\\ ` in
tag keys and values), so one series is one name however the client ordered its tags. Every
backslash of a measurement, tag or field is doubled, and a dot in the field key is written
`\\.`: the separator is then the last dot not preceded by an odd run of backslashes, and no
two different (series, field) pairs share a name.
"""

from __future__ import annotations

FIELD_SEPARATOR = "."


def _escaper(characters: str):
    table = str.maketrans({"\\": "\\\\", **{c: "\\" + c for c in characters}})

    def escape(text: str) -> str:
        return text.translate(table)
    return escape


escape_measurement = _escaper(", ")
escape_tag_part = _escaper(",= ")
escape_field_key = _escaper(".")


def series_key(measurement: str, tags: list[tuple[str, str]]) -> str:
    """The canonical series key of a measurement and its (unescaped) tags."""
    text = escape_measurement(measurement)
    for key, value in sorted(tags):
        text += "," + escape_tag_part(key) + "=" + escape_tag_part(value)
    return text


def tag_name(measurement: str, tags: list[tuple[str, str]], field: str) -> str:
    """The tag a field of that series is stored as."""
    return series_key(measurement, tags) + FIELD_SEPARATOR + escape_field_key(field)
