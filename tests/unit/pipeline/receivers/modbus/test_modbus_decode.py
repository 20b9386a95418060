"""Modbus decoding against known byte patterns: data types, byte and word order, scale and offset."""

import math
import struct

import numpy as np
import pytest

from edge.pipeline.receivers.modbus.decode import Point, decode_string, decode_words, decoders_for, scaled
from edge.pipeline.receivers.modbus.plan import Span, plan_reads


def words_of(fmt: str, value) -> list[int]:
    """The big-endian registers of `value` packed as struct `fmt`."""
    raw = struct.pack(">" + fmt, value)
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


@pytest.mark.parametrize("data_type, fmt, value", [
    ("int16", "h", -2), ("uint16", "H", 65534), ("int32", "i", -123456), ("uint32", "I", 3_000_000_000),
    ("float32", "f", 12.5), ("float64", "d", math.pi), ("float32", "f", -0.15625), ("int32", "i", 2**31 - 1),
])
def test_big_endian_registers_decode_as_struct_packs_them(data_type, fmt, value):
    assert decode_words([words_of(fmt, value)], data_type).tolist() == [value]


def test_known_patterns_of_the_four_byte_and_word_orders():
    # 12.5 is 0x41480000: ABCD, CDAB (word swap), BADC (byte swap), DCBA (both)
    assert decode_words([[0x4148, 0x0000]], "float32").tolist() == [12.5]
    assert decode_words([[0x0000, 0x4148]], "float32", word_order="little").tolist() == [12.5]
    assert decode_words([[0x4841, 0x0000]], "float32", byte_order="little").tolist() == [12.5]
    assert decode_words([[0x0000, 0x4841]], "float32", byte_order="little", word_order="little").tolist() == [12.5]
    # 0x12345678 as uint32 in CDAB, a float64 1.5 with its least significant word first
    assert decode_words([[0x5678, 0x1234]], "uint32", word_order="little").tolist() == [0x12345678]
    assert decode_words([[0, 0, 0, 0x3FF8]], "float64", word_order="little").tolist() == [1.5]
    assert decode_words([[0x0100]], "uint16", byte_order="little").tolist() == [1]


def test_many_values_decode_at_once():
    matrix = np.array([words_of("i", v) for v in (-1, 0, 70000)], dtype=np.uint16)
    assert decode_words(matrix, "int32").tolist() == [-1, 0, 70000]


def test_strings_are_latin1_without_trailing_nuls():
    assert decode_string([0x4142, 0x3132, 0x0000]) == "AB12"
    assert decode_string([0x4241, 0x3231], byte_order="little") == "AB12"
    assert decode_string([0x4FE9, 0x2000]) == "Oé"


def test_scale_and_offset_keep_whole_numbers_whole_when_nothing_scales():
    values = np.array([10, 20, 30], dtype=np.int64)
    result = scaled(values, np.array([1.0, 0.1, 1.0]), np.array([0.0, 0.0, -40.0]))
    assert result == [10, pytest.approx(2.0), -10.0]
    assert isinstance(result[0], int) and isinstance(result[2], float)
    assert scaled(np.array([1.5]), np.array([2.0]), np.array([0.0])) == [3.0]


def test_a_request_decoder_reads_each_point_from_its_offset():
    points = [
        Point(0, "count", Span(1, "holding", 10, 1), "uint16"),
        Point(0, "temp", Span(1, "holding", 11, 1), "int16", scale=0.1, offset=-40),
        Point(1, "flow", Span(1, "holding", 12, 2), "float32", word_order="little"),
        Point(1, "name", Span(1, "holding", 14, 2), "string"),
        Point(1, "alarm", Span(1, "holding", 16, 1), "bool", bit=3),
        Point(1, "running", Span(1, "holding", 16, 1), "bool"),
        Point(1, "elsewhere", Span(1, "input", 0, 1), "uint16"),
    ]
    [decoder, other] = decoders_for(plan_reads(p.span for p in points), points)
    assert (decoder.request.table, decoder.request.address, decoder.request.count) == ("holding", 10, 7)
    assert [p.field for p in other.points] == ["elsewhere"]
    registers = [7, (-125) & 0xFFFF, *reversed(words_of("f", 2.25)), 0x4F4B, 0x0000, 0b1000]
    found = {point.field: value for point, value in decoder.decode(registers)}
    assert found == {"count": 7, "temp": pytest.approx(-52.5), "flow": 2.25, "name": "OK", "alarm": True,
                     "running": True}


def test_bits_of_coils_decode_as_bools():
    points = [Point(0, "a", Span(1, "coil", 0, 1), "bool"), Point(0, "b", Span(1, "coil", 3, 1), "bool")]
    [decoder] = decoders_for(plan_reads(p.span for p in points), points)
    # pymodbus pads bits to whole bytes: more values than the request asked for
    assert [(p.field, v) for p, v in decoder.decode([True, False, False, False, True, True, True, True])] == \
        [("a", True), ("b", False)]
