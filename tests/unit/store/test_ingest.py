"""The one way into the store: Machbase append rows, SQL INSERT rows and column arrays become
the same batch, checked once and grouped by tag once."""

from __future__ import annotations

import numpy as np
import pytest

from edge.errors import CONSTRAINT_FAILED, INVALID_VALUE, EdgeError
from edge.store.ingest import append_rows, insert_rows, prepare, prepare_by_tag
from edge.store.schema import ColumnSpec, build_schema
from edge.time.timezone import TimeZone

UTC = TimeZone("UTC")
S = 1_000_000_000


def plant_schema():
    return build_schema("plant", [
        ColumnSpec("name", "varchar", 20, "name"), ColumnSpec("time", "datetime", 8, "time"),
        ColumnSpec("value", "double", 8, "value"), ColumnSpec("s", "short", 0, "extra"),
        ColumnSpec("f", "float", 0, "extra"), ColumnSpec("v", "varchar", 3, "extra"),
        ColumnSpec("dt", "datetime", 0, "extra"), ColumnSpec("ip", "ipv4", 0, "extra")])


def test_append_rows_give_one_group_per_tag_in_first_seen_order():
    rows = [[f"t{i % 3}", i * S, float(i), None, None, None, None, None] for i in range(9)]
    got = append_rows(rows, plant_schema().columns, UTC)
    assert got.batch.names == ["t0", "t1", "t2"]
    assert got.batch.starts.tolist() == [0, 3, 6] and got.batch.lengths.tolist() == [3, 3, 3]
    assert got.batch.values.tolist() == [0, 3, 6, 1, 4, 7, 2, 5, 8]


def test_append_rows_encode_extras_as_the_column_files_keep_them():
    schema = plant_schema()
    rows = [["a", 1, 1.0, 5, 1.5, "abc", 7, "10.0.0.1"],
            ["a", 2, 2.0, None, None, None, None, None],
            ["a", 3, 3.0, 40000, None, None, None, None],     # short out of range: row refused
            ["a", 4, 4.0, None, None, "abcd", None, None]]    # varchar too long: row refused
    got = append_rows(rows, schema.columns, UTC)
    assert got.failures == 2 and got.count == 2
    s, f, v, dt, ip = got.batch.extras
    assert [a.dtype for a in got.batch.extras] == [c.stored_dtype for c in schema.extras]
    assert s.tolist() == [5, np.iinfo(np.int16).min] and v.tolist() == [b"\x01abc", b""]
    assert f[0] == 1.5 and np.isnan(f[1]) and dt.tolist() == [7, np.iinfo(np.int64).min]
    assert ip.tolist() == [0x0A000001, -1]


def test_append_rows_and_prepare_build_the_same_batch():
    schema = plant_schema()
    names = ["b", "a", "b", "a"]
    rows = [[n, i * S, float(i), i, None, "x", None, None] for i, n in enumerate(names)]
    from_rows = append_rows(rows, schema.columns, UTC).batch
    from_arrays = prepare(schema, np.array(names), np.arange(4) * S, np.arange(4.0),
                          {"s": np.arange(4), "v": ["x"] * 4})
    assert from_rows.names == from_arrays.names
    for mine, theirs in zip([from_rows.starts, from_rows.lengths, from_rows.times, from_rows.values],
                            [from_arrays.starts, from_arrays.lengths, from_arrays.times, from_arrays.values]):
        assert mine.tolist() == theirs.tolist()
    for mine, theirs in zip(from_rows.extras, from_arrays.extras):
        assert np.array_equal(mine, theirs, equal_nan=mine.dtype.kind == "f")


def test_insert_rows_accept_texts_floats_and_nulls():
    batch = insert_rows(plant_schema(), [("a", "1970-01-01 00:00:01", 1, None, 2.5, "ab", "1970-01-01 00:00:02", None),
                                         ("a", 2.9 * S, None, 3, None, None, None, "10.0.0.2")], UTC)
    assert batch.times.tolist() == [S, int(2.9 * S)]
    assert batch.values[0] == 1 and np.isnan(batch.values[1])
    assert batch.extras[3].tolist() == [2 * S, np.iinfo(np.int64).min]


@pytest.mark.parametrize("row, code, fragment", [
    ((None, 1, 1.0), CONSTRAINT_FAILED, "every row needs a tag name"),
    (("a", "yesterday", 1.0), CONSTRAINT_FAILED, "cannot read 'yesterday' as a time"),
    (("a", None, 1.0), CONSTRAINT_FAILED, "every row needs a time, got None"),
    (("a", 1, "one"), CONSTRAINT_FAILED, "the value must be a number or NULL, got 'one'"),
    (("a", 1, True), CONSTRAINT_FAILED, "the value must be a number or NULL, got True"),
    (("a", 1, 1.0, 40000), INVALID_VALUE, "short"),
    (("", 1, 1.0), INVALID_VALUE, "tag name"),
])
def test_insert_rows_refuse_the_statement_at_the_first_bad_row(row, code, fragment):
    schema = plant_schema()
    row = row + (None,) * (len(schema.columns) - len(row))
    with pytest.raises(EdgeError) as err:
        insert_rows(schema, [("ok", 1, 1.0) + (None,) * (len(schema.columns) - 3), row], UTC)
    assert err.value.code == code and fragment in err.value.text


def test_append_batch_stores_a_built_batch(table):
    rows = [[f"t{i % 2}", i * S, float(i)] for i in range(6)]
    got = append_rows(rows, table.columns, UTC)
    assert table.append_batch(got.batch) == 6
    assert table.read(["t1"], 0, 10 * S).values.tolist() == [1, 3, 5]


# What goes in must come out the same, or be refused --------------------------------------------

def test_append_rows_refuse_infinity_and_integers_beyond_64_bits_and_keep_the_rest():
    schema = plant_schema()
    pad = (None,) * 5
    rows = [["a", 1, 1.5, *pad],
            ["a", 2, float("inf"), *pad],               # 1e400 in JSON
            ["a", 3, float("-inf"), *pad],
            ["a", 4, 123456789012345678901234567890, *pad],
            ["a", 5, -(2**63) - 1, *pad],
            ["a", 6, 10**5000, *pad],                   # its repr is refused by Python
            ["a", 7, 2**63 - 1, *pad],                   # within 64 bits: the nearest double
            ["a", 8, -(2**63), *pad],
            ["a", 9, 1e300, *pad],                      # a finite double
            ["a", 10, None, *pad],                      # null
            ["a", 11, 1.0, None, 1e300, None, None, None],  # beyond a float extra column's range
            ["a", 12, 1.0, None, float("inf"), None, None, None],
            ["a", 13, 1.0, None, 2**70, None, None, None],
            ["a", 14, 1.0, None, 3.5, None, None, None]]
    got = append_rows(rows, schema.columns, UTC)
    assert got.failures == 8
    assert got.times.tolist() == [1, 7, 8, 9, 10, 14]
    assert got.values[:4].tolist() == [1.5, 2.0**63, -(2.0**63), 1e300] and np.isnan(got.values[4])
    assert got.extras["F"][-1] == 3.5
    assert got.reasons == ["row 1: VALUE must be a finite number within the range of a double, got inf",
                           "row 2: VALUE must be a finite number within the range of a double, got -inf",
                           "row 3: VALUE must be a number or null, got 123456789012345678901234567890: "
                           "an integer beyond 64 bits",
                           "row 4: VALUE must be a number or null, got -9223372036854775809: an integer beyond 64 bits",
                           "row 5: VALUE must be a number or null, got an integer of about 5001 digits: "
                           "an integer beyond 64 bits"]
    rest = append_rows(rows[10:], schema.columns, UTC)
    assert rest.reasons == ["row 0: F must be a finite number within the range of a float, got 1e+300",
                            "row 1: F must be a finite number within the range of a float, got inf",
                            "row 2: F must be a number or null, got 1180591620717411303424: an integer beyond 64 bits"]


def test_append_rows_refuse_a_value_too_large_for_a_double_given_among_other_types():
    # a column of mixed types takes the slow path: the same rules there
    rows = [["a", 1, 10**400, None, None, None, None, None], ["a", 2, "x", None, None, None, None, None],
            ["a", 3, 2.0, None, None, None, None, None]]
    got = append_rows(rows, plant_schema().columns, UTC)
    assert got.failures == 2 and got.values.tolist() == [2.0]
    assert got.reasons[0] == "row 0: VALUE must be a number or null, got an integer of about 401 digits: " \
                             "an integer beyond 64 bits"


@pytest.mark.parametrize("value, extra, code, fragment", [
    (float("inf"), None, CONSTRAINT_FAILED, "Table PLANT: the value must be a finite number or NULL, got inf"),
    (float("-inf"), None, CONSTRAINT_FAILED, "Table PLANT: the value must be a finite number or NULL, got -inf"),
    (1.0, float("inf"), INVALID_VALUE, "Column F must be finite numbers within the range of a float"),
    (1.0, 1e300, INVALID_VALUE, "Column F must be finite numbers within the range of a float"),
])
def test_insert_rows_refuse_infinity_in_the_value_and_in_float_columns(value, extra, code, fragment):
    schema = plant_schema()
    with pytest.raises(EdgeError) as err:
        insert_rows(schema, [("a", 1, 1.0, None, 2.0, None, None, None),
                             ("a", 2, value, None, extra, None, None, None)], UTC)
    assert err.value.code == code and fragment in err.value.text


def test_prepare_and_prepare_by_tag_refuse_infinity_and_keep_nan_as_null():
    schema = plant_schema()
    batch = prepare(schema, ["a", "a"], [1, 2], [1.0, np.nan], None)
    assert batch.values[0] == 1.0 and np.isnan(batch.values[1])
    with pytest.raises(EdgeError) as err:
        prepare(schema, ["a", "a"], [1, 2], [1.0, np.inf], None)
    assert err.value.code == INVALID_VALUE and "got inf" in err.value.text
    with pytest.raises(EdgeError) as err:
        prepare(schema, ["a"], [1], [1.0], {"f": [np.float64(-np.inf)]})
    assert err.value.code == INVALID_VALUE and "Column F" in err.value.text
    assert np.isnan(prepare_by_tag(schema, ["a"], [np.array([1, 2])], [np.array([np.nan, 2.0])]).values[0])
    with pytest.raises(EdgeError) as err:
        prepare_by_tag(schema, ["a", "b"], [np.array([1]), np.array([1])], [np.array([1.0]), np.array([-np.inf])])
    assert err.value.code == INVALID_VALUE and "got -inf" in err.value.text
