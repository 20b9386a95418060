"""The historian's tag store: per-tag column files, a write-ahead log, rollups and stats.

See README.d/store.md for the design; `TagStore` is the entry point.
"""

from edge.store.query import ReadResult
from edge.store.rollups import Rollups
from edge.store.schema import ColumnSpec
from edge.store.stats import TagStats
from edge.store.tag_store import TagStore
from edge.store.table import TagTable

__all__ = ["ColumnSpec", "ReadResult", "Rollups", "TagStats", "TagStore", "TagTable"]
