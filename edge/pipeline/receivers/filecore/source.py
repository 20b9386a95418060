"""Where a file receiver reads files: a local folder or an SMB share, behind one interface."""

from __future__ import annotations

import dataclasses
from typing import Protocol


class SourceError(Exception):
    """The connection's folder cannot be listed or read (unreachable, missing, denied)."""


@dataclasses.dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the connection's folder, '/'-separated
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class OpenFile(Protocol):
    def read_at(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes from `offset` (fewer only at the end of the file)."""

    def close(self) -> None: ...


class FileSource(Protocol):
    label: str  # names the connection in markers and in the receiver state, e.g. "/data/in"
    case_sensitive: bool  # whether file_filter patterns match names case-sensitively
    local_clock: bool  # file times come from this machine's clock (so their age can be trusted)

    def list_files(self) -> list[FileEntry]:
        """Every file under the folder, subfolders included; SourceError when it cannot."""

    def open(self, path: str) -> OpenFile:
        """The file for reading; SourceError when it cannot be opened."""

    def delete(self, path: str) -> None:
        """Removes the file; SourceError when it cannot."""

    def close(self) -> None: ...
