"""The spreadsheet parser: the FactoryTX parse options, types, quotes, bad lines and chunks."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge.pipeline.parsers.spreadsheet.parser import SpreadsheetParser
from edge.pipeline.parsing import ParserConfigError, Position
from edge.pipeline.parsers.spreadsheet.tokenizer import record_end


def parser(**parse) -> SpreadsheetParser:
    options = {"parse": parse}
    for key in ("localtz", "counter"):
        if key in parse:
            options[key] = parse.pop(key)
    return SpreadsheetParser({"parser_name": "p", "parser_type": "spreadsheet", "filter_stream": ["*"],
                              "options": options})


def utc_ns(*args, tz="UTC") -> int:
    moment = dt.datetime(*args, tzinfo=ZoneInfo(tz))
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) / dt.timedelta(microseconds=1)) * 1000


def parse_all(p: SpreadsheetParser, data: bytes):
    return p.parse(data, Position(), True)


def test_header_types_and_local_timestamps():
    p = parser(parse_timestamps=[{"field_name": "ts", "format": "%Y-%m-%d %H:%M:%S.%f"}],
               localtz="Asia/Ho_Chi_Minh")
    out = parse_all(p, b"ts,temp,count,label\n2024-01-01 07:00:00.25,20.5,3,a\n2024-01-01 07:00:01.5,-1,4,b c\n")
    assert list(out.fields) == ["ts", "temp", "count", "label"]
    assert out.fields["ts"].view(np.int64).tolist() == [utc_ns(2024, 1, 1, 0, 0, 0, 250000),
                                                        utc_ns(2024, 1, 1, 0, 0, 1, 500000)]
    assert out.fields["temp"].dtype == np.float64 and out.fields["temp"].tolist() == [20.5, -1.0]
    assert out.fields["count"].dtype == np.int64 and out.fields["count"].tolist() == [3, 4]
    assert out.fields["label"].tolist() == ["a", "b c"]
    assert out.time_field == "ts" and out.bad_lines == 0
    assert out.position == Position(("ts", "temp", "count", "label"), 0, 2, 3, ("temp", "count"))


def test_bad_lines_are_counted_and_never_stop_the_file():
    p = parser(parse_timestamps=[{"field_name": "ts", "format": "%Y-%m-%d %H:%M:%S"}])
    data = (b"ts,v\n2024-01-01 00:00:00,1\n2024-01-01 00:00:01,2,extra\nyesterday,3\n\n"
            b"2024-01-01 00:00:03\n2024-01-01 00:00:04,5\n2500-01-01 00:00:05,6\n")
    out = parse_all(p, data)
    assert out.fields["v"].tolist()[0] == 1.0 and np.isnan(out.fields["v"][1]) and out.fields["v"][2] == 5.0
    assert out.fields["ts"].view(np.int64).tolist() == [utc_ns(2024, 1, 1, 0, 0, 0), utc_ns(2024, 1, 1, 0, 0, 3),
                                                        utc_ns(2024, 1, 1, 0, 0, 4)]
    assert out.bad_lines == 3
    assert out.bad_examples == ["line 3: expected 2 fields, saw 3",
                                "line 4: ts: 'yesterday' is not a timestamp in layout '%Y-%m-%d %H:%M:%S'",
                                "line 8: ts: '2500-01-01 00:00:05' is out of range: times are kept as 64-bit "
                                "nanoseconds since 1970, so the year must be from 1678 to 2261"]


def test_a_cell_that_is_no_number_keeps_the_column_and_is_reported_by_its_row():
    p = parser(parse_timestamps=[{"field_name": "ts", "format": "%Y-%m-%d %H:%M:%S"}])
    out = parse_all(p, b"ts,temp,state\n2024-01-01 00:00:00,1.5,RUN\n2024-01-01 00:00:01,2,RUN\n"
                       b"2024-01-01 00:00:02,x,STOP\nnot a time,??,RUN\n2024-01-01 00:00:04,4.25,RUN\n")
    assert np.array_equal(out.fields["temp"], [1.5, 2.0, np.nan, 4.25], equal_nan=True)
    assert out.fields["state"].tolist() == ["RUN", "RUN", "STOP", "RUN"]
    assert out.bad_lines == 1  # the row without a time is dropped; its '??' is not counted again
    assert out.unparsed == 1 and out.unparsed_examples == ["Row 4: cannot parse 'x' as a number in temp"]
    assert out.position.numeric == ("temp",)


def test_a_column_numeric_in_an_earlier_chunk_stays_numeric():
    p = parser(parse_timestamps=[{"field_name": "ts", "format": "%Y-%m-%d %H:%M:%S"}])
    first = parse_all(p, b"ts,temp,note\n2024-01-01 00:00:00,1.5,7\n")
    assert first.position.numeric == ("temp", "note")
    second = p.parse(b"2024-01-01 00:00:01,--,ok\n2024-01-01 00:00:02,2.5,\n", first.position, False)
    assert np.array_equal(second.fields["temp"], [np.nan, 2.5], equal_nan=True)
    assert np.array_equal(second.fields["note"], [np.nan, np.nan], equal_nan=True)
    assert second.unparsed == 2 and second.unparsed_examples == [
        "Row 3: cannot parse '--' as a number in temp", "Row 3: cannot parse 'ok' as a number in note"]
    # Read as a whole file, the same cells: temp is mostly numbers, note is mostly text.
    whole = parse_all(p, b"ts,temp,note\n2024-01-01 00:00:00,1.5,7\n2024-01-01 00:00:01,--,ok\n"
                         b"2024-01-01 00:00:02,2.5,\n2024-01-01 00:00:03,3,text\n")
    assert whole.unparsed == 1 and whole.fields["note"].tolist() == ["7", "ok", "", "text"]


def test_quoted_fields_match_the_csv_module():
    rows = [["name", "note", "value"], ["a,b", 'say "hi"', "1.5"], ["multi\nline", "", "2"], ["plain", "x", "-3"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    out = parse_all(parser(), buffer.getvalue().encode())
    assert out.fields["name"].tolist() == ["a,b", "multi\nline", "plain"]
    assert out.fields["note"].tolist() == ['say "hi"', "", "x"]
    assert out.fields["value"].tolist() == [1.5, 2.0, -3.0]
    assert out.position.line == 5  # physical lines, the quoted newline included


def test_separator_no_header_and_counter():
    p = parser(separator=";", header=None, counter=True)
    out = parse_all(p, b"1;x\n2;y\n")
    assert list(out.fields) == ["0", "1", "counter"]
    assert out.fields["0"].tolist() == [1, 2] and out.fields["counter"].tolist() == [0, 1]


def test_header_row_further_down_skips_the_rows_above():
    p = parser(header=2, separator="\t")
    out = parse_all(p, b"exported by HMI\nline 3\nt\tv\n1\t2\n")
    assert list(out.fields) == ["t", "v"] and out.fields["v"].tolist() == [2]


def test_duplicate_and_empty_names_follow_pandas():
    out = parse_all(parser(), b"a,a,,b\n1,2,3,4\n")
    assert list(out.fields) == ["a", "a.1", "Unnamed: 2", "b"]


@pytest.mark.parametrize("encoding, bom", [("latin-1", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", None)])
def test_file_encodings(encoding, bom):
    text = "name,temp\nCafé,21.5\nMünchen,-3\n"
    data = text.encode("utf-16") if bom is None else bom + text.encode(encoding)
    p = parser(file_encoding=encoding)
    assert p.record_end(data, True, True) == len(data)
    out = parse_all(p, data)
    assert list(out.fields) == ["name", "temp"]
    assert out.fields["name"].tolist() == ["Café", "München"] and out.fields["temp"].tolist() == [21.5, -3.0]


def test_parse_dates_reads_common_layouts_with_dayfirst():
    p = parser(parse_dates=["when"], dayfirst=True, localtz="Europe/Paris")
    out = parse_all(p, b"when,v\n07/02/2018 00:46,1\n2018-02-07T00:47:00Z,2\n")
    assert out.fields["when"].view(np.int64).tolist() == [utc_ns(2018, 2, 7, 0, 46, tz="Europe/Paris"),
                                                          utc_ns(2018, 2, 7, 0, 47)]


def test_missing_timestamp_field_is_a_config_error():
    p = parser(parse_timestamps=[{"field_name": "timestamp", "format": "%Y"}])
    with pytest.raises(ParserConfigError, match="'timestamp' not in the file's fields"):
        parse_all(p, b"time,v\n2024,1\n")


@pytest.mark.parametrize("options, message", [
    ({"separator": "ab"}, "separator"), ({"bad_lines_action": "explode"}, "bad_lines_action"),
    ({"file_encoding": "klingon"}, "file_encoding"), ({"localtz": "Mars/Olympus"}, "localtz"),
    ({"parse_timestamps": [{"field_name": "t", "format": "%Q"}]}, "bad timestamp format"),
])
def test_unusable_options_are_refused(options, message):
    with pytest.raises(ParserConfigError, match=message):
        parser(**options)


def test_chunks_parse_like_the_whole_file():
    rng = np.random.default_rng(3)
    lines = ["ts,a,b,label"]
    for i in range(3000):
        label = '"x, ""q"""' if i % 97 == 0 else f"r{i}"
        lines.append(f"2024-01-01 00:{i // 60 % 60:02d}:{i % 60:02d},{rng.normal():.5f},{i},{label}")
    data = ("\r\n".join(lines) + "\r\n").encode()
    p = parser(parse_timestamps=[{"field_name": "ts", "format": "%Y-%m-%d %H:%M:%S"}], counter=True)
    whole = parse_all(p, data)
    offset, position, parts = 0, Position(), []
    while offset < len(data):
        window = data[offset:offset + int(rng.integers(50, 4000))]
        cut = p.record_end(window, offset == 0, offset + len(window) >= len(data))
        if not cut:
            continue
        chunk = p.parse(window[:cut], position, offset == 0)
        position, offset = chunk.position, offset + cut
        parts.append(chunk.fields)
    for name, values in whole.fields.items():
        assert np.concatenate([part[name] for part in parts if part]).tolist() == values.tolist(), name
    assert position == whole.position


def test_record_end_respects_quotes():
    assert record_end(b'a,"b\nc"\nd,e\nf', False) == 12
    assert record_end(b'a,"b\nc', False) == 0  # the quoted newline ends nothing
    assert record_end(b'a,"b\nc', False, force=True) == 5  # unless the window cannot grow
    assert record_end(b"a,b\nc", True) == 5
