"""Machbase date formats: parse and print times, vectorised over int64 nanoseconds.

A format is Machbase's: tokens (case-sensitive, as Machbase writes them) and literal text.

    YYYY  year, 4 digits          YY    year, 2 digits (parsed as 2000-2099)
    MM    month 01-12             MON   month JAN-DEC (parsed in any case)
    DD    day 01-31
    HH24  hour 00-23              HH    hour 00-23 (as in "YYYY-MM-DD HH:MI:SS")
    HH12  hour 01-12              AM PM meridian, either token parses either
    MI    minute 00-59            SS    second 00-59
    mmm   milliseconds 000-999    uuu   microseconds 000-999   nnn   nanoseconds 000-999

Every token has a fixed width, so a format prints to fixed-width text and parses text of one
length. That is what makes both vectorisable: a batch of strings becomes a byte matrix, each
token a few columns of it.

Times are int64 ns since the epoch, UTC; the wall-clock fields come from a `TimeZone`.
Parsing accepts, besides the given format, the forms of the Machbase tag API (`parse_times`):
"2020-12-12", "2020-12-12 03:22:22", "2020-12-12 03:22:22 222:333:444",
"2020-12-12T03:22:22", "2020-12-12T03:22:22,234", "2020-12-12 03:22:22, 234", and ISO
fractions "2020-12-12 03:22:22.123456789".
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Sequence

import numpy as np

from edge.errors import BAD_TIME, EdgeError
from edge.time.civil import MAX_YEAR, MIN_YEAR, MONTH_NAMES, OUT_OF_RANGE, civil_from_days, days_from_civil, \
    month_from_letters, month_lengths, year_out_of_range
from edge.time.timezone import TimeZone
from edge.time.units import NS_PER_DAY, NS_PER_MS, NS_PER_SECOND, NS_PER_US, SECONDS_PER_DAY

DEFAULT_FORMAT = "YYYY-MM-DD HH24:MI:SS mmm:uuu:nnn"
MAX_FORMAT_LENGTH = 128


# token -> (width, field). Longest tokens first so that "HH24" wins over "HH".
_TOKENS: tuple[tuple[str, int, str], ...] = (
    ("YYYY", 4, "year"), ("HH24", 2, "hour"), ("HH12", 2, "hour12"), ("MON", 3, "month_name"),
    ("mmm", 3, "milli"), ("uuu", 3, "micro"), ("nnn", 3, "nano"), ("YY", 2, "year2"),
    ("MM", 2, "month"), ("DD", 2, "day"), ("HH", 2, "hour"), ("MI", 2, "minute"),
    ("SS", 2, "second"), ("AM", 2, "meridian"), ("PM", 2, "meridian"),
)

# Letter k of each month name and meridian: table[k][index], as for digits.
_MONTH_TABLE = np.frombuffer("".join(MONTH_NAMES).encode(), dtype=np.uint8).reshape(12, 3).T.copy()
_MERIDIAN_TABLE = np.frombuffer(b"AMPM", dtype=np.uint8).reshape(2, 2).T.copy()


class Segment:
    """One piece of a format: a token (field, width) or literal bytes."""

    __slots__ = ("field", "width", "literal", "offset")

    def __init__(self, field: str | None, width: int, literal: bytes, offset: int):
        self.field = field
        self.width = width
        self.literal = literal
        self.offset = offset


class DateFormat:
    """A compiled Machbase date format; see the module docstring for its tokens."""

    def __init__(self, text: str, literal_escape=None):
        if not isinstance(text, str) or not text:
            raise EdgeError(BAD_TIME, "Date format must be a non-empty string")
        if len(text) > MAX_FORMAT_LENGTH:
            raise EdgeError(BAD_TIME, f"Date format longer than {MAX_FORMAT_LENGTH} characters")
        self.text = text
        self.segments: list[Segment] = []
        offset = 0
        literal = []

        def flush_literal():
            nonlocal offset
            if literal:
                raw = "".join(literal)
                data = (literal_escape(raw) if literal_escape else raw).encode("utf-8")
                self.segments.append(Segment(None, len(data), data, offset))
                offset += len(data)
                literal.clear()

        position = 0
        while position < len(text):
            for token, width, field in _TOKENS:
                if text.startswith(token, position):
                    flush_literal()
                    self.segments.append(Segment(field, width, b"", offset))
                    offset += width
                    position += len(token)
                    break
            else:
                literal.append(text[position])
                position += 1
        flush_literal()
        self.width = offset
        self.fields = {s.field for s in self.segments if s.field}
        template = bytearray(self.width)
        for s in self.segments:
            if s.field is None:
                template[s.offset:s.offset + s.width] = s.literal
        self._spans = _spans(self.segments)
        self._template_bytes = bytes(template)
        # The template's text before, between and after the spans (what _format_few joins).
        ends = [0] + [edge for span in self._spans for edge in (span.offset, span.offset + span.width)] + [self.width]
        self._literals = [self._template_bytes[ends[k]:ends[k + 1]] for k in range(0, len(ends), 2)]
        self._record_type = np.dtype({"names": [f"f{k}" for k in range(len(self._spans))],
                                      "formats": [f"S{span.width}" for span in self._spans],
                                      "offsets": [span.offset for span in self._spans], "itemsize": self.width})

    def __repr__(self) -> str:
        return f"DateFormat({self.text!r})"

    # Printing ----------------------------------------------------------------------------

    def format(self, utc_ns: np.ndarray, zone: TimeZone) -> np.ndarray:
        """Each time printed in this format in `zone`, as a fixed-width bytes array ('S')."""
        utc_ns = np.asarray(utc_ns, dtype=np.int64)
        local = utc_ns + zone.local_offsets(utc_ns)
        return self.format_local(local)

    def format_local(self, local_ns: np.ndarray) -> np.ndarray:
        n = local_ns.size
        if n == 0:
            return np.zeros(0, dtype=f"S{self.width}")
        if n <= FEW_TIMES:
            return self._format_few(local_ns.tolist())
        # Each span of the text is looked up by its key in a table of its texts (days: built
        # for the days present; clock and fractions: every value, built once), and copied into
        # its field of one record per time; literals between spans come from the template.
        days, within = np.divmod(local_ns, NS_PER_DAY)
        keys = _Keys(within)
        # A span whose text is the same for every time (one day; whole seconds, so no fraction)
        # goes into the template instead: the usual answer prints only its clock per time.
        template = bytearray(self._template_bytes)
        columns = []
        low = high = None
        for k, span in enumerate(self._spans):
            if span.group == "day":
                if low is None:
                    low, high = int(days.min()), int(days.max())
                if low == high:
                    template[span.offset:span.offset + span.width] = _day_text(span, low)
                    continue
                table, index = _day_table(span, days, low, high)
            elif span.group != "clock" and keys.whole_seconds():
                template[span.offset:span.offset + span.width] = _span_table(span)[0]
                continue
            else:
                table, index = _span_table(span), keys[span.group]
            columns.append((f"f{k}", table.take(index)))
        if not columns:
            return np.frombuffer(bytearray(bytes(template) * n), dtype=f"S{self.width}")
        # Writable records over the template repeated (a copy would not keep the literals,
        # which lie outside the fields).
        records = np.frombuffer(bytearray(bytes(template) * n), dtype=self._record_type)
        for name, texts in columns:
            records[name] = texts
        return records.view(f"S{self.width}")

    def _format_few(self, local_ns: list[int]) -> np.ndarray:
        """format_local of a few times, one by one: numpy's set-up per call costs more. A
        time's text is its spans' texts joined with the literals around them."""
        spans, literals = self._spans, self._literals
        tables = [None if span.group == "day" else _span_table(span) for span in spans]
        texts = []
        for local in local_ns:
            days, within = divmod(local, NS_PER_DAY)
            second, fraction = divmod(within, NS_PER_SECOND)
            keys = {"clock": second, "milli": fraction // NS_PER_MS, "micro": fraction // NS_PER_US % 1000,
                    "nano": fraction % 1000}
            parts = [literals[0]]
            for span, table, literal in zip(spans, tables, literals[1:]):
                parts.append(_day_text(span, days) if table is None else table[keys[span.group]])
                parts.append(literal)
            texts.append(b"".join(parts))
        return np.array(texts, dtype=f"S{self.width}")

    # Parsing -----------------------------------------------------------------------------

    def parse_columns(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local ns and a validity mask from text given column-wise: a (width, n) uint8 array.

        Column-wise because each text position is then one contiguous vector.
        """
        n = columns.shape[1]
        ok = np.ones(n, dtype=bool)
        values: dict[str, np.ndarray] = {}
        for s in self.segments:
            if s.field is None:
                for k, byte in enumerate(s.literal):
                    ok &= columns[s.offset + k] == byte
            elif s.field == "month_name":
                month, found = month_from_letters(*(columns[s.offset + k] for k in range(3)))
                ok &= found
                values["month"] = month
            elif s.field == "meridian":
                first = columns[s.offset] & 0xDF
                second = columns[s.offset + 1] & 0xDF
                pm = first == ord("P")
                ok &= (pm | (first == ord("A"))) & (second == ord("M"))
                values["pm"] = pm
            else:
                value = np.zeros(n, dtype=np.int32)
                for k in range(s.width):
                    digit = columns[s.offset + k] - np.uint8(48)  # wraps above 9 for non-digits
                    ok &= digit <= 9
                    value *= 10
                    value += digit
                values[s.field] = value
        return _local_ns_from_fields(values, ok)


@functools.cache
def _digit_table(width: int) -> np.ndarray:
    """Digit k of every number 0 .. 10**width - 1 zero-padded, as text: table[k][v]."""
    numbers = np.arange(10 ** width)
    return np.stack([48 + numbers // 10 ** (width - 1 - k) % 10 for k in range(width)]).astype(np.uint8)


@functools.lru_cache(maxsize=64)
def compile_format(text: str) -> DateFormat:
    """A compiled format, cached: requests repeat the same few."""
    return DateFormat(text)


# Up to this many times print one by one in Python (format_local), cheaper than numpy's set-up
# (measured: 4 times 28 against 38 us, 8 times 46 against 35 us); a span of up to FEW_DAYS
# days has its day texts printed in Python too.
FEW_TIMES = 5
FEW_DAYS = 64
# What each token is computed from: the day, the second of the day, or a part of the fraction.
_GROUPS = {"year": "day", "year2": "day", "month": "day", "month_name": "day", "day": "day",
           "hour": "clock", "hour12": "clock", "minute": "clock", "second": "clock", "meridian": "clock",
           "milli": "milli", "micro": "micro", "nano": "nano"}
# How many keys each group but "day" has: its table holds a text for every one.
_GROUP_SIZES = {"clock": SECONDS_PER_DAY, "milli": 1000, "micro": 1000, "nano": 1000}


class _Span:
    """A run of a format's text whose tokens all come from one key (a group of _GROUPS),
    with the literals between them: "HH24:MI:SS" is one span, printed by one look-up."""

    __slots__ = ("group", "offset", "width", "segments", "shape", "_hash")

    def __init__(self, group: str, segments: tuple[Segment, ...]):
        self.group = group
        self.offset = segments[0].offset
        self.width = segments[-1].offset + segments[-1].width - self.offset
        self.segments = segments
        # What its text depends on besides the key: equal shapes share a table.
        self.shape = self.group, tuple((s.field, s.width, s.literal, s.offset - self.offset) for s in segments)
        self._hash = hash(self.shape)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return isinstance(other, _Span) and self.shape == other.shape


def _spans(segments: list[Segment]) -> list[_Span]:
    """The spans of a format: consecutive tokens of one group, and the literals between them."""
    spans: list[_Span] = []
    run: list[Segment] = []  # tokens of one group, literals after the last token pending
    for segment in segments:
        group = _GROUPS.get(segment.field)
        if group is None:
            if run:
                run.append(segment)
            continue
        if run and _GROUPS[run[0].field] != group:
            spans.append(_closed(run))
            run = []
        run.append(segment)
    if run:
        spans.append(_closed(run))
    return spans


def _closed(run: list[Segment]) -> _Span:
    while run[-1].field is None:  # literals after the last token stay in the template
        run.pop()
    return _Span(_GROUPS[run[0].field], tuple(run))


class _Keys:
    """Each time's key for the tables of each group but "day", from its ns within the day;
    computed when first asked for."""

    def __init__(self, within: np.ndarray):
        self._within = within
        self._fraction: np.ndarray | None = None
        self._whole_seconds: bool | None = None

    def fraction(self) -> np.ndarray:
        if self._fraction is None:
            self._fraction = (self._within % NS_PER_SECOND).astype(np.int32)
        return self._fraction

    def whole_seconds(self) -> bool:
        """Whether every time is a whole second (each fraction key 0)."""
        if self._whole_seconds is None:
            self._whole_seconds = not self.fraction().any()
        return self._whole_seconds

    def __getitem__(self, group: str) -> np.ndarray:
        if group == "clock":
            return self._within // NS_PER_SECOND
        if group == "milli":
            return self.fraction() // NS_PER_MS
        if group == "micro":
            return self.fraction() // NS_PER_US % 1000
        return self.fraction() % 1000


@functools.lru_cache(maxsize=16)
def _span_table(span: _Span) -> np.ndarray:
    """The text of a clock or fraction span for every key (86,400 seconds of the day, or
    1,000 values), shared by the formats holding the same span."""
    keys = np.arange(_GROUP_SIZES[span.group], dtype=np.int64)
    if span.group == "clock":
        hour = keys // 3600
        fields = {"hour": hour, "minute": keys // 60 % 60, "second": keys % 60, "hour12": (hour + 11) % 12 + 1,
                  "meridian": hour >= 12}
    else:
        fields = {span.group: keys}
    return _span_texts(span, fields, keys.size)


def _day_table(span: _Span, days: np.ndarray, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """Texts of a day span for the days present (from `low` to `high`), and each time's index
    among them."""
    if high - low < FEW_DAYS:  # the usual answer: a few days, each printed once in Python
        texts = [_day_text(span, day) for day in range(low, high + 1)]
        return np.array(texts, dtype=f"S{span.width}"), days - low
    if high - low < max(1024, days.size // 4):  # times cluster in few days
        distinct, index = np.arange(low, high + 1, dtype=np.int64), days - low
    else:
        distinct, index = np.unique(days, return_inverse=True)
    year, month, day = civil_from_days(distinct)
    fields = {"year": year, "year2": year % 100, "month": month, "month_name": month, "day": day}
    return _span_texts(span, fields, distinct.size), index


def _span_texts(span: _Span, fields: dict[str, np.ndarray], count: int) -> np.ndarray:
    """The span's text for `count` keys, as a fixed-width bytes array; fields[f][i] is the
    value of field f for key i. Built column by column (each text position a contiguous
    row), transposed once at the end: contiguous writes are several times faster."""
    columns = np.empty((span.width, count), dtype=np.uint8)
    for s in span.segments:
        at = s.offset - span.offset
        if s.field is None:
            columns[at:at + s.width] = np.frombuffer(s.literal, dtype=np.uint8)[:, None]
        elif s.field == "month_name":
            columns[at:at + 3] = _MONTH_TABLE.take(fields["month"] - 1, axis=1)
        elif s.field == "meridian":
            columns[at:at + 2] = _MERIDIAN_TABLE.take(fields["meridian"].astype(np.int64), axis=1)
        else:
            # All digits of the field in one take: row k of the table is digit k.
            _digit_table(s.width).take(fields[s.field], axis=1, out=columns[at:at + s.width])
    return np.ascontiguousarray(columns.T).view(f"S{span.width}").reshape(count)


@functools.lru_cache(maxsize=4096)
def _day_text(span: _Span, days: int) -> bytes:
    """A day span's text for one day, in Python (answers hold few distinct days)."""
    year, month, day = _dt.date.fromordinal(days + _EPOCH_ORDINAL).timetuple()[:3]
    values = {"year": year, "year2": year % 100, "month": month, "day": day}
    parts = []
    for s in span.segments:
        if s.field is None:
            parts.append(s.literal)
        elif s.field == "month_name":
            parts.append(MONTH_NAMES[month - 1].encode())
        else:
            parts.append(b"%0*d" % (s.width, values[s.field]))
    return b"".join(parts)


def _local_ns_from_fields(values: dict[str, np.ndarray], ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local ns from parsed fields (int32 arrays; absent ones take their least value)."""
    n = ok.size
    zero = np.zeros(n, dtype=np.int32)
    one = np.ones(n, dtype=np.int32)
    year = values.get("year")
    if year is None:
        year = values["year2"] + 2000 if "year2" in values else one * 1970
    month = values.get("month", one)
    day = values.get("day", one)
    if "hour12" in values:
        hour12 = values["hour12"]
        ok &= (hour12 >= 1) & (hour12 <= 12)
        hour = hour12 % 12 + np.where(values.get("pm", np.zeros(n, bool)), 12, 0)
    else:
        hour = values.get("hour", zero)
    minute = values.get("minute", zero)
    second = values.get("second", zero)
    # The calendar work is done once per run of equal dates: a batch holds few distinct days.
    date_key = (year * 100 + month) * 100 + day
    heads = np.flatnonzero(np.r_[True, date_key[1:] != date_key[:-1]]) if n else np.zeros(0, np.int64)
    runs = np.diff(np.r_[heads, n])
    y, m, d = year[heads], month[heads], day[heads]
    date_ok = (y >= MIN_YEAR) & (y <= MAX_YEAR) & (m >= 1) & (m <= 12)
    m = np.where(date_ok, m, 1)  # so that a rejected month cannot index out of the table
    date_ok &= (d >= 1) & (d <= month_lengths(y, m))
    days = days_from_civil(y.astype(np.int32), m.astype(np.int32), d.astype(np.int32)).astype(np.int64)
    ok &= np.repeat(date_ok, runs)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    seconds = np.repeat(days * SECONDS_PER_DAY, runs) + (hour * 3600 + minute * 60 + second)
    fraction = (values.get("milli", zero) * NS_PER_MS + values.get("micro", zero) * NS_PER_US
                + values.get("nano", zero))
    local = seconds * NS_PER_SECOND + fraction
    local[~ok] = 0
    return local, ok


# Parsing whole batches ---------------------------------------------------------------------

# The forms the Machbase tag API accepts without a format, tried in turn, each vectorised.
STANDARD_FORMS = (
    DEFAULT_FORMAT,
    "YYYY-MM-DD HH24:MI:SS",
    "YYYY-MM-DD",
    "YYYY-MM-DDTHH24:MI:SS",
    "YYYY-MM-DDTHH24:MI:SS,mmm",
    "YYYY-MM-DD HH24:MI:SS,mmm",
    "YYYY-MM-DD HH24:MI:SS, mmm",
    "YYYY-MM-DD HH24:MI:SS.mmm",
    "YYYY-MM-DDTHH24:MI:SS.mmm",
)

# Whatever the vectorised forms left: shorter fractions, "mmm:uuu", ISO fractions of 1-9 digits.
_FLEXIBLE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})"
    r"(?:[.,] ?(\d{1,9})|\s+(\d{1,3})(?::(\d{1,3})(?::(\d{1,3}))?)?)?)?)?")


def parse_times(texts: Sequence[str] | np.ndarray, zone: TimeZone,
                date_format: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """UTC ns of each text and a mask of the ones that parsed; the rest are 0.

    Tried in turn on what is left: `date_format` (if given), then the STANDARD_FORMS, each on
    the texts whose length fits, as byte matrices; finally, one by one, the flexible forms.
    """
    data = _as_bytes_array(texts)
    n = data.size
    local = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return local, ok
    lengths = np.strings.str_len(data)
    width = data.dtype.itemsize
    columns = np.ascontiguousarray(data.view(np.uint8).reshape(n, width).T)
    formats = ([compile_format(date_format)] if date_format else []) + [compile_format(f) for f in STANDARD_FORMS]
    for fmt in formats:
        fits = ~ok & (lengths == fmt.width)
        if fits.all():
            parsed, good = fmt.parse_columns(columns[:fmt.width])
            local[good] = parsed[good]
            ok |= good
            continue
        rows = np.flatnonzero(fits)
        if rows.size == 0:
            continue
        parsed, good = fmt.parse_columns(columns[:fmt.width, rows])
        local[rows[good]] = parsed[good]
        ok[rows[good]] = True
    for row in np.flatnonzero(~ok).tolist():
        value = _parse_flexible(data[row])
        if value is not None:
            local[row] = value
            ok[row] = True
    utc = np.zeros(n, dtype=np.int64)
    utc[ok] = zone.utc_from_local(local[ok])
    return utc, ok


def parse_time(text: str, zone: TimeZone, date_format: str | None = None, what: str = "time") -> int:
    """UTC ns of one time; EdgeError naming `what` and the accepted forms if it does not parse."""
    if not isinstance(text, str):
        raise EdgeError(BAD_TIME, f"{what} must be a string, got {_json_type(text)}")
    if date_format is None:
        # Without a format one text reads as the flexible form would read it (it takes every
        # standard form): in plain integers, a few microseconds instead of a batch's set-up.
        local = _parse_flexible_text(text.strip())
        if local is not None:
            return int(zone.utc_from_local(np.array([local], dtype=np.int64))[0])
    utc, ok = parse_times([text.strip()], zone, date_format)
    if not ok[0] and out_of_range(text, date_format):
        raise EdgeError(BAD_TIME, f"{what} {text!r} is {OUT_OF_RANGE}")
    if not ok[0]:
        accepted = f"the format {date_format!r} or " if date_format else ""
        raise EdgeError(BAD_TIME, f"Cannot parse {what} {text!r}: expected {accepted}"
                                       f"YYYY-MM-DD[ HH:MI:SS[ mmm:uuu:nnn]] or YYYY-MM-DDTHH:MI:SS[,mmm]")
    return int(utc[0])


def out_of_range(text: str, date_format: str | None = None) -> bool:
    """Whether `text`, refused by `parse_times`, is a well-formed time whose year is out of range."""
    utc = TimeZone("UTC")
    return year_out_of_range(text.strip(), lambda t: bool(parse_times([t], utc, date_format)[1][0]))


def why_not_a_time(text: str, date_format: str | None = None) -> str:
    """Why `text` (refused by `parse_times`) is no time, after "<text> ": out of range when it
    is well-formed but for its year, else not in the date format."""
    return f"is {OUT_OF_RANGE}" if out_of_range(text, date_format) else "is not a time in the date format"


def _as_bytes_array(texts) -> np.ndarray:
    if isinstance(texts, np.ndarray) and texts.dtype.kind == "S":
        return texts
    if isinstance(texts, (list, tuple)) and texts:
        widths = set(map(len, texts))
        width = widths.pop() if len(widths) == 1 else 0
        if width:
            # Texts of one length (a batch in one format): one join, no per-text conversion.
            try:
                return np.frombuffer("".join(texts).encode("ascii"), dtype=f"S{width}")
            except UnicodeEncodeError:
                pass
    try:
        return np.asarray(texts, dtype="S")
    except UnicodeEncodeError:
        # Non-ASCII text: its UTF-8 bytes, so that a format with such literals can still match.
        return np.array([t.encode("utf-8") for t in texts], dtype="S")


def _parse_flexible(raw: bytes) -> int | None:
    match = _FLEXIBLE.fullmatch(raw.decode("utf-8", "replace").strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, milli, micro, nano = match.groups()
    fraction_ns = 0
    if fraction is not None:
        fraction_ns = int(fraction.ljust(9, "0"))
    elif milli is not None:
        fraction_ns = int(milli) * NS_PER_MS + int(micro or 0) * NS_PER_US + int(nano or 0)
    values = {name: np.array([int(v)], dtype=np.int32) for name, v in
              (("year", year), ("month", month), ("day", day), ("hour", hour or 0),
               ("minute", minute or 0), ("second", second or 0))}
    local, ok = _local_ns_from_fields(values, np.ones(1, dtype=bool))
    return int(local[0]) + fraction_ns if ok[0] else None


def _parse_flexible_text(text: str) -> int | None:
    """Local ns of one text in the flexible forms (the standard forms among them), checked as
    `_local_ns_from_fields` checks a batch; None if it is none of them."""
    match = _FLEXIBLE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, milli, micro, nano = match.groups()
    year, month, day = int(year), int(month), int(day)
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12 and hour <= 23 and minute <= 59 and second <= 59):
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month] + (leap and month == 2):
        return None
    if fraction is not None:
        fraction_ns = int(fraction.ljust(9, "0"))
    elif milli is not None:
        fraction_ns = int(milli) * NS_PER_MS + int(micro or 0) * NS_PER_US + int(nano or 0)
    else:
        fraction_ns = 0
    days = (_dt.date(year, month, day) - _EPOCH_DATE).days
    return (days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second) * NS_PER_SECOND + fraction_ns


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH_DATE.toordinal()


def _json_type(value) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object",
            type(None): "null"}.get(type(value), type(value).__name__)


# Printing ----------------------------------------------------------------------------------

def format_times(utc_ns: np.ndarray, zone: TimeZone, date_format: str = DEFAULT_FORMAT) -> list[str]:
    """Each time as text in `date_format` and `zone` (for TO_CHAR and small answers)."""
    fmt = compile_format(date_format)
    return np.char.decode(fmt.format(utc_ns, zone), "utf-8").tolist()


def format_time(utc_ns: int, zone: TimeZone, date_format: str = DEFAULT_FORMAT) -> str:
    return format_times(np.array([utc_ns], dtype=np.int64), zone, date_format)[0]
