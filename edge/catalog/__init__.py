"""The catalog: SQLite (apsw) for configuration, users, markers, receiver and runtime state."""

from edge.catalog.database import Catalog, utc_timestamp

__all__ = ["Catalog", "utc_timestamp"]
