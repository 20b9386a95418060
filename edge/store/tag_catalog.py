"""The store's rows in the catalog: tag tables, tags (metadata, checkpointed state, stats),
the hour level of the rollups and the applied batch keys. SQL only; the store decides when
to call what."""

from __future__ import annotations

import json

import apsw

from edge.catalog.database import utc_timestamp
from edge.store.schema import TableSchema
from edge.store.stats import COLUMNS as STAT_COLUMNS

_STAT_SQL = {"count": "row_count"}
STAT_FIELDS = tuple(STAT_COLUMNS)
_STAT_COLS = ", ".join(_STAT_SQL.get(f, f) for f in STAT_FIELDS)
_ROLLUP_COLS = ("row_count, value_sum, value_sumsq, value_min, value_max, "
                "first_time, first_value, last_time, last_value")


def load_tables(conn: apsw.Connection) -> list[tuple]:
    return conn.execute("SELECT table_id, name, columns, metadata_columns, checkpoint_seq "
                        "FROM tag_tables ORDER BY table_id").fetchall()


def insert_table(conn: apsw.Connection, schema: TableSchema) -> int:
    columns, metadata = schema.as_json()
    conn.execute("INSERT INTO tag_tables (name, columns, metadata_columns, created_at) VALUES (?, ?, ?, ?)",
                 (schema.name, json.dumps(columns), json.dumps(metadata), utc_timestamp()))
    return conn.last_insert_rowid()


def delete_table(conn: apsw.Connection, table_id: int) -> None:
    with conn:
        conn.execute("DELETE FROM tag_batch_keys WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM tag_rollup_hours WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM tags WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM tag_tables WHERE table_id = ?", (table_id,))


def load_tags(conn: apsw.Connection, table_id: int) -> list[dict]:
    rows = conn.execute(f"SELECT tag_id, name, metadata, generation, committed_rows, runs, {_STAT_COLS} "
                        "FROM tags WHERE table_id = ? ORDER BY tag_id", (table_id,)).fetchall()
    out = []
    for row in rows:
        tag_id, name, metadata, generation, committed, runs = row[:6]
        stats = dict(zip(STAT_FIELDS, row[6:]))
        out.append({"tag_id": tag_id, "name": name, "metadata": json.loads(metadata),
                    "generation": generation, "committed_rows": committed, "runs": json.loads(runs),
                    "stats": stats})
    return out


def insert_tags(conn: apsw.Connection, table_id: int, tags: list[tuple[int, str, dict]]) -> None:
    """Registers tags; one already there (same id) is left as it is."""
    conn.executemany("INSERT INTO tags (table_id, tag_id, name, metadata) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (table_id, tag_id) DO NOTHING",
                     [(table_id, tag_id, name, json.dumps(meta)) for tag_id, name, meta in tags])


def tag_metadata(conn: apsw.Connection, table_id: int, tag_id: int) -> dict | None:
    row = conn.execute("SELECT metadata FROM tags WHERE table_id = ? AND tag_id = ?",
                       (table_id, tag_id)).fetchone()
    return None if row is None else json.loads(row[0])


def set_tag_metadata(conn: apsw.Connection, table_id: int, tag_id: int, metadata: dict) -> None:
    conn.execute("UPDATE tags SET metadata = ? WHERE table_id = ? AND tag_id = ?",
                 (json.dumps(metadata), table_id, tag_id))


def delete_tag(conn: apsw.Connection, table_id: int, tag_id: int) -> None:
    conn.execute("DELETE FROM tag_rollup_hours WHERE table_id = ? AND tag_id = ?", (table_id, tag_id))
    conn.execute("DELETE FROM tags WHERE table_id = ? AND tag_id = ?", (table_id, tag_id))


def save_tag_states(conn: apsw.Connection, table_id: int, states: list[dict]) -> None:
    """Records each tag's checkpointed state: {tag_id, generation, committed_rows, runs, stats}."""
    sets = ", ".join(f"{_STAT_SQL.get(f, f)} = ?" for f in STAT_FIELDS)
    conn.executemany(
        f"UPDATE tags SET generation = ?, committed_rows = ?, runs = ?, {sets} WHERE table_id = ? AND tag_id = ?",
        [(s["generation"], s["committed_rows"], json.dumps(s["runs"]),
          *(_sql_number(s["stats"][f]) for f in STAT_FIELDS), table_id, s["tag_id"]) for s in states])


def _sql_number(value):
    # SQLite turns NaN into NULL; keep that explicit (null value) rather than accidental.
    return None if isinstance(value, float) and value != value else value


def set_checkpoint_seq(conn: apsw.Connection, table_id: int, seq: int) -> None:
    conn.execute("UPDATE tag_tables SET checkpoint_seq = ? WHERE table_id = ?", (seq, table_id))


def merge_rollups(conn: apsw.Connection, table_id: int, rows: list[tuple]) -> None:
    """Folds hour deltas (tag_id, hour, count, sum, sumsq, min, max, first t/v, last t/v) in."""
    conn.executemany(
        f"""INSERT INTO tag_rollup_hours (table_id, tag_id, hour, {_ROLLUP_COLS})
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (table_id, tag_id, hour) DO UPDATE SET
                row_count = row_count + excluded.row_count,
                value_sum = value_sum + excluded.value_sum,
                value_sumsq = value_sumsq + excluded.value_sumsq,
                value_min = min(value_min, excluded.value_min),
                value_max = max(value_max, excluded.value_max),
                first_value = CASE WHEN excluded.first_time < first_time
                                   THEN excluded.first_value ELSE first_value END,
                first_time = min(first_time, excluded.first_time),
                last_value = CASE WHEN excluded.last_time >= last_time
                                  THEN excluded.last_value ELSE last_value END,
                last_time = max(last_time, excluded.last_time)""",
        [(table_id, *row) for row in rows])


def replace_rollups(conn: apsw.Connection, table_id: int, tag_id: int, rows: list[tuple]) -> None:
    """The tag's hour rollups become `rows` (hour, count, sum, sumsq, min, max, first t/v, last t/v)."""
    conn.execute("DELETE FROM tag_rollup_hours WHERE table_id = ? AND tag_id = ?", (table_id, tag_id))
    conn.executemany(f"INSERT INTO tag_rollup_hours (table_id, tag_id, hour, {_ROLLUP_COLS}) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(table_id, tag_id, *row) for row in rows])


def rollup_rows(conn: apsw.Connection, table_id: int, tag_id: int, first_hour: int, last_hour: int) -> list[tuple]:
    """(hour, count, sum, sumsq, min, max, first t/v, last t/v) for hours in [first, last]."""
    return conn.execute(f"SELECT hour, {_ROLLUP_COLS} FROM tag_rollup_hours "
                        "WHERE table_id = ? AND tag_id = ? AND hour BETWEEN ? AND ? ORDER BY hour",
                        (table_id, tag_id, first_hour, last_hour)).fetchall()


def rollup_row_count(conn: apsw.Connection, table_id: int, tag_id: int) -> int:
    return conn.execute("SELECT count(*) FROM tag_rollup_hours WHERE table_id = ? AND tag_id = ?",
                        (table_id, tag_id)).fetchone()[0]


def load_batch_keys(conn: apsw.Connection, table_id: int, limit: int) -> tuple[list[tuple[int, str]], int]:
    """The newest `limit` applied batch keys (seq, key), oldest first, and how many there are."""
    rows = conn.execute("SELECT seq, batch_key FROM tag_batch_keys WHERE table_id = ? "
                        "ORDER BY seq DESC LIMIT ?", (table_id, limit)).fetchall()
    total = conn.execute("SELECT count(*) FROM tag_batch_keys WHERE table_id = ?", (table_id,)).fetchone()[0]
    rows.reverse()
    return rows, total


def save_batch_keys(conn: apsw.Connection, table_id: int, rows: list[tuple[int, str]], keep: int | None) -> None:
    """Records applied batch keys (seq, key); with `keep`, then deletes all but the newest `keep`."""
    conn.executemany("INSERT INTO tag_batch_keys (table_id, seq, batch_key) VALUES (?, ?, ?) "
                     "ON CONFLICT (table_id, seq) DO NOTHING", [(table_id, seq, key) for seq, key in rows])
    if keep is not None:
        conn.execute("DELETE FROM tag_batch_keys WHERE table_id = ? AND seq < "
                     "(SELECT seq FROM tag_batch_keys WHERE table_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                     (table_id, table_id, keep - 1))
