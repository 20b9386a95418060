"""The localfile receiver: the file-receiver core over folders on this machine."""

from __future__ import annotations

import os
from typing import Any

from edge.pipeline.receivers.filecore.receiver import FileReceiver
from edge.pipeline.receivers.filecore.source import FileEntry, SourceError


class LocalFile:
    def __init__(self, path: str):
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise SourceError(f"cannot open: {exc.strerror}") from None

    def read_at(self, offset: int, size: int) -> bytes:
        parts = []
        while size > 0:
            try:
                part = os.pread(self._fd, size, offset)
            except OSError as exc:
                raise SourceError(f"cannot read: {exc.strerror}") from None
            if not part:
                break
            parts.append(part)
            offset += len(part)
            size -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        os.close(self._fd)


class LocalFolder:
    """A folder and its subfolders; names match file_filter case-sensitively."""

    case_sensitive = True
    local_clock = True

    def __init__(self, root: str):
        self.root = root
        self.label = root

    def list_files(self) -> list[FileEntry]:
        if not os.path.isdir(self.root):
            raise SourceError("the folder does not exist or is not a folder")
        entries: list[FileEntry] = []
        folders = [""]
        while folders:
            relative = folders.pop()
            try:
                with os.scandir(os.path.join(self.root, relative)) as listing:
                    for item in listing:
                        path = f"{relative}/{item.name}" if relative else item.name
                        try:
                            if item.is_dir():
                                folders.append(path)
                            elif item.is_file():
                                info = item.stat()
                                entries.append(FileEntry(path, info.st_size, info.st_mtime_ns))
                        except OSError:
                            continue  # vanished or unreadable between listing and stat
            except OSError as exc:
                if not relative:
                    raise SourceError(f"cannot list the folder: {exc.strerror}") from None
        return entries

    def open(self, path: str) -> LocalFile:
        return LocalFile(os.path.join(self.root, path))

    def delete(self, path: str) -> None:
        try:
            os.remove(os.path.join(self.root, path))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise SourceError(exc.strerror) from None

    def close(self) -> None:
        pass


class LocalFileReceiver(FileReceiver):
    def open_source(self, connection: dict[str, Any]) -> LocalFolder:
        root = connection.get("root_path") or connection.get("data_directory")
        if not isinstance(root, str) or not root:
            raise ValueError("a connection needs root_path")
        return LocalFolder(root)
