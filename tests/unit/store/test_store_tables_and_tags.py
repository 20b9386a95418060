"""Tag tables (default TAG, create, drop, case-insensitive names) and tag metadata (add, info,
update, delete) as the Machbase tags/list API needs them."""

from __future__ import annotations

import pytest

from edge.errors import EdgeError
from edge.store import ColumnSpec
from edge import errors as store_errors

SPEC_TABLE = [ColumnSpec("name_multi", "varchar", 20, "name"), ColumnSpec("time_multi", "datetime", 8, "time"),
              ColumnSpec("value_multi", "double", 8, "value"), ColumnSpec("value2_multi", "short", 0, "extra"),
              ColumnSpec("value3_multi", "varchar", 10, "extra")]
SPEC_METADATA = [ColumnSpec("myshortmeta", "short"), ColumnSpec("baseip", "ipv4")]


def test_default_table_tag_exists_from_the_first_start(store):
    assert store.table_names() == ["TAG"]
    table = store.table("tag")
    assert [(c.name, c.type, c.length, c.role) for c in table.columns] == [
        ("NAME", "varchar", 80, "name"), ("TIME", "datetime", 8, "time"), ("VALUE", "double", 8, "value")]
    assert table.metadata_columns == []


def test_create_drop_and_case_insensitive_names(open_store, tmp_path):
    store = open_store()
    store.drop_table("tag")
    store.create_table("Tag", SPEC_TABLE, SPEC_METADATA)
    table = store.table("TAG")
    assert [c.name for c in table.columns] == ["NAME_MULTI", "TIME_MULTI", "VALUE_MULTI", "VALUE2_MULTI", "VALUE3_MULTI"]
    assert [c.name for c in table.metadata_columns] == ["MYSHORTMETA", "BASEIP"]
    table.append(["t"], [1], [1.0], {"Value2_Multi": [3]})
    with pytest.raises(EdgeError) as err:
        store.create_table("tag", SPEC_TABLE)
    assert err.value.code == store_errors.TABLE_EXISTS
    store.close()
    store = open_store()
    assert store.table("tag").read(["t"], 0, 5).extras["VALUE2_MULTI"].tolist() == [3]
    store.drop_table("TAG")
    assert not (tmp_path / "tags" / "TAG").exists()
    with pytest.raises(EdgeError) as err:
        store.table("tag")
    assert err.value.code == store_errors.TABLE_NOT_FOUND
    with pytest.raises(EdgeError):
        store.drop_table("tag")
    store.close()
    assert open_store().table_names() == []  # a dropped default table stays dropped


@pytest.mark.parametrize("columns", [
    SPEC_TABLE[1:],                                                     # no name column
    SPEC_TABLE + [ColumnSpec("x", "double", 0, "value")],               # two value columns
    [ColumnSpec("n", "long", 0, "name")] + SPEC_TABLE[1:3],             # name not varchar
    SPEC_TABLE + [ColumnSpec("value2_multi", "long", 0, "extra")],      # duplicate column
    SPEC_TABLE + [ColumnSpec("bad name", "long", 0, "extra")],          # not an identifier
    SPEC_TABLE + [ColumnSpec("b", "blob", 0, "extra")],                 # unknown type
    SPEC_TABLE + [ColumnSpec("v", "varchar", 0, "extra")],              # varchar without length
])
def test_bad_table_definitions_are_refused(store, columns):
    with pytest.raises(EdgeError) as err:
        store.create_table("bad", columns)
    assert err.value.code == store_errors.INVALID_TABLE_DEFINITION
    assert "BAD" not in store.table_names()


def test_spec_tag_list_example_registers_three_and_refuses_the_duplicate(store):
    store.drop_table("tag")
    store.create_table("tag", SPEC_TABLE, SPEC_METADATA)
    table = store.table("tag")
    rows = [{"NAME_MULTI": "tag3", "MYSHORTMETA": 0, "BASEIP": "127.0.0.0"},
            {"NAME_MULTI": "tag4", "MYSHORTMETA": 1, "BASEIP": "127.0.0.1"},
            {"NAME_MULTI": "tag4", "MYSHORTMETA": 1, "BASEIP": "127.0.0.1"},
            {"name_multi": "tag5", "myshortmeta": 2, "baseip": "127.0.0.2"}]
    assert table.add_tags(rows) == (3, 1)
    assert table.add_tags([{"NAME_MULTI": "tag3"}, {"NAME_MULTI": "tag6", "BASEIP": "no ip"}]) == (0, 2)
    assert table.tag_names() == ["tag3", "tag4", "tag5"]
    assert table.tag_info("tag4") == {"NAME_MULTI": "tag4", "MYSHORTMETA": 1, "BASEIP": "127.0.0.1"}
    assert table.tag_info("nope") is None


def test_update_and_delete_tag_follow_the_spec(open_store):
    store = open_store()
    store.drop_table("tag")
    store.create_table("tag", SPEC_TABLE, SPEC_METADATA)
    table = store.table("tag")
    table.add_tags([{"NAME_MULTI": "tag0"}])
    table.append(["tag1"], [1], [1.0])  # registered on the fly, no metadata yet
    assert table.update_tag("tag0", {"baseip": "192.168.0.1"}) == 1
    assert table.update_tag("tag1", {"BASEIP": "255.255.255.0", "myshortmeta": 9999}) == 1
    assert table.tag_info("tag1") == {"NAME_MULTI": "tag1", "MYSHORTMETA": 9999, "BASEIP": "255.255.255.0"}
    with pytest.raises(EdgeError) as err:
        table.update_tag("tag0", {"nosuch": 1})
    assert err.value.code == store_errors.COLUMN_NOT_FOUND
    with pytest.raises(EdgeError) as err:
        table.update_tag("ghost", {"baseip": "1.2.3.4"})
    assert err.value.code == store_errors.TAG_NOT_FOUND
    with pytest.raises(EdgeError) as err:
        table.delete_tag("tag1")
    assert (err.value.code, err.value.text) == (2324, "Cannot delete tagmeta. there exist data with deleted_tag key.")
    assert table.delete_tag("tag0") == 1
    assert table.delete_before(10, ["tag1"]) == 1
    assert table.delete_tag("tag1") == 1
    assert table.tag_names() == []
    store.close()
    table = open_store().table("tag")
    assert table.tag_names() == []
    table.append(["tag9"], [1], [1.0])
    assert table.tag_info("tag9") == {"NAME_MULTI": "tag9", "MYSHORTMETA": None, "BASEIP": None}


def test_tag_names_longer_than_the_name_column_are_refused(store):
    table = store.table("tag")
    with pytest.raises(EdgeError) as err:
        table.append(["x" * 81], [1], [1.0])
    assert err.value.code == store_errors.INVALID_VALUE
    assert table.add_tags([{"NAME": "y" * 81}]) == (0, 1)
    assert table.tag_names() == []


def test_disksize_counts_column_files_and_rollups(table):
    table.append(["d"] * 1000, list(range(1000)), [1.0] * 1000)
    table.checkpoint()
    size = table.disksize("d")
    assert size >= 16_000
    assert table.disksize() == size
    with pytest.raises(EdgeError):
        table.disksize("nope")
