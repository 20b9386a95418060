"""Vectorised decimal reading gives exactly what float() gives."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edge.time.decimals import decimals, parse_number_columns
from edge.time.textfields import ByteFields


def columns_of(texts: list[list[str]]):
    """ByteFields and the rows x columns bounds of a small comma-separated table."""
    lines = [",".join(row) for row in texts]
    data = ("\n".join(lines) + "\n").encode()
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends, position = [], [], 0
    for row in texts:
        row_starts, row_ends = [], []
        for cell in row:
            row_starts.append(position)
            position += len(cell.encode())
            row_ends.append(position)
            position += 1
        starts.append(row_starts)
        ends.append(row_ends)
    starts, ends = np.array(starts), np.array(ends)
    return ByteFields(buf, int((ends - starts).max())), starts, ends


def test_random_decimals_match_float_exactly():
    rng = np.random.default_rng(7)
    values = rng.normal(size=5000) * 10.0 ** rng.integers(-6, 10, 5000)
    texts = [[f"{v:.{rng.integers(0, 9)}f}", f"{int(v)}", f"{v:.3e}"] for v in values]
    source, starts, ends = columns_of(texts)
    decimals, integers, exponents = parse_number_columns(source, starts, ends)
    assert decimals[0].tolist() == [float(row[0]) for row in texts]
    assert integers[1] is True and integers[0].tolist() == [float(row[1]) for row in texts]
    assert exponents[0].tolist() == [float(row[2]) for row in texts]


def test_signs_dots_and_missing_words():
    texts = [["-0", "1."], ["+5", "-.5"], ["007", "NA"], ["", "1e3"], ["-12.50", "  7 "]]
    source, starts, ends = columns_of(texts)
    first, second = parse_number_columns(source, starts, ends)
    assert np.array_equal(first[0], [-0.0, 5.0, 7.0, np.nan, -12.5], equal_nan=True)
    assert first[1] is False  # a missing value: float64 with NaN, as pandas reads it
    assert np.array_equal(second[0], [1.0, -0.5, np.nan, 1000.0, 7.0], equal_nan=True)


def test_integral_columns_and_long_numbers():
    texts = [["1", "123456789012345678"], ["-22", "5"]]
    source, starts, ends = columns_of(texts)
    small, large = parse_number_columns(source, starts, ends)
    assert small.integral is True and small.values.tolist() == [1.0, -22.0] and small.unparsed.tolist() == []
    assert large[0].tolist() == [123456789012345678.0, 5.0] and large[1] is False


def test_a_column_of_mostly_numbers_keeps_them_and_names_the_cells_that_are_not():
    texts = [["1", "x"], ["2", "3"], ["1.2.3", "4"], ["NA", "5.5"]]
    source, starts, ends = columns_of(texts)
    first, second = parse_number_columns(source, starts, ends)
    assert np.array_equal(first.values, [1.0, 2.0, np.nan, np.nan], equal_nan=True)
    assert first.unparsed.tolist() == [2] and first.integral is False
    assert np.array_equal(second.values, [np.nan, 3.0, 4.0, 5.5], equal_nan=True)
    assert second.unparsed.tolist() == [0] and second.integral is False


def test_a_column_of_mostly_text_is_text_unless_it_was_numeric_before():
    texts = [["RUN", "x"], ["STOP", "err"], ["7", "1"], ["RUN", "n/a"]]
    source, starts, ends = columns_of(texts)
    assert parse_number_columns(source, starts, ends) == [None, None]
    first, second = parse_number_columns(source, starts, ends, established=[0, 1])
    assert np.array_equal(first.values, [np.nan, np.nan, 7.0, np.nan], equal_nan=True)
    assert first.unparsed.tolist() == [0, 1, 3]
    assert np.array_equal(second.values, [np.nan, np.nan, 1.0, np.nan], equal_nan=True)
    assert second.unparsed.tolist() == [0, 1]  # n/a is a missing value, not an unparsed one
    dates = [["2024-03-10 00:00:00"], ["12-345"], ["2024-03-10 00:00:02"]]  # text that begins like a number
    source, starts, ends = columns_of(dates)
    assert parse_number_columns(source, starts, ends) == [None]


def test_text_first_then_numbers_is_numeric_and_half_is_enough():
    # A sensor that reported errors for its first readings: the sample sees only text.
    texts = [["ERR", "a"]] * 9 + [[str(i), "b" if i % 2 else str(i)] for i in range(9)] + [["", "1"]]
    source, starts, ends = columns_of(texts)
    first, second = parse_number_columns(source, starts, ends)
    assert first.values[9:18].tolist() == [float(i) for i in range(9)]
    assert first.unparsed.tolist() == list(range(9))
    assert second is None  # 6 numbers among 19 values
    half = [["1", "x"], ["y", "2"]]
    source, starts, ends = columns_of(half)
    assert [c.unparsed.tolist() for c in parse_number_columns(source, starts, ends)] == [[1], [0]]


_PLAIN = re.compile(rb"[+-]?(\d*)\.?(\d*)")


@pytest.mark.parametrize("longest", [8, 16, 24])
def test_the_fast_reader_reads_exactly_the_plain_decimals(longest):
    """`decimals` says ok for [+-]digits[.digits] with 1 to 15 digits, and for those gives
    float()'s value; anything else (signs or dots elsewhere, stray characters) is not ok."""
    rng = np.random.default_rng(longest)
    alphabet = np.frombuffer(b"0123456789" * 4 + b"..--+ e,x", dtype=np.uint8)
    texts = []
    for _ in range(6000):
        size = int(rng.integers(1, longest + 1))
        text = alphabet[rng.integers(0, len(alphabet), size)].tobytes()
        if rng.random() < 0.5:  # mostly well formed, with a sign and a dot in the usual places
            digits = bytes(rng.choice(list(b"0123456789"), int(rng.integers(1, min(16, longest - 1)))))
            dot = int(rng.integers(0, len(digits) + 1))
            text = (b"-" if rng.random() < 0.3 else b"") + digits[:dot] + b"." + digits[dot:]
            text = text[:longest]
        texts.append(text)
    source, starts, ends = columns_of([[t.decode()] for t in texts])
    lengths = ends[:, 0] - starts[:, 0]
    values, ok, _ = decimals(source.right_aligned(ends[:, 0], lengths), lengths)
    for text, value, readable in zip(texts, values.tolist(), ok.tolist()):
        match = _PLAIN.fullmatch(text)
        plain = match is not None and 1 <= len(match[1]) + len(match[2]) <= 15
        assert readable == plain, text
        if plain:
            assert value == float(text) and np.signbit(value) == np.signbit(float(text)), text
