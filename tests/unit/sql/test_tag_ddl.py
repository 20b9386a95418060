"""Tag-table DDL: what parses into which columns and roles, and what is refused how."""

import pytest

from edge.errors import NOT_SUPPORTED, SYNTAX_ERROR, EdgeError
from edge.sql import tag_ddl
from edge.sql.lexer import single_statement, tokenize
from edge.sql.tag_ddl import CreateTagTable, DropTable
from edge.store.schema import ColumnSpec


def parse_tag_ddl(statement: str):
    """The plan of `statement`, read from the lexer's tokens as the engine reads it."""
    return tag_ddl.plan(single_statement(tokenize(statement)))


def is_tag_ddl(statement: str) -> bool:
    return tag_ddl.is_tag_ddl(tokenize(statement))


def test_create_tag_table_gives_name_time_value_roles():
    parsed = parse_tag_ddl("create tag table tag (name varchar(20) primary key, time datetime basetime, "
                           "value double summarized)")
    assert parsed == CreateTagTable("TAG", (ColumnSpec("NAME", "varchar", 20, "name"),
                                            ColumnSpec("TIME", "datetime", 0, "time"),
                                            ColumnSpec("VALUE", "double", 0, "value")), ())


def test_spec_tagdata_table_with_extras_and_metadata():
    parsed = parse_tag_ddl("create tagdata table TAG (name_multi varchar(20) primary key, time_multi datetime "
                           "basetime, value_multi double summarized, value2_multi short, value3_multi varchar(10)) "
                           "metadata (myshortmeta short, baseip ipv4);")
    assert parsed.name == "TAG"
    assert [(c.name, c.type, c.length, c.role) for c in parsed.columns] == [
        ("NAME_MULTI", "varchar", 20, "name"), ("TIME_MULTI", "datetime", 0, "time"),
        ("VALUE_MULTI", "double", 0, "value"), ("VALUE2_MULTI", "short", 0, "extra"),
        ("VALUE3_MULTI", "varchar", 10, "extra")]
    assert [(c.name, c.type, c.role) for c in parsed.metadata] == [("MYSHORTMETA", "short", "metadata"),
                                                                   ("BASEIP", "ipv4", "metadata")]


def test_keywords_are_case_insensitive_and_order_free():
    parsed = parse_tag_ddl("CREATE TAG TABLE IF NOT EXISTS Sensors (t DATETIME BASETIME, v FLOAT SUMMARIZED, "
                           "n VARCHAR(40) PRIMARY KEY)")
    assert parsed.if_not_exists
    assert {c.name: c.role for c in parsed.columns} == {"T": "time", "V": "value", "N": "name"}


def test_value_column_defaults_to_first_numeric_without_summarized():
    parsed = parse_tag_ddl("create tag table t (name varchar(20) primary key, time datetime basetime, "
                           "note varchar(5), value double)")
    assert {c.name: c.role for c in parsed.columns}["VALUE"] == "value"
    assert {c.name: c.role for c in parsed.columns}["NOTE"] == "extra"


def test_rollup_clause_and_table_properties_are_accepted():
    parsed = parse_tag_ddl("create tag table t (name varchar(20) primary key, time datetime basetime, value double "
                           "summarized) with rollup (min) extension tag_partition_count=4, tag_data_part_size = 1000")
    assert parsed.name == "T"


def test_drop_table():
    assert parse_tag_ddl("drop table tag;") == DropTable("TAG")
    assert parse_tag_ddl("  DROP   TABLE  Tag  ") == DropTable("TAG")
    assert parse_tag_ddl("drop table if exists `Tag`") == DropTable("TAG", if_exists=True)


@pytest.mark.parametrize("statement, code, fragment", [
    ("create tag table t (name varchar(20), time datetime basetime, value double summarized)", SYNTAX_ERROR,
     "PRIMARY KEY"),
    ("create tag table t (name varchar(20) primary key, time datetime, value double summarized)", SYNTAX_ERROR,
     "BASETIME"),
    ("create tag table t (name varchar(20) primary key, time datetime basetime, value varchar(3) summarized)",
     SYNTAX_ERROR, "numeric"),
    ("create tag table t (name long primary key, time datetime basetime, value double summarized)", SYNTAX_ERROR,
     "VARCHAR"),
    ("create tag table t (name varchar primary key, time datetime basetime, value double summarized)", SYNTAX_ERROR,
     "length"),
    ("create tag table t (name varchar(20) primary key, time datetime basetime, value double(8) summarized)",
     SYNTAX_ERROR, "only VARCHAR"),
    ("create tag table t (name varchar(20) primary key, time datetime basetime, value double summarized, "
     "x blob)", NOT_SUPPORTED, "BLOB"),
    ("create tag table t (name varchar(20) primary key, time datetime basetime, value widget)", SYNTAX_ERROR,
     "WIDGET"),
    ("create tag table t (name varchar(20) primary key, time datetime basetime, value double summarized",
     SYNTAX_ERROR, "ends"),
    ("create table t (a int)", NOT_SUPPORTED, "CREATE TABLE"),
    ("select * from tag", NOT_SUPPORTED, "SELECT"),
    ("drop tag", SYNTAX_ERROR, "TABLE"),
    ("drop table a b", SYNTAX_ERROR, "'b'"),
    ("drop table", SYNTAX_ERROR, "Expected DROP TABLE [IF EXISTS] name"),
    ("", SYNTAX_ERROR, "empty"),
    ("create tag table t (name varchar(20) primary key, time datetime basetime, value double summarized) @",
     SYNTAX_ERROR, "'@'"),
])
def test_bad_statements_say_what_is_wrong(statement, code, fragment):
    with pytest.raises(EdgeError) as err:
        parse_tag_ddl(statement)
    assert err.value.code == code
    assert fragment in err.value.text


def test_is_tag_ddl_recognises_only_its_statements():
    assert is_tag_ddl("create tag table x (a varchar(2) primary key)")
    assert is_tag_ddl("CREATE TAGDATA TABLE x")
    assert is_tag_ddl("drop table x")
    assert not is_tag_ddl("create table x (a int)")
    assert not is_tag_ddl("select 1")


def test_the_engine_runs_the_plans_it_reads(historian):
    historian.run("create tag table if not exists Sensors (n varchar(20) primary key, t datetime basetime, "
                  "v double summarized)")
    historian.run("create tag table if not exists sensors (n varchar(20) primary key, t datetime basetime, "
                  "v double summarized)")
    assert "SENSORS" in historian.store.table_names()
    historian.run("drop table if exists nosuch")
    historian.run("drop table `Sensors`")
    assert "SENSORS" not in historian.store.table_names()
    with pytest.raises(EdgeError) as err:
        historian.run("drop table sensors")
    assert (err.value.code, err.value.text) == (2025, "Table SENSORS does not exist.")


def test_the_engine_refuses_a_tag_table_named_like_a_log_table(historian):
    historian.run("create table plain (a int)")
    with pytest.raises(EdgeError) as err:
        historian.run("create tag table plain (n varchar(20) primary key, t datetime basetime, v double summarized)")
    assert (err.value.code, err.value.text) == (2026, "Table PLAIN already exists.")
