"""The envelope of a Machbase append body, `{"date_format": ..., "values": [[...], ...]}`,
shared by log-table and tag-table appends; each checks the rows against its own columns."""

from __future__ import annotations

from edge.errors import MB_BAD_REQUEST, EdgeError


def append_body(body) -> tuple[list, str | None]:
    """(rows, date_format) of an append body, or EdgeError(MB_BAD_REQUEST) saying what is wrong."""
    if not isinstance(body, dict):
        raise EdgeError(MB_BAD_REQUEST, 'The body must be a JSON object {"date_format": ..., "values": [[...], ...]}')
    rows = body.get("values")
    if not isinstance(rows, list):
        raise EdgeError(MB_BAD_REQUEST, 'The body needs "values": a list of rows, each a list of column values')
    date_format = body.get("date_format")
    if date_format is not None and not isinstance(date_format, str):
        raise EdgeError(MB_BAD_REQUEST, '"date_format" must be a string such as "YYYY-MM-DD HH24:MI:SS"')
    return rows, date_format
