"""One tag table: a thin front (`TagTable`) over parts that share one `TableState`.

    state        TableState: every field two parts use, declared once, and the lock order
    tag_state    TagState: one tag's column files, lengths, sorted runs and pending rows
    append       Appender: group commit, log write and sync, publishing, replay
    flush        ColumnFlusher: acknowledged rows into the column files
    reads        Reader: raw reads, rollups, aggregates, stats, disk sizes
    checkpoint   Checkpointer: committed state into the catalog, recovery, close
    maintenance  Maintenance: delete_before, merging sorted runs
    tags         TagRegistry: registering tags and their metadata
    files        OpenFiles: file-descriptor and map budgets
"""

from edge.store.table.tag_table import TagTable

__all__ = ["TagTable"]
