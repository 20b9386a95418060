"""Whether a listed file is still the one the receiver (or the historian ledger) knows.

A file is identified by its path; one that shrinks or whose first bytes change was rewritten
and is read again from the start; one that grows is read on from where it was left.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from edge.pipeline.receivers.filecore.filestate import FileState, head_digest

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.source import FileEntry, OpenFile


def grew(handle: OpenFile, entry: FileEntry, state: FileState) -> bool:
    """Whether the file still starts with what was read of it (else it was rewritten)."""
    if entry.size < state.offset:
        return False
    head = handle.read_at(0, state.head_length)
    return len(head) == state.head_length and head_digest(head) == state.head


def reading_again(handle: OpenFile, entry: FileEntry, known: dict[str, Any], resource: str,
                  log: logging.Logger) -> FileState:
    """The state for reading a file again whose historian ledger entry is `known`: the
    historian has had [0, taken) if it is still that file (the same first bytes, not
    shorter), else it is a new file."""
    state = FileState.reading_again(known)
    if not state.taken and state.replay is None:
        return FileState()
    if entry.size < state.taken or not grew(handle, entry, state):
        log.info("%s is not the file the historian had: reading it as a new one", resource)
        return FileState()
    log.info("%s is read again: the historian has had its first %d bytes", resource, state.taken)
    return state
