"""The smb receiver: the file-receiver core over a shared folder on an SMB 2/3 server.

smbprotocol is imported when the first connection is made, so a machine without SMB
receivers never loads it. Each receiver keeps its own connection cache (sessions are not
shared between receivers, even to the same server), drops it when a call fails and
connects again on the next pass. File names match file_filter case-insensitively, as
Windows compares them; file times come from the server's clock, so a file counts as
settled only once two listings have seen it unchanged (see filecore.settle).
"""

from __future__ import annotations

import re
from typing import Any

from edge.pipeline.receivers.filecore.receiver import FileReceiver
from edge.pipeline.receivers.filecore.source import FileEntry, SourceError
from edge.time.civil import datetime_to_ns

DEFAULT_PORT = 445
CONNECT_TIMEOUT_S = 10


def split_shared_folder(shared_folder: str) -> tuple[str, list[str]]:
    """('share', ['folder', 'inside']) from 'share/folder/inside' ('/' or '\\', leading ones ignored)."""
    parts = [p for p in re.split(r"[\\/]+", shared_folder) if p]
    if not parts:
        raise ValueError(f"shared_folder {shared_folder!r} names no share")
    return parts[0], parts[1:]


def _errors() -> tuple[type[BaseException], ...]:
    from smbprotocol.exceptions import SMBException
    return (OSError, ValueError, SMBException)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]


class SmbFile:
    def __init__(self, share: SmbShare, handle):
        self._share = share
        self._handle = handle

    def read_at(self, offset: int, size: int) -> bytes:
        try:
            self._handle.seek(offset)
            parts = []
            while size > 0:
                part = self._handle.read(size)
                if not part:
                    break
                parts.append(part)
                size -= len(part)
            return b"".join(parts)
        except _errors() as exc:
            self._share.reset()
            raise SourceError(f"cannot read: {_describe(exc)}") from None

    def close(self) -> None:
        try:
            self._handle.close()
        except _errors():
            self._share.reset()


class SmbShare:
    """One shared folder on one server, with this receiver's own session."""

    case_sensitive = False
    local_clock = False

    def __init__(self, connection: dict[str, Any]):
        self.host = connection.get("host")
        if not isinstance(self.host, str) or not self.host:
            raise ValueError("a connection needs host")
        self.port = int(connection.get("port") or DEFAULT_PORT)
        share, folder = split_shared_folder(str(connection.get("shared_folder") or ""))
        self.base = "\\\\" + "\\".join([self.host, share, *folder])
        self.label = f"//{self.host}:{self.port}/" + "/".join([share, *folder])
        username = str(connection.get("username") or "")
        domain = connection.get("domain")
        self._cache: dict = {}
        self._session = {
            "username": f"{domain}\\{username}" if domain else username,
            "password": str(connection.get("password") or ""),
            "port": self.port,
            "connection_cache": self._cache,
            "connection_timeout": CONNECT_TIMEOUT_S,
        }

    def _path(self, relative: str) -> str:
        return self.base + ("\\" + relative.replace("/", "\\") if relative else "")

    def list_files(self) -> list[FileEntry]:
        import smbclient

        entries: list[FileEntry] = []
        folders = [""]
        try:
            while folders:
                relative = folders.pop()
                for item in smbclient.scandir(self._path(relative), **self._session):
                    path = f"{relative}/{item.name}" if relative else item.name
                    if item.is_dir():
                        folders.append(path)
                        continue
                    info = item.smb_info
                    entries.append(FileEntry(path, int(info.end_of_file), datetime_to_ns(info.last_write_time)))
        except _errors() as exc:
            self.reset()
            raise SourceError(f"cannot list: {_describe(exc)}") from None
        return entries

    def open(self, path: str) -> SmbFile:
        import smbclient

        try:
            return SmbFile(self, smbclient.open_file(self._path(path), mode="rb", share_access="rwd",
                                                     **self._session))
        except _errors() as exc:
            self.reset()
            raise SourceError(f"cannot open: {_describe(exc)}") from None

    def delete(self, path: str) -> None:
        import smbclient

        try:
            smbclient.remove(self._path(path), **self._session)
        except _errors() as exc:
            self.reset()
            raise SourceError(_describe(exc)) from None

    def reset(self) -> None:
        """Drops the session so the next call connects afresh."""
        import smbclient

        try:
            smbclient.reset_connection_cache(connection_cache=self._cache)
        except Exception:  # noqa: BLE001 - the connection is broken already; forget it regardless
            self._cache.clear()

    def close(self) -> None:
        if self._cache:
            self.reset()


class SmbReceiver(FileReceiver):
    def open_source(self, connection: dict[str, Any]) -> SmbShare:
        return SmbShare(connection)
