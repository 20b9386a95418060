"""Error codes of the tag store, in Machbase's numbering where Machbase has one.

Raised as `EdgeError(code, text)` where the fault is found; the web layer renders them. The
builders below keep the texts the same wherever the same fault is found.
"""

from __future__ import annotations

from edge.errors import EdgeError

# Machbase's own code and text for deleting a tag that still has data.
TAG_HAS_DATA = 2324
TABLE_NOT_FOUND = 2025
TABLE_EXISTS = 2026
INVALID_TABLE_DEFINITION = 2061
COLUMN_NOT_FOUND = 2037
TAG_NOT_FOUND = 2320
TAG_EXISTS = 2321
INVALID_VALUE = 2100
INVALID_ARGUMENT = 2101
# The disk refused a write (full, read-only, failing); nothing of the batch was kept.
STORAGE_FAILURE = 2900


def table_not_found(name: str) -> EdgeError:
    return EdgeError(TABLE_NOT_FOUND, f"Table {name} does not exist.", 404)


def table_exists(name: str) -> EdgeError:
    return EdgeError(TABLE_EXISTS, f"Table {name} already exists.")


def bad_definition(text: str) -> EdgeError:
    return EdgeError(INVALID_TABLE_DEFINITION, text)


def column_not_found(table: str, column: str) -> EdgeError:
    return EdgeError(COLUMN_NOT_FOUND, f"Column {column} does not exist in table {table}.")


def tag_not_found(table: str, tag: str) -> EdgeError:
    return EdgeError(TAG_NOT_FOUND, f"Tag {tag} does not exist in table {table}.", 404)


def tag_exists(table: str, tag: str) -> EdgeError:
    return EdgeError(TAG_EXISTS, f"Tag {tag} already exists in table {table}.")


def tag_has_data() -> EdgeError:
    return EdgeError(TAG_HAS_DATA, "Cannot delete tagmeta. there exist data with deleted_tag key.")


def invalid_value(text: str) -> EdgeError:
    return EdgeError(INVALID_VALUE, text)


def invalid_argument(text: str) -> EdgeError:
    return EdgeError(INVALID_ARGUMENT, text)


def storage_failure(text: str) -> EdgeError:
    return EdgeError(STORAGE_FAILURE, f"Storage failure, nothing of the request was kept: {text}", 500)
