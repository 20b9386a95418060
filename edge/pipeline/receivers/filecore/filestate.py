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

`taken` is how far the historian has had the file's records; with `head` and `pending` it is
also kept in the historian ledger (`edge.catalog.historian_ledger`), which outlives this
state. While a file is read again after its state was lost (a restream), `offset` < `taken`:
those records are not handed to the historian again, and `replay` is the ledger's pending
chunk, to be handed over again under its own batch key.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

HEAD_BYTES = 4096


def head_digest(data: bytes) -> str:
    return hashlib.blake2b(data[:HEAD_BYTES], digest_size=12).hexdigest()


def chunk_digest(data: bytes) -> str:
    """The digest of a chunk's bytes in its batch key (sha256: the fastest hash here, CPU
    instructions do it)."""
    return hashlib.sha256(data).hexdigest()[:32]


@dataclasses.dataclass
class PendingChunk:
    start: int
    end: int
    key: str  # the historian batch key ("" for a chunk the historian has had already)
    position: dict[str, Any]  # parser position before the chunk
    digest: str = ""  # of the chunk's bytes (`chunk_digest`)

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "key": self.key, "position": self.position,
                "digest": self.digest}

    @classmethod
    def from_json(cls, data: Any) -> PendingChunk | None:
        if not isinstance(data, dict):
            return None
        return cls(int(data["start"]), int(data["end"]), str(data["key"]), data.get("position") or {},
                   str(data.get("digest", "")))


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
    taken: int = 0  # the historian has had the records of bytes [0, taken)
    replay: PendingChunk | None = None  # the ledger's pending chunk, while reading again

    def as_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of the parser position costs more than the rest.
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["pending"] = self.pending.as_json() if self.pending else None
        data["replay"] = self.replay.as_json() if self.replay else None
        return data

    @classmethod
    def from_json(cls, data: Any) -> FileState:
        if not isinstance(data, dict):
            return cls()
        chunks = ("pending", "replay")
        fields = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data and f.name not in chunks}
        state = cls(**fields, pending=PendingChunk.from_json(data.get("pending")),
                    replay=PendingChunk.from_json(data.get("replay")))
        if "taken" not in data:  # written before the ledger existed: all it read was handed over
            state.taken = state.offset
        return state

    def unchanged(self, size: int, mtime_ns: int) -> bool:
        return self.done and self.size == size and self.mtime_ns == mtime_ns

    # -- the historian ledger ------------------------------------------------------------------

    def ledger_entry(self) -> dict[str, Any]:
        """What the historian ledger keeps of this state."""
        pending = self.pending if self.pending is not None and self.pending.key else self.replay
        return {"head": self.head, "head_length": self.head_length, "taken": self.taken,
                "pending": pending.as_json() if pending is not None else None}

    @classmethod
    def reading_again(cls, entry: dict[str, Any]) -> FileState:
        """The state of a file, known to the ledger, that is read again from the start."""
        return cls(head=str(entry.get("head", "")), head_length=int(entry.get("head_length", 0)),
                   taken=int(entry.get("taken", 0)), replay=PendingChunk.from_json(entry.get("pending")))
