"""What a file receiver remembers about one file of one stream (a row of receiver_state).

`offset` is how far the file has been read: always the end of a whole record. `pending` is
the chunk being stored when the state was written: its byte range, its batch key and the
parser position before it. The receiver writes the state *before* it hands a chunk to the
historian (the intent), and the next write (the next chunk's intent, or the end of the file)
moves `offset` past it. After a crash at any moment, the pending chunk is read again from the
same bytes and stored under the same batch key, which the historian skips if it applied it
already: nothing is lost, nothing is stored twice.

`head` fingerprints the first bytes read, so a file rewritten from the start (rather than
grown) is read again from the start.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

HEAD_BYTES = 4096


def head_digest(data: bytes) -> str:
    return hashlib.blake2b(data[:HEAD_BYTES], digest_size=12).hexdigest()


@dataclasses.dataclass
class PendingChunk:
    start: int
    end: int
    key: str  # the historian batch key
    position: dict[str, Any]  # parser position before the chunk

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "key": self.key, "position": self.position}


@dataclasses.dataclass
class FileState:
    size: int = 0  # size and mtime when the file was last read
    mtime_ns: int = 0
    offset: int = 0  # bytes read, whole records only
    position: dict[str, Any] = dataclasses.field(default_factory=dict)  # parser position at offset
    head: str = ""  # head_digest of the file's first min(offset, HEAD_BYTES) bytes
    head_length: int = 0
    pending: PendingChunk | None = None
    done: bool = False  # read to its end at (size, mtime_ns)

    def as_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of the parser position costs more than the rest.
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["pending"] = self.pending.as_json() if self.pending else None
        return data

    @classmethod
    def from_json(cls, data: Any) -> FileState:
        if not isinstance(data, dict):
            return cls()
        pending = data.get("pending")
        fields = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data and f.name != "pending"}
        return cls(**fields, pending=PendingChunk(**pending) if pending else None)

    def unchanged(self, size: int, mtime_ns: int) -> bool:
        return self.done and self.size == size and self.mtime_ns == mtime_ns
