"""InfluxDB 1.x line protocol: a request body as points (tag name, time, value), per the grammar

    measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]

- Lines end at `\\n` (a `\\r` before it is dropped); blank lines and lines starting with `#`
  are skipped; whitespace (spaces, tabs) separates the three sections.
- Escapes: in a measurement `\\,` and `\\ `; in tag keys, tag values and field keys `\\,`,
  `\\=` and `\\ `; in a string field value `\\"` and `\\\\`. A backslash before anything else
  is itself. A quoted string may hold a newline (the line goes on).
- Field values: float (`1`, `-1.5`, `2e-3`), integer (`1i`, int64), unsigned (`1u`, uint64),
  boolean (`t T true True TRUE f F false False FALSE`, stored as 1 and 0), string (`"..."`,
  not stored: counted in `strings_skipped`). NaN and infinity are not numbers here, as in
  InfluxDB. Every value becomes a double: an integer beyond 2^53 is kept rounded.
- Timestamp: an integer in the request's precision (n/ns, u/us, ms, s, m, h); a line without
  one gets the time the request arrived (the same for every such line of the request).

Each numeric field becomes one point of the tag named by `edge.web.influx.tag_names`.
A line that breaks the grammar is refused whole and named in `bad_lines` (its number, its
text, why); the other lines stand, as InfluxDB stores the good lines of a partial write.

Four ways in, each giving the same points: a plain ASCII body with single spaces is read a
line shape at a time (`edge.web.influx.shapes`), or when that does not take it whole as
byte columns with numpy (`_columns`: separators, keys, numbers and timestamps for the whole
body at once); another plain body a section at a time over all lines (`_parse_plain`);
anything else - escapes, strings, comments, a bad line - line by line, with caches that
convert each distinct series key, field key and value text once per request.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
import re

import numpy as np

from edge.web.influx.tag_names import FIELD_SEPARATOR, escape_field_key, series_key

# Nanoseconds per unit of the `precision` query parameter.
PRECISIONS = {"": 1, "n": 1, "ns": 1, "u": 1_000, "us": 1_000, "µ": 1_000, "ms": 1_000_000,
              "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1
BOOLEANS = {"t": 1.0, "T": 1.0, "true": 1.0, "True": 1.0, "TRUE": 1.0,
            "f": 0.0, "F": 0.0, "false": 0.0, "False": 0.0, "FALSE": 0.0}
_FLOAT_CHARACTERS = frozenset("0123456789.eE+-")
_DIGITS = frozenset("0123456789")
BAD_LINES_NAMED = 5  # how many bad lines an error message quotes
SHOWN_LINE = 256  # characters of a bad line quoted


class STRING:
    """The value of a string field: not stored, counted."""


@dataclasses.dataclass
class BadLine:
    number: int  # 1-based line number in the body
    text: str
    reason: str

    def describe(self) -> str:
        """InfluxDB's words for it (a long line cut to its first SHOWN_LINE characters)."""
        shown = self.text if len(self.text) <= SHOWN_LINE else self.text[:SHOWN_LINE] + "..."
        return f"unable to parse '{shown}': {self.reason}"


@dataclasses.dataclass
class ParsedBody:
    """The numeric points of a body grouped by tag, each tag's points in the order written,
    and what was left out."""
    tags: list[str]  # the distinct tag names
    lengths: np.ndarray  # per tag: how many points it has
    tag_times: np.ndarray  # per point, tag after tag: int64 ns
    tag_values: np.ndarray  # per point, tag after tag: float64
    positions: np.ndarray  # per point, tag after tag: its place in the body's order
    time_sources: np.ndarray | None  # per tag: the tag whose very times it has (None: each its own)
    lines: int  # lines holding a point (not blank, not a comment)
    strings_skipped: int
    bad_lines: list[BadLine]
    bad_line_count: int

    @classmethod
    def of_points(cls, tags: list[str], codes: np.ndarray, times: np.ndarray, values: np.ndarray, lines: int,
                  strings_skipped: int = 0, bad_lines: list[BadLine] | None = None, bad_line_count: int = 0):
        """From points in the order written, `codes` each point's index in `tags`."""
        order = np.argsort(codes, kind="stable")
        return cls(tags, np.bincount(codes, minlength=len(tags)), times[order], values[order], order, None, lines,
                   strings_skipped, bad_lines or [], bad_line_count)

    def _written(self, grouped: np.ndarray) -> np.ndarray:
        out = np.empty_like(grouped)
        out[self.positions] = grouped
        return out

    @functools.cached_property
    def codes(self) -> np.ndarray:
        """Per point in the order written: its tag's index in `tags`."""
        return self._written(np.repeat(np.arange(len(self.tags), dtype=np.int64), self.lengths))

    @functools.cached_property
    def times(self) -> np.ndarray:
        """Per point in the order written: its time, int64 ns."""
        return self._written(self.tag_times)

    @functools.cached_property
    def values(self) -> np.ndarray:
        """Per point in the order written: its value."""
        return self._written(self.tag_values)

    @property
    def names(self) -> list[str]:
        """The tag name of each point, in the order written."""
        return [self.tags[c] for c in self.codes.tolist()]

    def by_tag(self) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
        """(tags, times per tag, values per tag): what `TagTable.append_by_tag` takes. Tags that
        share their times get the very same array, which the store writes once."""
        bounds = np.concatenate(([0], np.cumsum(self.lengths))).tolist()
        ranges = list(zip(bounds[:-1], bounds[1:]))  # slices: np.split costs more per tag
        times = [self.tag_times[a:b] for a, b in ranges]
        if self.time_sources is not None:
            times = [times[source] for source in self.time_sources.tolist()]
        return self.tags, times, [self.tag_values[a:b] for a, b in ranges]


class LineError(ValueError):
    """One line breaks the grammar (the reason in InfluxDB's words)."""


class _Values(dict):
    """Field value text -> float, STRING, or LineError: each distinct text converted once."""

    def __missing__(self, text: str):
        try:
            value = field_value(text)
        except LineError as err:
            value = err
        self[text] = value
        return value


def field_value(text: str):
    """The number a field value text stands for, or STRING; LineError if it is none of the
    types of the grammar."""
    if not text:
        raise LineError("missing field value")
    last = text[-1]
    if text[0] == '"':
        if len(text) < 2 or last != '"':
            raise LineError("unbalanced quotes")
        return STRING
    boolean = BOOLEANS.get(text)
    if boolean is not None:
        return boolean
    if last == "i" or last == "u":
        digits = text[:-1]
        body = digits[1:] if digits[:1] == "-" and last == "i" else digits
        if not body or not _DIGITS.issuperset(body):
            raise LineError(f"invalid {'integer' if last == 'i' else 'unsigned integer'} '{text}'")
        number = int(digits)
        if last == "i" and not INT64_MIN <= number <= INT64_MAX:
            raise LineError(f"unable to parse integer {digits}: value out of range")
        if last == "u" and number > UINT64_MAX:
            raise LineError(f"unable to parse unsigned {digits}: value out of range")
        return float(number)
    if not _FLOAT_CHARACTERS.issuperset(text):
        raise LineError(f"invalid number '{text}'" if last not in "\"'" else "invalid field format")
    try:
        number = float(text)
    except ValueError:
        raise LineError(f"invalid number '{text}'") from None
    if not math.isfinite(number):
        raise LineError(f"invalid number '{text}': out of range")
    return number


class _Series(dict):
    """Series key text as written -> its canonical name prefix, or LineError."""

    def __missing__(self, text: str):
        try:
            value = series_key(*split_series(text))
        except LineError as err:
            value = err
        self[text] = value
        return value


class _FieldKeys(dict):
    def __missing__(self, key: str):
        value = escape_field_key(unescape(key, _KEY_ESCAPES))
        self[key] = value
        return value


def parse_body(text: str, now_ns: int, precision: str, max_name_bytes: int) -> ParsedBody:
    """The points of a line-protocol body. `precision` must be a key of PRECISIONS; a line
    whose tag name would exceed `max_name_bytes` (the table's name column) is a bad line.

    A body of plain lines (no escapes, strings or comments: what collectors send most) is
    read section by section for all its lines at once (`_parse_plain`); anything that path
    does not take whole - a bad line included - is read line by line."""
    scale = PRECISIONS[precision]
    plain = _parse_plain(text, now_ns, scale, max_name_bytes)
    if plain is not None:
        return plain
    series_cache, field_keys, values_cache = _Series(), _FieldKeys(), _Values()
    names_ok: set[str] = set()
    names: list[str] = []
    values: list[float] = []
    line_times: list[int] = []
    fields_per_line: list[int] = []
    bad: list[BadLine] = []
    bad_count = lines = strings = 0
    for number, line in _lines(text):
        lines += 1
        try:
            key, fields, timestamp = _sections(line)
            prefix = series_cache[key]
            if isinstance(prefix, LineError):
                raise prefix
            pairs = _fields(fields)
            line_names, line_values, line_strings = [], [], 0
            for field, raw in pairs:
                value = values_cache[raw]
                if value.__class__ is float:
                    name = prefix + FIELD_SEPARATOR + field_keys[field]
                    if name not in names_ok:
                        if len(name.encode("utf-8")) > max_name_bytes:
                            raise LineError(f"tag name {name!r} is longer than {max_name_bytes} bytes")
                        names_ok.add(name)
                    line_names.append(name)
                    line_values.append(value)
                elif value is STRING:
                    line_strings += 1
                else:
                    raise value
            when = now_ns if timestamp is None else _time(timestamp, scale)
        except LineError as err:
            bad_count += 1
            if len(bad) < BAD_LINES_NAMED:
                bad.append(BadLine(number, line, str(err)))
            continue
        strings += line_strings
        if line_names:
            names += line_names
            values += line_values
            line_times.append(when)
            fields_per_line.append(len(line_names))
    times = np.repeat(np.array(line_times, dtype=np.int64), np.array(fields_per_line, dtype=np.int64))
    index: dict[str, int] = {}
    codes = np.array([index.setdefault(n, len(index)) for n in names], dtype=np.int64)
    return ParsedBody.of_points(list(index), codes, times, np.array(values, dtype=np.float64), lines, strings, bad,
                                bad_count)


# One plain line: series key, fields, optional timestamp, separated by blanks.
_PLAIN_LINE = re.compile(r"^[ \t]*(\S+)[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t\r]*$", re.MULTILINE)
_NOT_FLOAT_OR_INT = str.maketrans("", "", "0123456789.eE+-i\n")
_TWO_EQUALS = re.compile(r"=[^,]*=")
_NOT_AN_INTEGER = re.compile(r"[.eE+][^\n]*i\n")
_NOT_TIME = str.maketrans("", "", "0123456789-")


def _parse_plain(text: str, now_ns: int, scale: int, max_name_bytes: int) -> ParsedBody | None:
    """The body read a section at a time over all lines, or None when it is not plain: every
    line well-formed, no backslash, quote or comment, numbers floats or integers (others
    through the value cache). The result is the one the line-by-line path gives. The shapes
    and then the byte columns (`_columns`) are tried first."""
    from edge.web.influx.shapes import parse_shapes  # here: it builds on this module

    for bulk in (parse_shapes, _columns):
        parsed = bulk(text, now_ns, scale, max_name_bytes)
        if parsed is not None:
            return parsed
    if "\\" in text or '"' in text or "#" in text:
        return None
    lines = text.split("\n")
    if lines and not lines[-1].strip():
        lines.pop()
    if not lines or "" in lines:
        return None
    sections = _plain_sections(text, lines)
    if sections is None:
        return None
    keys, fields, stamps = sections
    series = _Series()
    prefixes = list(map(series.__getitem__, keys))
    if any(isinstance(p, LineError) for p in series.values()):
        return None
    counts = np.fromiter(map(str.count, fields, itertools.repeat(",")), np.int64, len(fields)) + 1
    joined = ",".join(fields)
    # Every field exactly `key=value` (neither holds "=" or "," in a plain line): as many "="
    # as fields, and no two in one field.
    if joined.count("=") != joined.count(",") + 1 or _TWO_EQUALS.search(joined):
        return None
    parts = joined.replace("=", ",").split(",")
    field_keys, raw_values = parts[0::2], parts[1::2]
    if "" in field_keys or "" in raw_values:
        return None
    values = _plain_values(raw_values)
    if values is None:
        return None
    times = _plain_times(stamps, now_ns, scale)
    if times is None:
        return None
    # Each point's tag as a number: its series (by its name: one series written with its tags
    # in two orders is one) and its field key, each numbered by where it first occurs; names
    # are built once per distinct pair.
    series_index: dict[str, int] = {}
    line_series = np.fromiter(map(series_index.setdefault, prefixes, itertools.count()), np.int64, len(keys))
    field_index: dict[str, int] = {}
    point_fields = np.fromiter(map(field_index.setdefault, field_keys, itertools.count()), np.int64,
                               len(field_keys))
    pair = np.repeat(line_series, counts) * (len(field_keys) + 1) + point_fields
    distinct, first, codes = np.unique(pair, return_index=True, return_inverse=True)
    escaped = _FieldKeys()
    line_of_first = np.searchsorted(np.cumsum(counts), first, "right").tolist()
    tags = [prefixes[line] + FIELD_SEPARATOR + escaped[field_keys[i]]
            for line, i in zip(line_of_first, first.tolist())]
    if any(len(n.encode("utf-8")) > max_name_bytes for n in tags):
        return None
    return ParsedBody.of_points(tags, codes.astype(np.int64), np.repeat(times, counts), values, len(lines))


def _plain_sections(text: str, lines: list[str]) -> tuple | None:
    """(keys, fields, timestamps) of the lines, each a sequence with one entry per line."""
    if "\t" not in text and "\r" not in text and "  " not in text and " \n" not in text and "\n " not in text \
            and text[0] != " " and text.rstrip("\n")[-1] != " ":
        # Single spaces only: the sections are the words, three (or two) to a line.
        spaces = set(map(str.count, lines, itertools.repeat(" ")))
        words = text.split()
        if spaces == {2}:
            return words[0::3], words[1::3], words[2::3]
        if spaces == {1}:
            return words[0::2], words[1::2], ("",) * len(lines)
    found = _PLAIN_LINE.findall(text)
    if len(found) != len(lines):
        return None
    return tuple(zip(*found))


def _plain_values(raw: list[str]) -> np.ndarray | None:
    """Floats and integers (`1i`) converted in bulk; booleans and the rest one distinct text
    at a time; None if any is not a number (a string, a bad value)."""
    joined = "\n".join(raw) + "\n"
    if not joined.translate(_NOT_FLOAT_OR_INT):
        if "i" in joined:
            # An integer is digits with an optional minus: one with a point, an exponent or a
            # plus is refused (by the line-by-line path, which names it), and one of 19 digits
            # or more may be beyond int64. The others are exact as the double of their text.
            if _NOT_AN_INTEGER.search(joined) or max(map(len, raw)) > 19:
                return None
            joined = joined.replace("i\n", "\n")
        try:
            values = np.array(list(map(float, joined[:-1].split("\n"))), dtype=np.float64)
        except ValueError:
            return None
        if not np.isfinite(values).all():
            return None
        return values
    converted = list(map(_Values().__getitem__, raw))
    if set(map(type, converted)) != {float}:
        return None
    return np.array(converted, dtype=np.float64)


def _plain_times(stamps: tuple[str, ...], now_ns: int, scale: int) -> np.ndarray | None:
    """Line times in ns (an empty stamp: `now_ns`); None if any is not a valid timestamp."""
    if "" in stamps:
        if any(stamps):
            return None
        return np.full(len(stamps), now_ns, dtype=np.int64)
    if "".join(stamps).translate(_NOT_TIME) or any(s == "-" or "-" in s[1:] for s in stamps if "-" in s):
        return None
    try:
        numbers = list(map(int, stamps))
    except ValueError:
        return None
    if min(numbers) * scale <= INT64_MIN or max(numbers) * scale > INT64_MAX:
        return None
    return np.array(numbers, dtype=np.int64) * scale


def _lines(text: str):
    """(line number, line) of every line that holds a point: blank and comment lines left out;
    a quoted field value may run over a newline (the line is joined back)."""
    raw = text.split("\n")
    i, count = 0, len(raw)
    while i < count:
        line = raw[i]
        start = i
        i += 1
        if '"' in line:
            while i < count and _open_quote(line):
                line = line + "\n" + raw[i]
                i += 1
        line = line.strip(" \t\r")
        if not line or line[0] == "#":
            continue
        yield start + 1, line


def _open_quote(line: str) -> bool:
    """Whether the fields section of `line` ends inside a quoted string (InfluxDB counts a
    quote not preceded by a backslash)."""
    fields_start = _unescaped_space(line)
    if fields_start < 0:
        return False
    quotes = len(_QUOTE.findall(line, fields_start))
    return quotes % 2 == 1


_QUOTE = re.compile(r'(?<!\\)"')
_SPACE = re.compile(r"(?<!\\)[ \t]")


def _unescaped_space(line: str) -> int:
    found = _SPACE.search(line)
    return found.start() if found else -1


# The three sections, for lines that need more than splitting on whitespace: escaped
# separators in the key, quoted strings in the fields.
_SECTIONS = re.compile(r"""
    (?P<key>(?:\\.|[^\\ \t])+)
    [ \t]+
    (?P<fields>(?:"(?:\\.|[^"\\])*"|\\.|[^\\ \t"])+)
    (?:[ \t]+(?P<time>\S+))?
    [ \t]*\Z""", re.VERBOSE | re.DOTALL)
_FIELD = re.compile(r"""
    (?P<key>(?:\\.|[^\\,=])*)
    (?:=(?P<value>"(?:\\.|[^"\\])*"|[^,]*))?
    (?:,|\Z)""", re.VERBOSE | re.DOTALL)


def _sections(line: str) -> tuple[str, str, str | None]:
    """(series key text, fields text, timestamp text or None) of one line."""
    if "\\" not in line and '"' not in line:
        parts = line.split()
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2:
            return parts[0], parts[1], None
        if len(parts) == 1:
            raise LineError("missing fields")
        raise LineError("invalid field format" if "=" in parts[2] else "bad timestamp")
    found = _SECTIONS.match(line)
    if found is None:
        if _unescaped_space(line) < 0:
            raise LineError("missing fields")
        if _open_quote(line):
            raise LineError("unbalanced quotes")
        raise LineError("invalid field format")
    return found["key"], found["fields"], found["time"]


def _fields(text: str) -> list[tuple[str, str]]:
    """(field key as written, value text) of each field."""
    if "\\" not in text and '"' not in text:
        pairs = []
        for field in text.split(","):
            key, sep, value = field.partition("=")
            if not sep:
                raise LineError("missing field value")
            if not key:
                raise LineError("missing field key")
            pairs.append((key, value))
        return pairs
    pairs = []
    position, end = 0, len(text)
    while position < end:
        found = _FIELD.match(text, position)
        if found is None or found.end() == position:
            raise LineError("invalid field format")
        key, value = found["key"], found["value"]
        if value is None:
            raise LineError("missing field value")
        if not key:
            raise LineError("missing field key")
        pairs.append((key, value))
        position = found.end()
        if position == end and text.endswith(","):
            raise LineError("missing field key")
    return pairs


def _time(text: str, scale: int) -> int:
    body = text[1:] if text[:1] == "-" else text
    if not body or not _DIGITS.issuperset(body):
        raise LineError("bad timestamp")
    when = int(text) * scale
    if not INT64_MIN < when <= INT64_MAX:  # InfluxDB's minimum time is one above int64's
        raise LineError("bad timestamp: time outside range")
    return when


# Series keys ------------------------------------------------------------------------------

_KEY_ESCAPES = {",": ",", "=": "=", " ": " "}
_MEASUREMENT_ESCAPES = {",": ",", " ": " "}
_TAG_SPLIT = re.compile(r"(?<!\\),")


def unescape(text: str, escapes: dict[str, str]) -> str:
    """`text` with each backslash before one of `escapes` dropped; other backslashes stay."""
    if "\\" not in text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in escapes:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_series(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(measurement, [(tag key, tag value)]) of a series key as written, unescaped."""
    parts = text.split(",") if "\\" not in text else _split_escaped(text)
    measurement = unescape(parts[0], _MEASUREMENT_ESCAPES)
    if not measurement:
        raise LineError("missing measurement")
    tags = []
    for part in parts[1:]:
        if not part:
            raise LineError("missing tag key")
        key, value = _split_tag(part)
        tags.append((unescape(key, _KEY_ESCAPES), unescape(value, _KEY_ESCAPES)))
    if len({k for k, _ in tags}) != len(tags):
        raise LineError("duplicate tags")
    return measurement, tags


def _split_escaped(text: str) -> list[str]:
    """Splits on commas not escaped; `\\\\,` is not an escape of the comma in InfluxDB either."""
    return _TAG_SPLIT.split(text)


def _split_tag(part: str) -> tuple[str, str]:
    if "\\" not in part:
        key, sep, value = part.partition("=")
    else:
        found = re.search(r"(?<!\\)=", part)
        sep = "=" if found else ""
        key, value = (part[:found.start()], part[found.end():]) if found else (part, "")
    if not sep:
        raise LineError("missing tag value")
    if not key:
        raise LineError("missing tag key")
    if not value:
        raise LineError("missing tag value")
    if "=" in value.replace("\\=", ""):
        raise LineError("invalid tag format")
    return key, value


# Columns over the bytes of a body -------------------------------------------------------------
#
# The commonest body (one space between sections, every line alike, plain ASCII) is cut into
# its sections, fields, keys and values by the positions of its separator bytes, found for the
# whole body at once; keys are told apart by their bytes (up to 8 as one number, more by a
# hash checked byte for byte); numbers of up to 15 digits (`-?\d+`, `-?\d+i`; 14 and a
# point for `-?\d+\.\d+`) and timestamps of up to 19 digits are read digit column by digit
# column. Such a decimal is exactly its mantissa divided by a power of ten (both exact
# doubles, the division correctly rounded), which is what `float` gives. Other values go
# through the value cache one distinct text at a time; anything else leaves the body to the
# paths below.

_POWERS = 10 ** np.arange(20, dtype=np.uint64)
_POWERS_F = 10.0 ** np.arange(20)
_HASH = np.random.default_rng(20261202).integers(1, 2**63, size=512, dtype=np.uint64) | np.uint64(1)
_LONGEST_KEY = 512  # bytes; longer keys take the string path
_PAD = _LONGEST_KEY  # zero bytes before the body, for the rows of ranges near its start
# Series key text -> name prefix across requests (a collector writes the same series again
# and again); emptied when it grows past KNOWN_SERIES_MAX. Each entry is a pure function of
# its key, so threads may share it.
KNOWN_SERIES_MAX = 20_000
_KNOWN_SERIES = _Series()


def _columns(text: str, now_ns: int, scale: int, max_name_bytes: int) -> ParsedBody | None:
    """The body read as byte columns, or None when it is not the commonest plain form (plain
    ASCII, one space between sections, every line with a timestamp or none, no bad value);
    the result is the one the line-by-line path gives."""
    if not text.isascii() or "\\" in text or '"' in text or "#" in text:
        return None
    raw = text.encode("ascii")
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if not raw:
        return None
    size = len(raw)
    padded = np.zeros(_PAD + size, np.uint8)
    padded[_PAD:] = np.frombuffer(raw, np.uint8)
    a = padded[_PAD:]
    if ((a < 32) & (a != 10)).any():  # tabs, \r and the other blanks str.split knows
        return None
    newlines = np.flatnonzero(a == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [size]))
    lines = len(starts)
    spaces = np.flatnonzero(a == 32)
    line_of_space = np.searchsorted(newlines, spaces)
    if len(spaces) == 2 * lines and np.array_equal(line_of_space, np.repeat(np.arange(lines), 2)):
        key_end, fields_end = spaces[0::2], spaces[1::2]
        if (ends <= fields_end + 1).any():
            return None
    elif len(spaces) == lines and np.array_equal(line_of_space, np.arange(lines)):
        key_end, fields_end = spaces, ends
    else:
        return None
    if (key_end <= starts).any() or (fields_end <= key_end + 1).any():
        return None
    commas = _in_fields(np.flatnonzero(a == 44), key_end, fields_end)
    equals = _in_fields(np.flatnonzero(a == 61), key_end, fields_end)
    field_start = np.sort(np.concatenate((key_end + 1, commas + 1)))
    field_end = np.sort(np.concatenate((commas, fields_end)))
    # Every field exactly `key=value`, both non-empty.
    if len(equals) != len(field_start) or (equals <= field_start).any() or (field_end <= equals + 1).any() \
            or (equals[:-1] >= field_start[1:]).any():
        return None
    counts = np.diff(np.searchsorted(field_start, np.concatenate((starts, [size]))))
    # Series: each distinct key text read once, then by its name (one series written with its
    # tags in two orders is one).
    found = _distinct(padded, starts, key_end)
    if found is None:
        return None
    first, inverse = found
    series = _KNOWN_SERIES
    if len(series) > KNOWN_SERIES_MAX:
        series.clear()
    prefixes = [series[raw[s:e].decode("ascii")] for s, e in zip(starts[first].tolist(), key_end[first].tolist())]
    if any(isinstance(p, LineError) for p in prefixes):
        return None
    prefix_index: dict[str, int] = {}
    prefix_codes = np.array([prefix_index.setdefault(p, len(prefix_index)) for p in prefixes], np.int64)
    line_series = prefix_codes[inverse]
    found = _distinct(padded, field_start, equals)
    if found is None:
        return None
    field_first, point_fields = found
    escaped = _FieldKeys()
    field_names = [escaped[raw[s:e].decode("ascii")]
                   for s, e in zip(field_start[field_first].tolist(), equals[field_first].tolist())]
    values = _numbers(raw, padded, equals + 1, field_end)
    if values is None:
        return None
    if fields_end is ends:
        times = np.full(lines, now_ns, dtype=np.int64)
    else:
        times = _stamps(padded, fields_end + 1, ends, scale)
        if times is None:
            return None
    pair = np.repeat(line_series, counts) * len(field_names) + point_fields
    pairs = len(prefix_index) * len(field_names)
    if pairs <= 4 * len(pair):  # few series and fields: numbered through a table, no sort
        present = np.zeros(pairs, bool)
        present[pair] = True
        distinct = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[pair]
    else:
        distinct, codes = np.unique(pair, return_inverse=True)
    names = list(prefix_index)
    tags = [names[p] + FIELD_SEPARATOR + field_names[f]
            for p, f in zip((distinct // len(field_names)).tolist(), (distinct % len(field_names)).tolist())]
    if any(len(n.encode("utf-8")) > max_name_bytes for n in tags):
        return None
    return ParsedBody.of_points(tags, codes.astype(np.int64).reshape(-1), np.repeat(times, counts), values, lines)


def _in_fields(found: np.ndarray, key_end: np.ndarray, fields_end: np.ndarray) -> np.ndarray:
    """The positions of `found` inside a fields section (after key_end, before fields_end)."""
    line = np.searchsorted(key_end, found, "right") - 1
    return found[(line >= 0) & (found < fields_end[line])]


def _rows(a: np.ndarray, starts: np.ndarray, stops: np.ndarray, width: int) -> np.ndarray:
    """The bytes of each range [start, stop) right-aligned in `width` columns, zeros before
    (the body holds no zero byte); `a` is the body after _PAD zero bytes, ranges index the
    body itself and are at most `width` (<= _PAD) long."""
    columns = np.arange(width)
    rows = a[(stops + (_PAD - width))[:, None] + columns]
    rows *= columns >= (width - (stops - starts))[:, None]
    return rows


def _distinct(a: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(index of the first of each distinct text, each text's distinct number) for the byte
    ranges [starts, stops); None when a text is too long or two texts share a hash. `a` as
    for _rows."""
    width = int((stops - starts).max())
    if width > _LONGEST_KEY:
        return None
    if width <= 8:  # the bytes themselves as one number (right-aligned, no zero byte in them)
        packed = _rows(a, starts, stops, 8).view(np.uint64).reshape(-1)
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    rows = _rows(a, starts, stops, width)
    hashes = rows.astype(np.uint64) @ _HASH[:width]
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(rows, rows[first][inverse]):
        return None
    return first, inverse


def _numbers(raw: bytes, a: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray | None:
    """The field values as doubles; None if any is not a number. `a` as for _rows."""
    body = a[_PAD:]
    integer = body[stops - 1] == 105  # i
    ends = stops - integer
    negative = body[starts] == 45
    lengths = ends - starts
    width = max(1, min(int(lengths.max()), 17))
    short = lengths <= width
    ends = np.where(short, ends, starts)  # long ones are read as text below
    rows = _rows(a, starts, ends, width)
    shifted = rows - np.uint8(48)  # digits become 0-9, every other byte wraps above 9
    digit = shifted < 10
    point = rows == 46
    points = point.sum(axis=1)
    digits = digit.sum(axis=1)
    simple = (short & (digits + points + negative == lengths) & (digits >= 1) & (digits + points <= 15)
              & ((points == 0) | ((points == 1) & ~integer))
              & (body[starts + negative] != 46) & (body[np.maximum(ends - 1, 0)] != 46))
    # Place values by column from the right; left of a point they are ten times too much.
    # In doubles: every sum is an integer below 10^15 < 2^53 where it counts (15 digits, or
    # 14 and a point: the tenfold left part stays below 10^15), so exact.
    shifted *= digit
    whole = shifted.astype(np.float64) @ _POWERS_F[:width][::-1]
    after = np.where(points == 1, width - 1 - point.argmax(axis=1), 0)
    low = _POWERS_F[after]
    mantissa = np.where(points == 1, whole // (low * 10) * low + whole % low, whole)
    decimal = mantissa / low
    values = np.where(integer, np.where(negative, -mantissa + 0.0, mantissa),
                      np.where(negative, -decimal, decimal))
    others = np.flatnonzero(~simple)
    if len(others):
        cache = _Values()
        for i, s, e in zip(others.tolist(), starts[others].tolist(), stops[others].tolist()):
            value = cache[raw[s:e].decode("ascii")]
            if value.__class__ is not float:
                return None
            values[i] = value
    return values


def _stamps(a: np.ndarray, starts: np.ndarray, stops: np.ndarray, scale: int) -> np.ndarray | None:
    """The timestamps (`-?\\d{1,19}`) in ns; None if any is another text or out of range.
    `a` as for _rows."""
    body = a[_PAD:]
    negative = body[starts] == 45
    lengths = stops - starts
    width = int(lengths.max())
    if width > 20:
        return None
    rows = _rows(a, starts, stops, width)
    digit = (rows >= 48) & (rows <= 57)
    digits = digit.sum(axis=1)
    if not np.array_equal(digits, lengths - negative) or digits.min() < 1 or digits.max() > 19:
        return None
    magnitude = np.where(digit, rows - 48, 0).astype(np.uint64) @ _POWERS[:width][::-1]
    if (magnitude > np.uint64(INT64_MAX)).any():
        return None
    signed = magnitude.astype(np.int64)
    times = np.where(negative, -signed, signed)
    if int(times.min()) * scale <= INT64_MIN or int(times.max()) * scale > INT64_MAX:
        return None
    return times * scale
