import os
import stat
import threading

import apsw
import pytest

from edge.app import ensure_admin_user
from edge.catalog import Catalog
from edge.catalog.backup_status import BackupStatus
from edge.catalog.config_history import ConfigHistory
from edge.catalog.markers import Markers
from edge.catalog.migrations import MIGRATIONS
from edge.catalog.receiver_state import ReceiverState
from edge.catalog.runtime_state import RuntimeState
from edge.catalog.users import Users


@pytest.fixture
def catalog(tmp_path):
    cat = Catalog(tmp_path / "catalog.db")
    yield cat
    cat.close()


def test_new_catalog_is_migrated_to_newest_version_in_wal_mode(catalog):
    assert catalog.schema_version == MIGRATIONS[-1][0]
    assert catalog.connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_data_and_version(tmp_path):
    first = Catalog(tmp_path / "c.db")
    RuntimeState(first).set("k", "v")
    first.close()
    second = Catalog(tmp_path / "c.db")
    assert RuntimeState(second).get("k") == "v"
    assert second.schema_version == MIGRATIONS[-1][0]
    second.close()


def test_newer_schema_than_program_refuses_to_open(tmp_path):
    conn = apsw.Connection(str(tmp_path / "c.db"))
    conn.execute("PRAGMA user_version = 9999")
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this program"):
        Catalog(tmp_path / "c.db")


def test_each_thread_gets_its_own_connection(catalog):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(catalog.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not catalog.connection()
    assert catalog.connection() is catalog.connection()


def test_config_history_keeps_every_revision(catalog):
    history = ConfigHistory(catalog)
    assert history.current() is None
    first = history.save({"data_receiver": []})
    second = history.save({"data_receiver": [{"x": 1}]})
    assert history.current().revision == second.revision
    assert history.current().body == {"data_receiver": [{"x": 1}]}
    assert [r.revision for r in history.revisions()] == [second.revision, first.revision]
    assert len(second.saved_at) == len("2018-02-07 00:46:10.000000")


def test_password_is_stored_hashed_and_verifies(catalog):
    users = Users(catalog)
    users.create("sys", "manager", "admin")
    stored = catalog.connection().execute("SELECT password_hash FROM users").fetchone()[0]
    assert "manager" not in stored and stored.startswith("scrypt$")
    assert users.verify("sys", "manager")
    assert users.verify("SYS", "manager")  # names are case-insensitive
    assert not users.verify("sys", "Manager")
    assert not users.verify("nobody", "manager")


def test_first_start_writes_generated_password_file_0600(catalog, tmp_path, monkeypatch):
    monkeypatch.delenv("EDGE_ADMIN_PASSWORD", raising=False)
    users = Users(catalog)
    path = ensure_admin_user(users, tmp_path)
    assert path == tmp_path / "initial-password"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert users.verify("sys", path.read_text().strip())
    # Second start: nothing regenerated.
    before = path.read_text()
    assert ensure_admin_user(users, tmp_path) == path
    assert path.read_text() == before


def test_admin_password_from_environment_writes_no_file(catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_ADMIN_PASSWORD", "from-env")
    users = Users(catalog)
    assert ensure_admin_user(users, tmp_path) is None
    assert not (tmp_path / "initial-password").exists()
    assert users.verify("sys", "from-env")


def test_repeated_marker_is_merged_and_clear_removes_it(catalog):
    markers = Markers(catalog)
    markers.raise_marker("recv", "Receiver", "a", "s", "connection", "error", "refused")
    markers.raise_marker("recv", "Receiver", "a", "s", "connection", "error", "refused again")
    found = markers.for_stream("a", "s")
    assert len(found) == 1
    assert found[0].message == "refused again" and found[0].occurrences == 2
    assert set(found[0].as_json()) == {"component", "component_type", "asset", "stream_type", "category",
                                       "timestamp", "level", "message"}
    markers.clear("recv", "a", "s", "connection")
    assert markers.for_stream("a", "s") == []


def test_receiver_state_round_trip_and_purge(catalog):
    state = ReceiverState(catalog)
    state.put("r", "a", "s", "file1.csv", {"size": 10, "mtime": 1.5})
    state.put("r", "a", "s", "file2.csv", {"size": 20})
    state.put("r", "b", "s", "file1.csv", {"size": 30})
    assert state.get("r", "a", "s", "file1.csv") == {"size": 10, "mtime": 1.5}
    assert state.purge_stream("r", "a", "s") == 2
    assert state.all_for_stream("r", "a", "s") == {}
    assert state.get("r", "b", "s", "file1.csv") == {"size": 30}


def test_backup_status_defaults_and_updates(catalog):
    backup = BackupStatus(catalog)
    assert backup.get("config") == {"last_success": None, "error_code": None, "error_message": None}
    backup.record_failure("config", "connectivity_error", "down")
    assert backup.get("config")["error_code"] == "connectivity_error"
    backup.record_success("config")
    status = backup.get("config")
    assert status["error_code"] is None and status["last_success"] is not None
