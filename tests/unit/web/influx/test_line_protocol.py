"""The line-protocol grammar, one group of vectors per rule (InfluxDB 1.x's documentation)."""

import numpy as np
import pytest

from edge.web.influx.line_protocol import parse_body

NOW = 1_700_000_000_123_456_789


def points(body: str, precision: str = "", max_name_bytes: int = 200):
    parsed = parse_body(body, NOW, precision, max_name_bytes)
    return list(zip(parsed.names, parsed.times.tolist(), parsed.values.tolist())), parsed


def only_error(body: str) -> str:
    found, parsed = points(body)
    assert found == [] and parsed.bad_line_count == 1
    return parsed.bad_lines[0].reason


# -- sections and timestamps -----------------------------------------------------------------

def test_one_field_with_timestamp_is_one_point():
    assert points("cpu value=1.5 1000")[0] == [("cpu.value", 1000, 1.5)]


def test_line_without_timestamp_gets_the_receive_time_for_every_line():
    found, _ = points("a v=1\nb v=2")
    assert found == [("a.v", NOW, 1.0), ("b.v", NOW, 2.0)]


@pytest.mark.parametrize("precision, scale", [("", 1), ("n", 1), ("ns", 1), ("u", 1_000), ("ms", 1_000_000),
                                              ("s", 10**9), ("m", 60 * 10**9), ("h", 3600 * 10**9)])
def test_precision_scales_the_timestamp_to_nanoseconds(precision, scale):
    assert points("m v=1 7", precision)[0] == [("m.v", 7 * scale, 1.0)]


def test_negative_timestamps_are_before_1970():
    assert points("m v=1 -5", "s")[0] == [("m.v", -5 * 10**9, 1.0)]


@pytest.mark.parametrize("timestamp", ["12a", "1.5", "1e9", "--1", "9223372036854775808"])
def test_bad_timestamps_refuse_the_line(timestamp):
    assert only_error(f"m v=1 {timestamp}").startswith("bad timestamp")


def test_timestamp_beyond_int64_after_precision_is_refused():
    found, parsed = points("m v=1 9223372036854775", "ms")
    assert found == [] and "time outside range" in parsed.bad_lines[0].reason


def test_whitespace_between_sections_tabs_and_crlf():
    assert points("m  v=1 \t 3\r\n")[0] == [("m.v", 3, 1.0)]


def test_blank_and_comment_lines_are_skipped():
    found, parsed = points("\n# a comment v=1\n   \nm v=2 1\n#\n")
    assert found == [("m.v", 1, 2.0)] and parsed.lines == 1 and parsed.bad_line_count == 0


# -- field types -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("1", 1.0), ("-1.5", -1.5), ("2e-3", 0.002), ("1E5", 1e5), (".5", 0.5),
                                         ("1.", 1.0), ("+3", 3.0), ("0", 0.0)])
def test_floats(text, value):
    assert points(f"m v={text} 1")[0] == [("m.v", 1, value)]


@pytest.mark.parametrize("text, value", [("1i", 1.0), ("-42i", -42.0), ("9223372036854775807i", 2.0**63),
                                         ("-9223372036854775808i", -(2.0**63)), ("0u", 0.0),
                                         ("18446744073709551615u", 2.0**64)])
def test_integers_and_unsigned_become_doubles(text, value):
    assert points(f"m v={text} 1")[0] == [("m.v", 1, value)]


@pytest.mark.parametrize("text", ["9223372036854775808i", "-9223372036854775809i", "18446744073709551616u"])
def test_integers_out_of_range_refuse_the_line(text):
    assert "out of range" in only_error(f"m v={text} 1")


@pytest.mark.parametrize("text", ["-1u", "1.5i", "i", "u", "1_000i", "0x10i"])
def test_malformed_integers_refuse_the_line(text):
    assert "invalid" in only_error(f"m v={text} 1")


@pytest.mark.parametrize("text", ["t", "T", "true", "True", "TRUE"])
def test_true_is_one(text):
    assert points(f"m v={text} 1")[0] == [("m.v", 1, 1.0)]


@pytest.mark.parametrize("text", ["f", "F", "false", "False", "FALSE"])
def test_false_is_zero(text):
    assert points(f"m v={text} 1")[0] == [("m.v", 1, 0.0)]


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Inf", "1e999", "tRuE", "yes", "1_0", "1-2", "."])
def test_what_is_no_value_refuses_the_line(text):
    assert only_error(f"m v={text} 1").startswith("invalid")


def test_strings_are_skipped_and_counted_numbers_beside_them_stored():
    found, parsed = points('m s="text",v=2,t="x" 1')
    assert found == [("m.v", 1, 2.0)] and parsed.strings_skipped == 2


def test_a_line_of_strings_only_stores_nothing_and_is_no_error():
    found, parsed = points('m s="a" 1')
    assert found == [] and parsed.strings_skipped == 1 and parsed.bad_line_count == 0


def test_string_with_escaped_quote_comma_space_equals_and_newline():
    body = 'm s="a \\"q\\", b=c\nnext line",v=1 2\nn v=3 4'
    found, parsed = points(body)
    assert found == [("m.v", 2, 1.0), ("n.v", 4, 3.0)] and parsed.strings_skipped == 1


def test_unterminated_string_refuses_the_line():
    found, parsed = points('m s="open,v=1 2')
    assert found == [] and parsed.bad_lines[0].reason in ("unbalanced quotes", "invalid field format")


def test_empty_string_is_a_string():
    found, parsed = points('m s="",v=1 2')
    assert found == [("m.v", 2, 1.0)] and parsed.strings_skipped == 1


# -- structure errors ------------------------------------------------------------------------

@pytest.mark.parametrize("line, reason", [
    ("cpu", "missing fields"),
    ("cpu,host=a", "missing fields"),
    ("cpu v", "missing field value"),
    ("cpu v=", "missing field value"),
    ("cpu =1", "missing field key"),
    ("cpu v=1,", "missing field"),
    ("cpu,host v=1", "missing tag value"),
    ("cpu,host= v=1", "missing tag value"),
    ("cpu,=a v=1", "missing tag key"),
    ("cpu,,host=a v=1", "missing tag key"),
    (",host=a v=1", "missing measurement"),
    ("cpu,host=a,host=b v=1", "duplicate tags"),
    ("cpu v=1 1 extra", "bad timestamp"),
])
def test_structure_errors_name_the_rule(line, reason):
    assert only_error(line).startswith(reason)


def test_bad_line_reports_number_and_text_and_good_lines_stand():
    found, parsed = points("a v=1 1\nbroken\nb v=2 2\nc v=x 3")
    assert found == [("a.v", 1, 1.0), ("b.v", 2, 2.0)]
    assert parsed.bad_line_count == 2
    assert [(b.number, b.text) for b in parsed.bad_lines] == [(2, "broken"), (4, "c v=x 3")]
    assert parsed.bad_lines[0].describe() == "unable to parse 'broken': missing fields"


def test_name_longer_than_the_name_column_refuses_the_line():
    found, parsed = points("m v=1 1\n" + "x" * 20 + " v=1 1", max_name_bytes=10)
    assert found == [("m.v", 1, 1.0)] and "longer than 10 bytes" in parsed.bad_lines[0].reason


# -- escapes and tag names ---------------------------------------------------------------------

def test_tags_are_sorted_into_the_name_so_one_series_is_one_tag():
    found, _ = points("cpu,region=eu,host=a usage=1,idle=2 1\ncpu,host=a,region=eu usage=3 2")
    assert found == [("cpu.host=a.region=eu.usage", 1, 1.0), ("cpu.host=a.region=eu.idle", 1, 2.0),
                     ("cpu.host=a.region=eu.usage", 2, 3.0)]


def test_escaped_comma_and_space_in_measurement():
    assert points("my\\ cpu\\,x v=1 1")[0] == [("my cpu,x.v", 1, 1.0)]


def test_escaped_comma_equals_space_in_tag_key_and_value():
    found, _ = points("m,t\\ k\\=1=v\\,a\\ b\\=c f=1 1")
    assert found == [("m.t k\\=1=v,a b=c.f", 1, 1.0)]


def test_escaped_comma_equals_space_in_field_key():
    assert points("m f\\ a\\,b\\=c=1 1")[0] == [("m.f a,b=c", 1, 1.0)]


def test_dot_and_backslash_in_field_key_are_escaped_in_the_name():
    found, _ = points("m a.b=1,c\\d=2 1")
    assert [n for n, _, _ in found] == ["m.a\\.b", "m.c\\\\d"]


def test_backslash_before_other_characters_is_itself():
    assert points("m\\x,t=a\\b v=1 1")[0] == [("m\\\\x.t=a\\\\b.v", 1, 1.0)]


def test_equals_sign_in_measurement_is_plain():
    assert points("a=b v=1 1")[0] == [("a=b.v", 1, 1.0)]


def test_dots_in_measurement_and_tags_are_escaped_in_the_name():
    assert points("sys.cpu,dc=eu.1 v=1 1")[0] == [("sys\\.cpu.dc=eu\\.1.v", 1, 1.0)]


def test_unicode_names_and_values():
    assert points("température,lieu=Zürich °C=21.5 1")[0] == [("température.lieu=Zürich.°C", 1, 21.5)]


def test_many_lines_keep_order_and_types():
    body = "\n".join(f"m,h=h{i % 3} v={i}i,w={i}.5 {i}" for i in range(1000))
    parsed = parse_body(body, NOW, "s", 80)
    assert len(parsed.names) == 2000
    assert np.array_equal(parsed.times[::2], np.arange(1000) * 10**9)
    assert np.array_equal(parsed.values[1::2], np.arange(1000) + 0.5)
    assert parsed.names[2] == "m.h=h1.v"


# -- the bulk path for plain bodies gives what the line-by-line path gives --------------------

def line_by_line(body: str, precision: str = "", max_name_bytes: int = 200):
    from unittest import mock

    with mock.patch("edge.web.influx.line_protocol._parse_plain", return_value=None):
        return parse_body(body, NOW, precision, max_name_bytes)


def same(a, b) -> bool:
    return (a.names == b.names and a.times.tolist() == b.times.tolist() and a.values.tolist() == b.values.tolist()
            and (a.lines, a.strings_skipped, a.bad_line_count) == (b.lines, b.strings_skipped, b.bad_line_count))


def test_one_series_written_with_its_tags_in_two_orders_keeps_the_order_written():
    body = "cpu,a=1,b=2 v=1 10\ncpu,b=2,a=1 v=2 5\ncpu,a=1,b=2 v=3 20"
    parsed = parse_body(body, NOW, "", 200)
    assert parsed.tags == ["cpu.a=1.b=2.v"]
    tags, times, values = parsed.by_tag()
    assert times[0].tolist() == [10, 5, 20] and values[0].tolist() == [1.0, 2.0, 3.0]
    assert same(parsed, line_by_line(body))


def test_random_plain_bodies_read_alike_in_bulk_and_line_by_line():
    import random

    rng = random.Random(5)
    values = ["1", "-2.5", "3i", "-4i", "1e3", "t", "F", "7u", "0.125", "9007199254740993i", "+2"]
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(1, 12)):
            tags = "".join(f",{k}={rng.choice('xyz')}" for k in rng.sample("abc", rng.randint(0, 3)))
            fields = ",".join(f"{rng.choice('fgh')}={rng.choice(values)}" for _ in range(rng.randint(1, 3)))
            stamp = f" {rng.randint(-5, 10**12)}" if rng.random() < 0.9 else ""
            lines.append(f"m{rng.randint(0, 2)}{tags} {fields}{stamp}")
        body = "\n".join(lines) + rng.choice(["", "\n"])
        assert same(parse_body(body, NOW, "ms", 200), line_by_line(body, "ms")), body


def test_random_bodies_read_alike_by_byte_columns_and_line_by_line():
    """The byte-column path (values, timestamps and keys read for the whole body at once)
    against the line-by-line path, on bodies near its edges: numbers of 15 digits and more,
    signs, points, 19-digit and negative timestamps, dots and equals signs in names."""
    import random

    rng = random.Random(17)
    values = ["0", "-0", "-0.0", "007", "1.", ".5", "1.5i", "123456789012345", "1234567890123456",
              "-999999999999999i", "9223372036854775807i", "9223372036854775808i", "0.000000000000001",
              "12345.678901234", "-93.7933501283353", "9.79335012833", "1e-3", "TRUE", "f", "1u", "-", "--1", "1-2", "1.2.3", "i", "nan", "x"]
    stamps = ["1700000000123456789", "-1700000000123456789", "9223372036854775807", "9223372036854775808",
              "0", "-0", "00012", "+5", "-", "12a", "99999999999999999999"]
    for _ in range(400):
        lines = []
        with_stamps = rng.random() < 0.8
        for _ in range(rng.randint(1, 10)):
            tags = "".join(f",{k}={rng.choice(['x', 'y.z', 'a=b', '1'])}" for k in rng.sample("abc", rng.randint(0, 3)))
            fields = ",".join(f"{rng.choice(['f', 'g.h', 'f'])}={rng.choice(values)}" for _ in range(rng.randint(1, 3)))
            stamp = rng.choice(stamps) if rng.random() < 0.2 else str(rng.randint(-10**18, 10**18))
            stamp = f" {stamp}" if with_stamps else ""
            lines.append(f"{rng.choice(['m', 'm.n', 'm=n'])}{tags} {fields}{stamp}")
        body = "\n".join(lines) + rng.choice(["", "\n"])
        for precision in ("", "ms"):
            assert same(parse_body(body, NOW, precision, 200), line_by_line(body, precision)), body
