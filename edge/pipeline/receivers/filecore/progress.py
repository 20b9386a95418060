"""How far a file receiver has read each file, as written down in the catalog.

Per receiver, stream and file (a *resource*: the connection's label and the file's path) the
receiver state holds the file's `FileState` and the historian ledger what the historian has
had of it (`FileState.ledger_entry`). Both rows are written in one catalog transaction, so
they never disagree.

Only an intent must be on disk before its chunk is stored. A file's final state can wait:
lost in a crash, it leaves the file's last intent standing, whose chunk is then read again and
skipped by the historian. So a file costs one catalog commit, not two: states saved with
`now=False` ride along with the next commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from edge.pipeline.receivers.filecore.filestate import FileState

if TYPE_CHECKING:
    from edge.pipeline.receivers.filecore.source import FileSource
    from edge.pipeline.receivers.filecore.streams import StreamSetup
    from edge.pipeline.runtime.ports import Books

_RESOURCE_SEPARATOR = "|"


def resource_of(source: FileSource, path: str) -> str:
    """The file's key in the catalog: '<connection label>|<path>'."""
    return f"{source.label}{_RESOURCE_SEPARATOR}{path}"


def shown_name(source: FileSource, path: str) -> str:
    """The file as a user knows it, for markers and the log: its folder (the connection's
    label: a local folder, or //host:port/share/folder) joined with its path."""
    return f"{source.label.rstrip('/')}/{path}"


class FileProgress:
    """The receiver state and historian ledger rows of one receiver's files."""

    def __init__(self, receiver: str, books: Books):
        self._receiver = receiver
        self._states = books.receiver_state
        self._ledger = books.historian_ledger
        self._books = books
        # File states not yet written: a file's final state rides along with the next commit.
        self._unsaved: dict[tuple[str, str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def states(self, source: FileSource, stream: StreamSetup) -> dict[str, FileState]:
        """The saved state of every file of `stream` on `source`, by path."""
        prefix = source.label + _RESOURCE_SEPARATOR
        rows = self._states.all_for_stream(self._receiver, stream.asset, stream.stream_type)
        return {resource[len(prefix):]: FileState.from_json(value) for resource, value in rows.items()
                if resource.startswith(prefix)}

    def ledger_entries(self, source: FileSource, stream: StreamSetup) -> dict[str, dict]:
        """The historian ledger entry of every file of `stream` on `source`, by path."""
        prefix = source.label + _RESOURCE_SEPARATOR
        rows = self._ledger.for_stream(self._receiver, stream.asset, stream.stream_type)
        return {resource[len(prefix):]: entry for resource, entry in rows.items() if resource.startswith(prefix)}

    def forget_missing(self, source: FileSource, stream: StreamSetup, paths: Iterable[str],
                       present: set[str]) -> None:
        """Drops the state and ledger entry of files no longer there, so a new file of the
        same name is read as a new file."""
        gone = [resource_of(source, path) for path in paths if path not in present]
        if gone:
            self._states.delete(self._receiver, stream.asset, stream.stream_type, gone)
            self._ledger.delete(self._receiver, stream.asset, stream.stream_type, gone)

    def save(self, stream: StreamSetup, resource: str, state: FileState, now: bool = True) -> None:
        """Records the file's state; `now=False` lets it wait for the next commit."""
        self._unsaved[(stream.asset, stream.stream_type, resource)] = (state.as_json(), state.ledger_entry())
        if now:
            self.write()

    def write(self) -> None:
        """Commits the unsaved file states, each with its historian ledger entry."""
        if not self._unsaved:
            return
        with self._books.transaction() as conn:
            for (asset, stream_type, resource), (data, ledger_entry) in self._unsaved.items():
                self._states.put(self._receiver, asset, stream_type, resource, data, conn=conn)
                self._ledger.put(conn, self._receiver, asset, stream_type, resource, ledger_entry)
        self._unsaved.clear()
