"""Machbase's dialect to SQLite's: string literals, times written as strings, SYSDATE, TO_CHAR."""

import pytest

from edge.errors import EdgeError
from edge.sql import types
from edge.sql.lexer import single_statement, tokenize
from edge.sql.select_list import expression_type, select_items
from edge.sql.tables import LOG, TAG, SqlTable, Tables
from edge.sql.translate import Statement

TABLES = Tables([
    SqlTable("TEST_TABLE", LOG, (("NAME", types.varchar(20)), ("TIME", types.DATETIME), ("VALUE", types.DOUBLE))),
    SqlTable("TAG", TAG, (("NAME", types.varchar(80)), ("TIME", types.DATETIME), ("VALUE", types.DOUBLE))),
    SqlTable("NOTES", LOG, (("TIME", types.varchar(30)), ("BODY", types.varchar(100)))),
])


def sqlite(text: str) -> str:
    return Statement(text, single_statement(tokenize(text)), TABLES).sqlite()


def test_double_quoted_strings_become_string_literals():
    assert sqlite('select "it\'s", "a""b" from notes') == "select 'it''s', 'a\"b' from notes"


def test_insert_values_strings_for_datetime_columns_become_times():
    assert sqlite('insert into test_table values ("test", "1999-01-01 00:00:00", 0)') == \
        "insert into test_table values ('test', TO_DATE('1999-01-01 00:00:00'), 0)"
    assert sqlite("insert into test_table (time, name) values ('2000-01-01', 'x'), ('2000-01-02', 'y')") == \
        "insert into test_table (time, name) values (TO_DATE('2000-01-01'), 'x'), (TO_DATE('2000-01-02'), 'y')"


def test_comparisons_between_and_in_on_datetime_columns_take_times():
    assert sqlite("select * from tag where time >= '2020-01-01' and '2020-02-01' > t.time") == \
        "select * from tag where time >= TO_DATE('2020-01-01') and TO_DATE('2020-02-01') > t.time"
    assert sqlite("select * from tag where time between '2020-01-01' and \"2020-01-02\"") == \
        "select * from tag where time between TO_DATE('2020-01-01') and TO_DATE('2020-01-02')"
    assert sqlite("select * from tag where time not in ('2020-01-01', 5)") == \
        "select * from tag where time not in (TO_DATE('2020-01-01'), 5)"
    assert sqlite("update test_table set time = '2020-01-01' where name = 'a'") == \
        "update test_table set time = TO_DATE('2020-01-01') where name = 'a'"


def test_digit_strings_compared_with_times_are_nanoseconds():
    assert sqlite("select * from tag where time > '1600000000000000000'") == \
        "select * from tag where time > 1600000000000000000"


def test_a_text_column_named_time_keeps_its_strings():
    assert sqlite("select * from notes where time = '2020-01-01'") == "select * from notes where time = '2020-01-01'"


def test_sysdate_and_now_without_parentheses_are_calls():
    assert sqlite("select sysdate, now, now() from tag") == "select sysdate(), now(), now() from tag"


def test_to_char_of_a_datetime_prints_in_the_default_format():
    assert sqlite("select to_char(time), to_char(value) from tag") == \
        "select to_char(time, 'YYYY-MM-DD HH24:MI:SS mmm:uuu:nnn'), to_char(value) from tag"


def test_one_statement_per_request():
    with pytest.raises(EdgeError) as err:
        single_statement(tokenize("select 1; drop table tag"))
    assert err.value.code == 2010
    assert len(single_statement(tokenize("select 1;"))) == 2


def test_unterminated_string_is_a_syntax_error():
    with pytest.raises(EdgeError) as err:
        tokenize("select 'abc")
    assert "Unterminated string" in err.value.text


def test_select_items_know_aliases_and_types():
    tokens = single_statement(tokenize(
        "select rollup('min', 1, time) as m, count(*) c, avg(value), min(time), first(time, value), "
        "to_char(time), name from tag"))
    items = select_items(tokens)
    statement = Statement("", tokens, TABLES)
    assert [i.alias for i in items] == ["M", "C", None, None, None, None, None]
    kinds = [expression_type(i.expression, statement.column_type) for i in items]
    assert [k.name for k in kinds] == ["datetime", "long", "double", "datetime", "double", "varchar", "varchar"]
