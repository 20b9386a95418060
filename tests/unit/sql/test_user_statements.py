"""CREATE/ALTER/DROP USER through the SQL engine, and a reader's statements run read-only."""

import numpy as np
import pytest

from edge.catalog import Catalog
from edge.catalog.users import ADMIN, READER, Users
from edge.errors import INVALID_USER, LAST_ADMIN, MB_FORBIDDEN, SYNTAX_ERROR, USER_EXISTS, EdgeError
from edge.settings import load_settings
from edge.sql import user_ddl
from edge.sql.engine import SqlEngine
from edge.store import TagStore
from tests.unit.sql.conftest import python_rows

SECOND = 10**9
BASE = 1_600_000_000 * SECOND
SECRET = "Sup3r-secret"


@pytest.fixture
def engine(tmp_path):
    """An engine given the catalog's users as its users port, with `sys` the one admin."""
    settings = load_settings(None, {"DATA_DIR": str(tmp_path)})
    catalog = Catalog(tmp_path / "catalog.db")
    users = Users(catalog)
    users.create("sys", "manager", ADMIN)
    store = TagStore(catalog, tmp_path / "tags")
    engine = SqlEngine(store, settings, users=users)
    yield engine
    engine.close()
    store.close()
    catalog.close()


def roles(engine) -> list[tuple[str, str]]:
    return [(u.name, u.role) for u in engine.users.list()]


@pytest.mark.parametrize("text, expected", [
    (f"CREATE USER scada IDENTIFIED BY '{SECRET}'", ("CREATE", "scada", SECRET, None)),
    (f'create user Scada identified by "{SECRET}" role ADMIN;', ("CREATE", "Scada", SECRET, "admin")),
    ("create user `hmi` identified by manager role reader", ("CREATE", "hmi", "manager", "reader")),
    (f"ALTER USER scada IDENTIFIED BY '{SECRET}'", ("ALTER", "scada", SECRET, None)),
    ("alter user scada role 'admin'", ("ALTER", "scada", None, "admin")),
    ("  DROP USER scada", ("DROP", "scada", None, None)),
])
def test_user_statements_read_into_plans(text, expected):
    assert user_ddl.is_user_statement(text)
    found = user_ddl.plan(text)
    assert (found.verb, found.name, found.password, found.role) == expected
    assert SECRET not in repr(found)


@pytest.mark.parametrize("text", [
    f"CREATE USER scada '{SECRET}'",
    f"CREATE USER IDENTIFIED BY '{SECRET}'",
    f"CREATE USER '{SECRET}' IDENTIFIED BY x",
    "CREATE USER scada IDENTIFIED BY",
    f"CREATE USER scada IDENTIFIED BY '{SECRET}' ROLE operator",
    f"CREATE USER scada IDENTIFIED BY '{SECRET}' extra",
    f"ALTER USER scada IDENTIFIED BY '{SECRET}",
    f"ALTER USER scada IDENTIFIED BY '{SECRET}'; DROP USER sys",
    "ALTER USER scada",
    f"DROP USER scada '{SECRET}'",
])
def test_malformed_user_statements_never_show_their_text(engine, text):
    before = roles(engine)
    with pytest.raises(EdgeError) as caught:
        engine.execute(text)
    assert caught.value.code == SYNTAX_ERROR
    assert caught.value.text.startswith("Malformed user statement")
    assert SECRET not in caught.value.text
    assert roles(engine) == before


def test_other_statements_are_not_user_statements():
    for text in ("create user_table (a int)", "select user from t", "create tag table usr (a varchar(8))"):
        assert not user_ddl.is_user_statement(text)


def test_create_alter_drop_user_change_the_users(engine):
    engine.execute(f"CREATE USER scada IDENTIFIED BY '{SECRET}'")
    assert roles(engine) == [("scada", READER), ("sys", ADMIN)]
    assert engine.users.verify("scada", SECRET) is not None
    engine.execute("ALTER USER SCADA IDENTIFIED BY 'other' ROLE admin")
    assert engine.users.verify("scada", SECRET) is None
    assert engine.users.verify("scada", "other").role == ADMIN
    engine.execute("DROP USER scada")
    assert roles(engine) == [("sys", ADMIN)]


def test_user_statement_errors_come_from_the_catalogue(engine):
    with pytest.raises(EdgeError) as caught:
        engine.execute("CREATE USER sys IDENTIFIED BY 'x'")
    assert caught.value.code == USER_EXISTS
    with pytest.raises(EdgeError) as caught:
        engine.execute("CREATE USER \"a b\" IDENTIFIED BY 'x'")
    assert caught.value.code in (SYNTAX_ERROR, INVALID_USER)
    for text in ("DROP USER sys", "ALTER USER sys ROLE reader"):
        with pytest.raises(EdgeError) as caught:
            engine.execute(text)
        assert caught.value.code == LAST_ADMIN
    assert roles(engine) == [("sys", ADMIN)]


@pytest.fixture
def filled(engine):
    engine.execute("create table plain (a integer)")
    engine.execute("insert into plain values (1)")
    engine.store.table("TAG").append(np.array(["t1", "t1"], dtype=object),
                                     np.array([BASE, BASE + SECOND], dtype=np.int64), np.array([1.0, 2.0]))
    return engine


READER_REFUSED = [
    "insert into plain values (2)",
    "INSERT INTO tag VALUES ('t1', '2020-09-13 12:26:42', 3)",
    "update plain set a = 5",
    "delete from plain",
    "delete from tag where name = 't1'",
    "truncate table plain",
    "create table other (a integer)",
    "create tag table more (name varchar(20) primary key, time datetime basetime, value double summarized)",
    "drop table plain",
    "with x as (select 9) insert into plain select * from x",
    "with x as (select 1) delete from plain",
    "create index plain_a on plain (a)",
    "create view v as select * from plain",
    f"CREATE USER scada IDENTIFIED BY '{SECRET}'",
    "ALTER USER sys IDENTIFIED BY 'x'",
    "DROP USER sys",
]


@pytest.mark.parametrize("statement", READER_REFUSED)
def test_a_readers_writes_are_forbidden_and_change_nothing(filled, statement):
    with pytest.raises(EdgeError) as caught:
        filled.execute(statement, read_only=True)
    assert (caught.value.code, caught.value.status) == (MB_FORBIDDEN, 403), caught.value.text
    assert SECRET not in caught.value.text
    assert python_rows(filled.execute("select a from plain").result) == [(1,)]
    assert python_rows(filled.execute("select count(*) from tag").result) == [(2,)]
    assert sorted(filled.store.table_names()) == ["TAG"]
    assert roles(filled) == [("sys", ADMIN)]
    assert filled.users.verify("sys", "manager") is not None


@pytest.mark.parametrize("fast", [True, False])
def test_a_readers_queries_answer(filled, fast):
    def rows(text):
        return python_rows(filled.execute(text, fast, read_only=True).result)

    assert rows("select a from plain") == [(1,)]
    assert rows("select name, value from tag where name = 't1' order by time") == [("t1", 1.0), ("t1", 2.0)]
    assert rows("select max(value) from tag where name = 't1'") == [(2.0,)]
    assert rows("with x as (select a from plain) select count(*) from x") == [(1,)]
    assert rows("values (7)") == [(7,)]
    assert [r[1] for r in rows("pragma table_info(plain)")] == ["A"]
    # The same connection writes again for an admin afterwards.
    filled.execute("insert into plain values (2)")
    assert rows("select count(*) from plain") == [(2,)]
