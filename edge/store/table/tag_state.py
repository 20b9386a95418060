"""A tag as the writer of its table keeps it, and where its files live."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.store.columns import ColumnFile
from edge.store.runs import EMPTY_TAIL, NO_EXTEND, PERM_DTYPE, Run
from edge.store.schema import TableSchema


def column_files(directory: Path, schema: TableSchema, tag_id: int, gen: int) -> list[ColumnFile]:
    """The tag's column files of generation `gen`: time, value, then each extra column.
    A rewrite (delete) writes the next generation beside the current one."""
    base = f"{tag_id}.g{gen}"
    columns = [ColumnFile(directory / f"{base}.t", np.int64), ColumnFile(directory / f"{base}.v", np.float64)]
    columns += [ColumnFile(directory / f"{base}.x{i}", c.stored_dtype) for i, c in enumerate(schema.extras)]
    return columns


def perm_file(directory: Path, tag_id: int, gen: int, start: int, stop: int) -> ColumnFile:
    """The permutation file of the run [start, stop) (runs only grow, so the name is unique)."""
    return ColumnFile(directory / f"{tag_id}.g{gen}.r{start}-{stop}.perm", PERM_DTYPE)


class TagState:
    """A tag as the writer keeps it; readers copy (rows, runs, columns) under the state lock."""

    __slots__ = ("tag_id", "name", "gen", "columns", "runs", "rows", "flushed", "pending")

    def __init__(self, tag_id: int, name: str, gen: int, columns: list[ColumnFile]):
        self.tag_id = tag_id
        self.name = name
        self.gen = gen
        self.columns = columns
        self.runs: tuple[Run, ...] = (Run(0, None),)
        self.rows = 0  # published (acknowledged) rows
        self.flushed = 0  # rows written to the column files; the rest wait in `pending`
        self.pending: list[tuple[int, int, int, list[np.ndarray]]] = []  # (row, start, end, arrays)

    def files(self) -> list[Path]:
        return [c.path for c in self.columns] + [r.perm.path for r in self.runs if r.perm is not None]

    def tail_max(self) -> int:
        """The time an in-order append must reach to extend the open run, from the rows and
        runs as they stand (NO_EXTEND when the last run is closed, EMPTY_TAIL when empty)."""
        last = self.runs[-1]
        if last.end is not None:
            return NO_EXTEND
        if self.rows > last.start:
            return int(self.columns[0].view(self.rows)[self.rows - 1])
        return EMPTY_TAIL
