"""The faults of the tag store as `EdgeError`s, their codes from the catalogue (`edge.errors`).

Raised where the fault is found; the web layer renders them. The builders keep the texts the
same wherever the same fault is found.
"""

from __future__ import annotations

import errno

from edge.errors import (COLUMN_NOT_FOUND, INVALID_ARGUMENT, INVALID_TABLE_DEFINITION, INVALID_VALUE,
                         STORAGE_FAILURE, TABLE_EXISTS, TABLE_NOT_FOUND, TAG_HAS_DATA, TAG_NOT_FOUND, EdgeError)


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


def tag_has_data() -> EdgeError:
    return EdgeError(TAG_HAS_DATA)  # Machbase's own text, the catalogue's message


def invalid_value(text: str) -> EdgeError:
    return EdgeError(INVALID_VALUE, text)


def invalid_argument(text: str) -> EdgeError:
    return EdgeError(INVALID_ARGUMENT, text)


def storage_failure(text: str) -> EdgeError:
    return EdgeError(STORAGE_FAILURE, f"Storage failure, nothing of the request was kept: {text}", 500)


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def storage_failure_of(exc: BaseException | None, context: str = "") -> EdgeError:
    """`storage_failure` for an exception; a full disk says so (HTTP 507, Insufficient Storage),
    since it is the one cause a client or an operator can do something about."""
    where = f"{context}: " if context else ""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return EdgeError(STORAGE_FAILURE, f"Storage failure, nothing of the request was kept: {where}the disk of the "
                                          f"data directory is full ({exc.strerror}); free space and try again", 507)
    return EdgeError(STORAGE_FAILURE, f"Storage failure, nothing of the request was kept: {where}{exc}", 500)
