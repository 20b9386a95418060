"""Serial lines: framing by terminator, fields by pattern or separator, records with numbers, text and times."""

import datetime as dt

import numpy as np

from edge.pipeline.receivers.serial.lines import MAX_LINE, LineFormat, LineFramer, RecordBuilder


def test_framing_keeps_the_unfinished_rest_for_the_next_read():
    framer = LineFramer(b"\n")
    assert framer.feed(b"ST,GS, 1 kg\r\nUS,") == [b"ST,GS, 1 kg"]
    assert framer.feed(b"GS, 2 kg\r\n\r\n   \n") == [b"US,GS, 2 kg"]  # blank lines are skipped
    assert framer.feed(b"") == []
    etx = LineFramer(b"\x03")
    assert etx.feed(b"\x0212.5\x03\x0213") == [b"\x0212.5"]


def test_a_line_without_terminator_is_cut_at_the_limit():
    framer = LineFramer(b"\n")
    assert framer.feed(b"x" * (MAX_LINE + 1)) == [b"x" * (MAX_LINE + 1)]
    assert framer.feed(b"y\n") == [b"y"]


def test_a_pattern_takes_lines_it_finds_and_names_the_fields():
    fmt = LineFormat({"pattern": r"(?P<status>ST|US),GS,\s*(?P<weight>[-\d.]+)(?P<unit>\s*kg)?"})
    assert fmt.names == ("status", "weight", "unit")
    assert fmt.fields(b"ST,GS,   12.5 kg") == {"status": "ST", "weight": "12.5", "unit": "kg"}
    assert fmt.fields(b">> US,GS,-1") == {"status": "US", "weight": "-1", "unit": ""}
    assert fmt.fields(b"TARE 1") is None


def test_a_separator_takes_lines_with_exactly_its_fields():
    fmt = LineFormat({"separator": ";", "field_names": ["part", "diameter"]})
    assert fmt.fields(b"P-1; 24.998 ") == {"part": "P-1", "diameter": "24.998"}
    assert fmt.fields(b"P-1;24.998;x") is None and fmt.fields(b"P-1") is None
    blanks = LineFormat({"separator": " ", "field_names": ["code", "value"]})
    assert blanks.fields(b"A7    3") == {"code": "A7", "value": "3"}
    latin = LineFormat({"separator": ",", "field_names": ["t", "v"], "encoding": "latin-1"})
    assert latin.fields(b"\xb0C,1") == {"t": "°C", "v": "1"}


def test_numbers_convert_text_stays_and_mixed_fields_are_numeric_with_their_text_reported():
    builder = RecordBuilder("scale", "weight", {})
    received = [1_000, 2_000, 3_000]
    batch, problems = builder.batch(received, [{"w": "12", "s": "ST", "m": "1.5"}, {"w": "13", "s": "US", "m": "ERR"},
                                               {"w": "", "s": "ST", "m": "-2e1"}])
    assert batch.time_field == "timestamp"
    assert batch.fields["timestamp"].view(np.int64).tolist() == received
    assert batch.fields["w"].dtype == np.float64 and batch.fields["w"][:2].tolist() == [12.0, 13.0]
    assert np.isnan(batch.fields["w"][2])
    assert batch.fields["s"].tolist() == ["ST", "US", "ST"]
    m = batch.fields["m"]
    assert m[0] == 1.5 and np.isnan(m[1]) and m[2] == -20.0
    assert problems.text_values == 1
    assert problems.describe() == "1 value(s) that are not numbers left out; 'ERR' in m is not a number"
    whole, _ = builder.batch([1], [{"n": "42"}])
    assert whole.fields["n"].dtype == np.int64


def test_a_time_field_gives_the_record_time_and_unreadable_times_drop_their_line():
    builder = RecordBuilder("gauge", "bore", {"timestamp_field": "t", "timestamp_format": "%d.%m.%Y %H:%M:%S",
                                              "localtz": "Europe/Berlin"})
    batch, problems = builder.batch([0, 0, 0], [{"t": "01.03.2024 08:15:02", "d": "1"}, {"t": "junk", "d": "2"},
                                                {"t": "01.07.2024 08:15:02", "d": "3"}])
    expected = [dt.datetime(2024, 3, 1, 7, 15, 2), dt.datetime(2024, 7, 1, 6, 15, 2)]  # CET, then CEST
    assert batch.time_field == "t"
    assert batch.fields["t"].astype("datetime64[s]").tolist() == expected
    assert batch.fields["d"].tolist() == [1, 3]
    assert problems.dropped_lines == 1 and "'junk' not readable" in problems.describe()
    iso = RecordBuilder("g", "b", {"timestamp_field": "t"})
    batch, problems = iso.batch([0], [{"t": "2024-03-01T08:15:02.5+01:00"}])
    assert batch.fields["t"].astype("datetime64[ms]").tolist() == [dt.datetime(2024, 3, 1, 7, 15, 2, 500000)]
    assert problems.describe() is None
