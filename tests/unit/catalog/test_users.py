"""Users with roles in the catalog: create, list, password, role, remove, the last-admin rule."""

import apsw
import pytest

from edge.app import ensure_admin_user
from edge.catalog import Catalog
from edge.catalog.migrations import MIGRATIONS
from edge.catalog.users import ADMIN, READER, Users, hash_password
from edge.errors import INVALID_USER, LAST_ADMIN, USER_EXISTS, USER_NOT_FOUND, EdgeError


@pytest.fixture
def catalog(tmp_path):
    cat = Catalog(tmp_path / "catalog.db")
    yield cat
    cat.close()


@pytest.fixture
def users(catalog):
    users = Users(catalog)
    users.create("sys", "manager", ADMIN)
    return users


def rows(catalog):
    return catalog.connection().execute("SELECT name, role, password_hash FROM users ORDER BY name").fetchall()


def test_created_users_are_listed_with_their_roles_in_lower_case(users):
    users.create("Scada_1", "hmi", READER)
    users.create("ops", "ops-pw", ADMIN)
    assert [(u.name, u.role) for u in users.list()] == [("ops", ADMIN), ("scada_1", READER), ("sys", ADMIN)]
    assert users.verify("SCADA_1", "hmi").role == READER
    assert users.credential("Ops").role == ADMIN
    assert users.admin_count() == 2


def test_a_user_without_a_role_given_is_a_reader(users):
    assert users.create("hmi", "pw").role == READER


def test_password_change_takes_the_new_and_refuses_the_old(users):
    users.set_password("sys", "new-secret")
    assert users.verify("sys", "new-secret") is not None
    assert users.verify("sys", "manager") is None
    assert "new-secret" not in rows(users._catalog)[0][2]


@pytest.mark.parametrize("name, password, role, code", [
    ("sys", "x", READER, USER_EXISTS),
    ("SYS", "x", READER, USER_EXISTS),
    ("bad name", "x", READER, INVALID_USER),
    ("a@host", "x", READER, INVALID_USER),
    ("1abc", "x", READER, INVALID_USER),
    ("", "x", READER, INVALID_USER),
    ("a" * 33, "x", READER, INVALID_USER),
    ("ok", "", READER, INVALID_USER),
    ("ok", "line\nbreak", READER, INVALID_USER),
    ("ok", "x", "operator", INVALID_USER),
])
def test_bad_user_is_refused_and_changes_nothing(users, name, password, role, code):
    before = rows(users._catalog)
    with pytest.raises(EdgeError) as caught:
        users.create(name, password, role)
    assert caught.value.code == code
    assert rows(users._catalog) == before


def test_an_error_never_shows_the_password(users):
    with pytest.raises(EdgeError) as caught:
        users.create("ok", "secret\n", READER)
    assert "secret" not in caught.value.text
    with pytest.raises(EdgeError) as caught:
        users.set_password("nobody", "secret")
    assert caught.value.code == USER_NOT_FOUND and caught.value.status == 404
    assert "secret" not in caught.value.text


def test_the_last_admin_can_be_neither_removed_nor_demoted(users):
    users.create("scada", "pw", READER)
    before = rows(users._catalog)
    for change in (lambda: users.remove("sys"), lambda: users.set_role("sys", READER)):
        with pytest.raises(EdgeError) as caught:
            change()
        assert caught.value.code == LAST_ADMIN
        assert "last admin" in caught.value.text
    assert rows(users._catalog) == before
    # With a second admin, either may go; then the other is the last.
    users.set_role("scada", ADMIN)
    users.remove("sys")
    assert [(u.name, u.role) for u in users.list()] == [("scada", ADMIN)]
    with pytest.raises(EdgeError) as caught:
        users.set_role("scada", READER)
    assert caught.value.code == LAST_ADMIN
    users.set_role("scada", ADMIN)  # no change of an admin's role is a demotion


def test_removing_and_changing_an_unknown_user_says_so(users):
    for change in (lambda: users.remove("ghost"), lambda: users.set_role("ghost", ADMIN)):
        with pytest.raises(EdgeError) as caught:
            change()
        assert caught.value.code == USER_NOT_FOUND
        assert caught.value.text == "User ghost does not exist."


def test_a_reader_can_be_removed(users):
    users.create("scada", "pw", READER)
    users.remove("SCADA")
    assert [u.name for u in users.list()] == ["sys"]


def test_sys_of_a_catalog_from_before_roles_becomes_admin(tmp_path):
    conn = apsw.Connection(str(tmp_path / "c.db"))
    for version, script in MIGRATIONS:
        if version >= 5:
            break
        with conn:
            conn.execute(script)
            conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO users (name, password_hash, created_at) VALUES ('sys', ?, '2024-01-01')",
                 (hash_password("manager"),))
    conn.close()
    catalog = Catalog(tmp_path / "c.db")
    try:
        users = Users(catalog)
        assert users.verify("sys", "manager").role == ADMIN
        with pytest.raises(EdgeError) as caught:
            users.remove("sys")
        assert caught.value.code == LAST_ADMIN
    finally:
        catalog.close()


def test_sys_removed_in_favour_of_another_admin_is_not_created_again(catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_ADMIN_PASSWORD", "from-env")
    users = Users(catalog)
    ensure_admin_user(users, tmp_path)
    assert users.verify("sys", "from-env").role == ADMIN
    users.create("ops", "ops-pw", ADMIN)
    users.remove("sys")
    assert ensure_admin_user(users, tmp_path) is None
    assert [(u.name, u.role) for u in users.list()] == [("ops", ADMIN)]
