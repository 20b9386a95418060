"""The shape-by-shape reading of plain bodies (edge.web.influx.shapes) and its 8-byte word
readers (edge.web.influx.words): the same points as the line-by-line reading, numbers
exactly as Python's float and int read them."""

import random
import struct
from unittest import mock

import numpy as np
import pytest

from edge.web.influx import words
from edge.web.influx.line_protocol import PRECISIONS, parse_body
from edge.web.influx.shapes import parse_shapes

NOW = 1_700_000_000_123_456_789


def shaped(body: str, precision: str = "", max_name_bytes: int = 200):
    return parse_shapes(body, NOW, PRECISIONS[precision], max_name_bytes)


def line_by_line(body: str, precision: str = "", max_name_bytes: int = 200):
    with mock.patch("edge.web.influx.line_protocol._parse_plain", return_value=None):
        return parse_body(body, NOW, precision, max_name_bytes)


def same(a, b) -> bool:
    return (a.names == b.names and a.times.tolist() == b.times.tolist()
            and [struct.pack("<d", v) for v in a.values.tolist()] == [struct.pack("<d", v) for v in b.values.tolist()]
            and (a.lines, a.strings_skipped, a.bad_line_count) == (b.lines, b.strings_skipped, b.bad_line_count))


def padded(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texts joined by commas after PAD zero bytes, and their ranges in the body."""
    body = ",".join(texts).encode()
    out = np.zeros(words.PAD + len(body), np.uint8)
    out[words.PAD:] = np.frombuffer(body, np.uint8)
    lengths = np.array([len(t) for t in texts])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    return out, starts, starts + lengths


# -- the word readers ---------------------------------------------------------------------------

def test_digits_read_every_length_up_to_19_and_refuse_anything_else():
    rng = random.Random(3)
    texts = ["", "0", "7", "00012", "12345678", "123456789", "9999999999999999999", "1000000000000000000",
             "12345678901234567890", "1a", "a1", "-1", "+1", " 1", "1.5", "9:", "0/", "/", ":"]
    texts += [str(rng.randint(0, 10 ** rng.randint(0, 19) - 1)).zfill(rng.randint(0, 3)) for _ in range(3000)]
    body, starts, stops = padded(texts)
    numbers, ok = words.digits(words.loads(body), starts, stops)
    for text, number, good in zip(texts, numbers.tolist(), ok.tolist()):
        assert good == (text == "" or (text.isdigit() and len(text) <= 19)), text
        if good:
            assert number == (int(text) if text else 0), text


def test_texts_tell_every_two_different_ranges_apart():
    rng = random.Random(4)
    texts = ["a", "ab", "ba", "abcdefgh", "abcdefghi", "bcdefghi", "x" * 24, "x" * 23, "y" + "x" * 23]
    texts += ["".join(rng.choice("ab=.") for _ in range(rng.randint(1, 24))) for _ in range(3000)]
    body, starts, stops = padded(texts)
    rows = words.texts(words.loads(body), starts, stops, 3)
    seen: dict[tuple, str] = {}
    for text, row in zip(texts, map(tuple, rows.tolist())):
        assert seen.setdefault(row, text) == text


# -- numbers: what float() gives, to the bit ---------------------------------------------------

def number_texts(rng: random.Random, count: int) -> list[str]:
    texts = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 17)))
        point = rng.randint(0, len(digits))
        text = digits[:point] + "." + digits[point:] if rng.random() < 0.8 else digits
        texts.append(("-" if rng.random() < 0.3 else "") + text)
    return texts


HARD = ["0", "-0", "0.0", "-0.0", "0.", ".5", "-.5", "1.", "-1.", "0.1", "0.3", "2.675", "1.005", "9.995",
        "123456789012345", "1234567890123456", "12345678901234567", "-999999999999999", "0.000000000000001",
        "0.0000000000000001", "12345.678901234", "-93.7933501283353", "9007199254740993", "9007199254740992.5",
        "4.35", "0.5000000000000001", "99999999999999.9", "999999999999999.9", "1e3", "-2E-3", "+2", "+.5",
        "95.62814070351759", "-1234567890123456789", "9999999999999999999", "12345678901234567890.5",
        "0.30000000000000004", "1.7976931348623157", "2.2250738585072014"]


def test_decimals_of_the_shape_path_are_the_doubles_float_gives():
    texts = HARD + number_texts(random.Random(11), 4000)
    body = "".join(f"m v={t} {i}\n" for i, t in enumerate(texts))
    parsed = shaped(body)
    assert parsed is not None
    expected = [struct.pack("<d", float(t)) for t in texts]
    assert [struct.pack("<d", v) for v in parsed.values.tolist()] == expected


def test_integers_of_the_shape_path_are_the_doubles_of_the_integers():
    rng = random.Random(12)
    texts = ["0i", "-0i", "1i", "-1i", "9007199254740993i", "9223372036854775807i", "-9223372036854775808i",
             "000123i", "123456789012345i", "1234567890123456i"]
    texts += [f"{rng.choice(['', '-'])}{rng.randint(0, 10 ** rng.randint(1, 18))}i" for _ in range(2000)]
    body = "".join(f"m v={t} {i}\n" for i, t in enumerate(texts))
    parsed = shaped(body)
    assert parsed is not None
    assert [struct.pack("<d", v) for v in parsed.values.tolist()] == [struct.pack("<d", float(int(t[:-1])))
                                                                      for t in texts]


@pytest.mark.parametrize("value", ["1.2.3", "1.5i", "-", ".", "i", "-i", "1-2", "--1", "nan", "inf", "1e999",
                                   "9223372036854775808i", "x", "1u2"])
def test_a_bad_value_leaves_the_body_to_the_line_by_line_path(value):
    body = f"m v=1 1\nm v={value} 2\n"
    assert shaped(body) is None
    assert same(parse_body(body, NOW, "", 200), line_by_line(body))
    assert parse_body(body, NOW, "", 200).bad_line_count == 1


# -- bodies -------------------------------------------------------------------------------------

def telegraf_body(rng: random.Random, lines: int, stamps: bool = True) -> str:
    """Lines of three measurements (three shapes), hosts as tags, float, integer, boolean and
    unsigned fields, the tags now and then in another order."""
    out = []
    for i in range(lines):
        host = f"h{rng.randint(0, 9)}"
        kind = rng.randint(0, 2)
        if kind == 0:
            tags = f"host={host},cpu=cpu{rng.randint(0, 1)}" if rng.random() < 0.9 else f"cpu=cpu0,host={host}"
            line = f"cpu,{tags} usage_idle={rng.uniform(0, 100):.{rng.randint(0, 12)}f},usage_user=-{rng.random():.3f}"
        elif kind == 1:
            line = f"mem,host={host} used={rng.randint(0, 2**40)}i,free={rng.randint(0, 2**40)}u,ok={rng.choice('tF')}"
        else:
            line = f"system,host={host} load1={rng.randint(0, 99)}.{rng.randint(0, 99):02d}"
        out.append(line + (f" {1_600_000_000 + i // 7}" if stamps else ""))
    return "\n".join(out) + rng.choice(["", "\n"])


def test_telegraf_like_bodies_take_the_shape_path_and_read_as_line_by_line():
    rng = random.Random(21)
    for _ in range(60):
        body = telegraf_body(rng, rng.randint(1, 300), stamps=rng.random() < 0.8)
        for precision in ("", "s", "ms"):
            parsed = shaped(body, precision)
            assert parsed is not None, body
            assert same(parsed, line_by_line(body, precision)), body
            assert same(parse_body(body, NOW, precision, 200), parsed)


def test_fields_of_a_series_share_its_times_in_the_store_and_come_grouped():
    body = "cpu,host=a x=1,y=2 10\ncpu,host=b x=3,y=4 20\ncpu,host=a x=5,y=6 30\n"
    parsed = shaped(body)
    tags, times, values = parsed.by_tag()
    assert tags == ["cpu.host=a.x", "cpu.host=b.x", "cpu.host=a.y", "cpu.host=b.y"]
    assert [t.tolist() for t in times] == [[10, 30], [20], [10, 30], [20]]
    assert [v.tolist() for v in values] == [[1.0, 5.0], [3.0], [2.0, 6.0], [4.0]]
    assert times[2] is times[0] and times[3] is times[1]  # one array: the log writes it once


def test_one_series_in_two_tag_orders_is_one_series_in_the_order_written():
    body = "cpu,a=1,b=2 v=1 10\ncpu,b=2,a=1 v=2 5\ncpu,a=1,b=2 v=3 20"
    parsed = shaped(body)
    assert parsed.tags == ["cpu.a=1.b=2.v"]
    assert parsed.by_tag()[1][0].tolist() == [10, 5, 20]


@pytest.mark.parametrize("body", [
    "m f=1 1\nm g=2 2",  # one shape, two field keys in one column: the old byte columns take it
    "m v=1 1\nm v=2,w=3 2",  # tag m.v in two shapes
    "m v=1,v=2 1",  # one key twice in a line
    "m  v=1 1", "m v=1  1", " m v=1 1", "m v=1 1 ", "m v=1\n\nm v=2",  # blanks: the other paths
    "m,t= v=1 1", "m,=x v=1 1", ",t=x v=1 1", "m =1 1", "m v= 1", "m v=1,", "m v=1 -",
    "m,t=a=b v=1 1", "m v=1 1 2", "m v=1\tv=2 1", "m v=1 1\r\n", "m v=\"s\" 1", "m\\ n v=1 1", "# c\nm v=1 1",
    "m v=1 9223372036854775808", "m v=1 99999999999999999999", "m v=1 +5", "m v=1 1a",
    "température v=1 1",
])
def test_what_the_shape_path_does_not_take_reads_as_line_by_line(body):
    assert shaped(body, "ms") is None
    assert same(parse_body(body, NOW, "ms", 200), line_by_line(body, "ms"))


def test_a_name_longer_than_the_name_column_leaves_the_body_to_the_line_by_line_path():
    body = "measurement,host=abcdef value=1 1"
    assert shaped(body, max_name_bytes=len("measurement.host=abcdef.value")) is not None
    assert shaped(body, max_name_bytes=len("measurement.host=abcdef.value") - 1) is None
    parsed = parse_body(body, NOW, "", len("measurement.host=abcdef.value") - 1)
    assert parsed.bad_line_count == 1 and not parsed.tags


def test_timestamps_at_the_ends_of_int64_after_precision():
    body = "m v=1 9223372036854775807\nm v=2 -9223372036854775807\nm v=3 -0\nm v=4 0000000000000000001"
    assert shaped(body).times.tolist() == [2**63 - 1, -(2**63) + 1, 0, 1]
    assert shaped("m v=1 9223372036854775", "ms") is None  # beyond int64 in ns: the line is refused
    assert parse_body("m v=1 9223372036854775", NOW, "ms", 200).bad_line_count == 1
    assert shaped("m v=1 -9223372036854775", "ms") is None


def test_decimals_of_16_to_19_digits_are_the_doubles_float_gives_midpoints_included():
    """Read in 64-bit extended precision then rounded to a double; a quotient that lands on a
    midpoint between two doubles (2^53 + 1, say) is read by float."""
    rng = random.Random(13)
    texts = [repr(rng.uniform(0, 10 ** rng.randint(0, 6))) for _ in range(3000)]
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(16, 19)))
        point = rng.randint(0, len(digits))
        texts.append(digits[:point] + "." + digits[point:] if len(digits) <= 18 else digits)
    texts += [str(2**53 + 2 * rng.randint(0, 2**40) + 1) for _ in range(300)]  # midpoints
    texts += ["9007199254740993", "9007199254740993.0", "4503599627370497.5", "0.30000000000000004"]
    texts = [("-" if rng.random() < 0.3 else "") + t for t in texts if "e" not in t]
    parsed = shaped("".join(f"m v={t} 1\n" for t in texts))
    assert parsed is not None
    assert [struct.pack("<d", v) for v in parsed.values.tolist()] == [struct.pack("<d", float(t)) for t in texts]
