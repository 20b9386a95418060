"""Machbase result-set text: exact decimals, nulls, fetch modes, escaping, many rows."""

import json

import numpy as np
import pytest

from edge.time.dateformat import format_time
from edge.time.timezone import TimeZone
from edge.web.machbase import json_body as machbase_json
from edge.web.machbase.format import Coded, Column, Nullable, OutputOptions, result_set, status

SEOUL = TimeZone("Asia/Seoul")
KEY_COLUMNS = [Column.of("NAME", "varchar", 20), Column.of("TIME", "datetime"), Column.of("VALUE", "double")]
T0 = 1_000_000_001 * 10**9  # 2001-09-09 10:46:41 in Seoul


def numbers_text(values, scale) -> str:
    return machbase_json.join_rows(machbase_json.decimals(np.array(values, dtype=float), scale), len(values)).decode()


def test_doubles_print_with_exactly_scale_decimals():
    assert numbers_text([8001, 0, 1.5, -2.25, 1e10], 3) == "8001.000,0.000,1.500,-2.250,10000000000.000"
    assert numbers_text([12345, 1234.012345], 5) == "12345.00000,1234.01235"
    assert numbers_text([8001.4, 2.5, -0.4], 0) == "8001,2,-0"


def test_decimals_agree_with_printf_over_random_values():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0, 1, 5000) * 10.0 ** rng.integers(-12, 16, 5000),
                             np.arange(-2000, 2000) / 1000 + 0.0005,  # the decimal ties binary cannot hold
                             np.arange(-1000, 1000) / 8,  # the ties it can: rounded to even
                             [0.0195, 2.675, 1.0005, 4503599627370497.0, 2.0**52 + 0.5]])
    for scale in (0, 1, 3, 6, 9):
        expected = ",".join("%.*f" % (scale, v) for v in values)
        assert numbers_text(values, scale) == expected


def test_nan_and_infinity_print_null_and_huge_values_print_exactly():
    assert numbers_text([np.nan, np.inf, -np.inf, 1e30], 2) == "null,null,null,%.2f" % 1e30


def test_integers_print_plain():
    text = machbase_json.join_rows(machbase_json.integers(np.array([0, 7, -12, 2**63 - 1])), 4)
    assert text == b"0,7,-12,9223372036854775807"


def test_result_set_shape_matches_machbase():
    body = result_set(KEY_COLUMNS, [["tag-1", "tag-1"], np.array([T0, T0 + 100 * 10**9]), np.array([8001.0, 8101.0])],
                      OutputOptions(SEOUL))
    assert b'"VALUE":8001.000' in body
    parsed = json.loads(body)
    assert list(parsed) == ["error_code", "error_message", "columns", "timezone", "data"]
    assert parsed["columns"] == [{"name": "NAME", "type": 5, "length": 20}, {"name": "TIME", "type": 6, "length": 31},
                                 {"name": "VALUE", "type": 20, "length": 17}]
    assert parsed["timezone"] == "+0900"
    assert parsed["data"] == [{"NAME": "tag-1", "TIME": "2001-09-09 10:46:41 000:000:000", "VALUE": 8001},
                              {"NAME": "tag-1", "TIME": "2001-09-09 10:48:21 000:000:000", "VALUE": 8101}]


def test_fetch_mode_one_gives_rows_as_arrays_with_date_format_and_scale():
    body = result_set(KEY_COLUMNS, [Coded(["a", "b"], np.array([1, 0])), np.array([T0, T0]), np.array([1.23456, 2])],
                      OutputOptions(SEOUL, "YYYY/MM/DD", fetch_mode=1, scale=2))
    assert json.loads(body)["data"] == [["b", "2001/09/09", 1.23], ["a", "2001/09/09", 2.0]]
    assert b"2.00]" in body


def test_nulls_in_every_kind_of_column():
    columns = [Column.of("s", "varchar", 5), Column.of("t", "datetime"), Column.of("n", "long"),
               Column.of("d", "double")]
    body = result_set(columns, [["x", None], Nullable(np.array([T0, 0]), np.array([False, True])),
                                Nullable(np.array([3, 0]), np.array([False, True])), np.array([np.nan, 1])],
                      OutputOptions(SEOUL))
    assert json.loads(body)["data"] == [{"s": "x", "t": "2001-09-09 10:46:41 000:000:000", "n": 3, "d": None},
                                        {"s": None, "t": None, "n": None, "d": 1.0}]


def test_text_and_format_literals_are_json_escaped():
    body = result_set(KEY_COLUMNS, [['quote " back \\ new\nline', "한글"], np.array([T0, T0]), np.array([1.0, 2.0])],
                      OutputOptions(SEOUL, 'YYYY"\\MM'))
    data = json.loads(body)["data"]
    assert data[0]["NAME"] == 'quote " back \\ new\nline' and data[1]["NAME"] == "한글"
    assert data[0]["TIME"] == '2001"\\09'


def test_empty_result_set_has_empty_data():
    body = result_set(KEY_COLUMNS, [[], np.zeros(0, np.int64), np.zeros(0)], OutputOptions(SEOUL))
    assert json.loads(body)["data"] == []


def test_many_rows_cross_chunk_boundaries_intact():
    n = machbase_json.CHUNK_ROWS * 2 + 17
    names = Coded(["tag-a", "tag-bb"], np.arange(n) % 2)
    times = T0 + np.arange(n, dtype=np.int64) * 1_000_000
    values = np.arange(n) * 0.25
    data = json.loads(result_set(KEY_COLUMNS, [names, times, values], OutputOptions(SEOUL, fetch_mode=1)))["data"]
    assert len(data) == n
    assert data[-1] == ["tag-a" if (n - 1) % 2 == 0 else "tag-bb", format_time(int(times[-1]), SEOUL),
                        (n - 1) * 0.25]
    assert [row[2] for row in data[:5]] == [0, 0.25, 0.5, 0.75, 1.0]
    assert data[machbase_json.CHUNK_ROWS][0] == "tag-a"


def test_status_answer_keeps_field_order():
    assert list(status(SEOUL, effect_rows="3")) == ["error_code", "error_message", "timezone", "effect_rows", "data"]
    assert status(SEOUL, data=[], append_success=1, append_failure=0)["append_success"] == 1


@pytest.mark.parametrize("type_name, code, length", [("short", 4, 6), ("integer", 8, 11), ("long", 12, 20),
                                                     ("float", 16, 17), ("double", 20, 17), ("datetime", 6, 31),
                                                     ("ipv4", 32, 15)])
def test_column_headers_use_machbase_type_codes(type_name, code, length):
    assert Column.of("c", type_name).header() == {"name": "c", "type": code, "length": length}


@pytest.mark.parametrize("rows", [1, 5, 33, 300])
@pytest.mark.parametrize("long_text", [False, True])
def test_fixed_width_and_gathered_text_print_the_same_rows(rows, long_text):
    # Short text is padded and joined by numpy's string functions; a long value sends the
    # whole result through the gathering path: both must print exactly these rows.
    rng = np.random.default_rng(rows)
    texts = [None if i % 7 == 3 else ("ü\"\\x" * (90 if long_text and i == 1 else 1)) + str(i) for i in range(rows)]
    names = Coded(["tag-a", None, "tag-ccc"], np.arange(rows) % 3)
    numbers = rng.normal(0, 1000, rows)
    numbers[::5] = np.nan
    longs = Nullable(rng.integers(-2**63, 2**63 - 1, rows), np.arange(rows) % 4 == 0)
    times = Nullable(T0 + np.arange(rows, dtype=np.int64) * 10**9, np.arange(rows) % 6 == 5)
    columns = [Column.of("N", "varchar", 20), Column.of("T", "varchar", 400), Column.of("D", "double"),
               Column.of("L", "long"), Column.of("W", "datetime")]
    for mode in (0, 1):
        body = result_set(columns, [names, texts, numbers, longs, times], OutputOptions(SEOUL, fetch_mode=mode, scale=2))
        data = json.loads(body)["data"]
        expected = []
        for i in range(rows):
            row = [names.distinct[i % 3], texts[i], None if np.isnan(numbers[i]) else float("%.2f" % numbers[i]),
                   None if i % 4 == 0 else int(longs.values[i]),
                   None if i % 6 == 5 else format_time(int(times.values[i]), SEOUL)]
            expected.append(row if mode else dict(zip("NTDLW", row)))
        assert data == expected


def joined_by_hand(pieces, rows, separator, prefix, suffix) -> bytes:
    """join_rows spelled out: each row's pieces one after the other, padding left out."""
    texts = [b"".join(p if isinstance(p, bytes) else bytes(p[i]).rstrip(b"\0") for p in pieces) for i in range(rows)]
    return prefix + separator.join(texts) + suffix


@pytest.mark.parametrize("rows", [1, 4, machbase_json.FEW_ROWS, machbase_json.FEW_ROWS + 1, 1000])
@pytest.mark.parametrize("padding", ["none", "sparse", "dense"])
@pytest.mark.parametrize("separator", [b",", b",\n", b""])
def test_fixed_width_rows_join_byte_for_byte(rows, padding, separator, monkeypatch):
    rng = np.random.default_rng(rows)
    longest = {"none": 5, "sparse": 6, "dense": 40}[padding]
    # Values of 5 characters, padded to the longest: none, one NUL on some rows, or many on all.
    values = [("é" if i % 3 else "a") + "x" * (4 if padding == "none" or i % 4 else longest - 5) for i in range(rows)]
    if padding == "dense":
        values = [v[:int(rng.integers(1, 6))] for v in values]
        values[0] = "y" * longest
    texts = np.array([v.encode() for v in values])
    times = np.array([b'"2001-09-09 10:46:41 000:000:000"'] * rows)
    pieces = [b'{"A":', texts, b',"T":', times, b',"B":', texts[::-1].copy(), b"}"]
    expected = joined_by_hand(pieces, rows, separator, b"[", b"]")
    assert machbase_json.join_rows(pieces, rows, separator, b"[", b"]") == expected
    monkeypatch.setattr(machbase_json, "PASS_BYTES", 700)  # several passes, each ending in a separator
    assert machbase_json.join_rows(pieces, rows, separator, b"[", b"]") == expected


def test_rows_of_literals_alone_repeat_them():
    assert machbase_json.join_rows([b"{", b"}"], 3, b",", b"[", b"]") == b"[{},{},{}]"
    assert machbase_json.join_rows([b"{", b"}"], 0, b",", b"[", b"]") == b"[]"


@pytest.mark.parametrize("rows", [3, 40, 500])
@pytest.mark.parametrize("long_text", [False, True])
def test_signed_decimals_without_nulls_print_as_printf_in_every_join(rows, long_text):
    # Without nulls a double's sign, digits and fraction are separate pieces of the row (a
    # positive value's sign a NUL that the join drops), padded or gathered.
    rng = np.random.default_rng(rows)
    numbers = rng.normal(0, 100, rows)
    numbers[::4] = -0.0
    numbers[1] = -0.0004  # rounds to zero, keeps its sign, as printf does
    texts = ["x" * (300 if long_text and i == 0 else 3) for i in range(rows)]
    columns = [Column.of("T", "varchar", 400), Column.of("D", "double")]
    body = result_set(columns, [texts, numbers], OutputOptions(SEOUL, fetch_mode=1, scale=3))
    printed = body[body.index(b'"data":[') + 8:-2].split(b"],[")
    assert [row.split(b",")[1].rstrip(b"]") for row in printed] == [b"%.3f" % (v + 0.0) for v in numbers]
