"""Line-protocol bodies read a shape at a time: what collectors send, fast.

A line's shape is the sequence of its separators (`,` `=` space): Telegraf writes one shape
for every line of a measurement (`cpu,host=a,site=b f0=1,i1=2i 1600000000`: the tags, the
field keys and their order stay, the values change). The body's separators are found at
once; lines are grouped by shape; each group is a block whose sections sit in the same
columns of a (lines x separators) matrix of positions. In a block the field keys are read
once (each column must hold one key on every line), each distinct series key once, the
values and timestamps a column at a time, eight bytes to a load (`edge.web.influx.words`;
numbers exactly as `float` and `int` read them), and the points come out grouped by tag:
every field of a series shares its times, which the store writes once.

Only plain bodies take this path: ASCII, no backslash, quote or `#`, one space between
sections, no empty token, every value a number or boolean, every tag name new to its block
and short enough, no two fields of a line with one key, no tag in two blocks. Anything else
gives None and the body is read by the other paths (which name a bad line), so the points
are always the ones the line-by-line reading gives.
"""

from __future__ import annotations

import sys

import numpy as np

from edge.web.influx import line_protocol as lp
from edge.web.influx import words as w
from edge.web.influx.tag_names import FIELD_SEPARATOR

_COMMA, _EQUALS, _SPACE, _NEWLINE, _POINT, _MINUS, _I = 44, 61, 32, 10, 46, 45, 105
_SHAPE_CODE = np.zeros(256, np.uint64)
_SHAPE_CODE[[_COMMA, _EQUALS, _SPACE]] = [1, 2, 3]
MAX_SEPARATORS = 4096  # per line; longer lines take the other paths
_SHAPE_HASH = np.random.default_rng(20261203).integers(1, 2**63, size=MAX_SEPARATORS, dtype=np.uint64)
_TEXT_HASH = np.random.default_rng(20261204).integers(1, 2**63, size=w.LONGEST // 8, dtype=np.uint64) | np.uint64(1)
_POWERS = 10.0 ** np.arange(19)
MOST_DIGITS = 15  # a decimal of up to 15 digits is its mantissa over a power of ten, both exact doubles
# Longer decimals (up to 19 digits: a 64-bit mantissa) are divided in the x87's 64-bit extended
# precision where numpy's longdouble has it, else read by float one at a time.
_EXTENDED = np.finfo(np.longdouble).nmant >= 63
_POWERS_EXTENDED = np.array([10 ** k for k in range(19)], dtype=np.longdouble)  # exact: 5^18 < 2^63


class _Reader:
    """The body as bytes and as 8-byte words, and where its points are."""

    def __init__(self, raw: bytes, body: np.ndarray, words: np.ndarray, points: np.ndarray):
        self.raw, self.body, self.words, self.points = raw, body, words, points


def parse_shapes(text: str, now_ns: int, scale: int, max_name_bytes: int) -> lp.ParsedBody | None:
    """The body read shape by shape, or None when it is not plain (see the module's text)."""
    if sys.byteorder != "little":  # the word readers load little-endian words
        return None
    if not text.isascii() or "\\" in text or '"' in text or "#" in text:
        return None
    raw = text.encode("ascii")
    if not raw.endswith(b"\n"):
        raw += b"\n"
    if raw == b"\n":
        return None
    padded = np.zeros(w.PAD + len(raw), np.uint8)  # zeros before the body: words are read back from a stop
    body = padded[w.PAD:]
    body[:] = np.frombuffer(raw, np.uint8)
    is_separator = body == _NEWLINE
    lines = int(np.count_nonzero(is_separator))
    if np.count_nonzero(body < 32) != lines:  # tabs, \r and the other blanks str.split knows
        return None
    for separator in (_COMMA, _EQUALS, _SPACE):
        is_separator |= body == separator
    separators = np.flatnonzero(is_separator)
    kinds = body[separators]
    newlines = np.flatnonzero(kinds == _NEWLINE)  # per line: its newline's index in `separators`
    first = np.zeros(lines, np.int64)  # per line: the index of its first separator
    first[1:] = newlines[:-1] + 1
    counts = newlines - first  # separators of each line before its newline
    if int(counts.max()) >= MAX_SEPARATORS:
        return None
    line_starts = np.zeros(lines, np.int64)
    line_starts[1:] = separators[newlines[:-1]] + 1
    width = int(counts[0])
    one_shape = bool((counts == width).all()) and bool((kinds.reshape(lines, width + 1) == kinds[:width + 1]).all())
    if one_shape:  # every line alike (one collector, one measurement): no need to tell shapes apart
        blocks = [np.arange(lines)]
    else:
        place = np.arange(len(separators)) - np.repeat(first, counts + 1)
        shape_of_line = np.add.reduceat(_SHAPE_CODE[kinds] * _SHAPE_HASH[place], first)
        _, shape_ids = np.unique(shape_of_line, return_inverse=True)
        order = np.argsort(shape_ids, kind="stable")
        bounds = np.flatnonzero(np.diff(shape_ids[order])) + 1
        blocks = np.split(order, bounds)
    points_per_line = np.zeros(lines, np.int64)
    read = []
    reader = _Reader(raw, body, w.loads(padded), np.flatnonzero(body == _POINT))
    for block in blocks:
        found = _block(reader, separators, kinds, first[block], counts[block], line_starts[block], now_ns, scale,
                       one_shape)
        if found is None:
            return None
        read.append(found)
        points_per_line[block] = len(found[2])
    line_offsets = np.zeros(lines, np.int64)
    np.cumsum(points_per_line[:-1], out=line_offsets[1:])
    return _grouped(read, blocks, line_offsets, lines, max_name_bytes)


def _block(reader: _Reader, separators: np.ndarray, kinds: np.ndarray, first: np.ndarray, counts: np.ndarray,
           line_starts: np.ndarray, now_ns: int, scale: int, checked: bool):
    """(series prefixes, each line's index in them, field names, values (lines x fields), times
    per line) of lines of one shape (`checked`: known to be, else told apart by a hash and
    checked here); None if the shape or a token is not plain or a value no number."""
    width = int(counts[0])
    if not checked and not bool((counts == width).all()):
        return None
    columns = first[:, None] + np.arange(width + 1)
    shape = kinds[first[0]:first[0] + width + 1]
    if not checked and not bool((kinds[columns] == shape).all()):
        return None
    sections = _sections(shape.tolist())
    if sections is None:
        return None
    key_end, field_equals, stamp_space = sections
    ends = separators[columns]  # per line and separator: its position in the body
    if not bool((ends[:, 0] > line_starts).all()) or not bool((np.diff(ends, axis=1) > 1).all()):
        return None  # an empty token
    found = _distinct(reader.words, line_starts, ends[:, key_end])
    if found is None:
        return None
    first_line, series_of_line = found
    known = lp._KNOWN_SERIES
    if len(known) > lp.KNOWN_SERIES_MAX:
        known.clear()
    raw = reader.raw
    prefixes = [known[raw[s:e].decode("ascii")]
                for s, e in zip(line_starts[first_line].tolist(), ends[first_line, key_end].tolist())]
    if any(isinstance(p, lp.LineError) for p in prefixes):
        return None
    key_starts = ends[:, [key_end] + [e + 1 for e in field_equals[:-1]]] + 1
    key_stops = ends[:, field_equals]
    field_names = []
    escaped = lp._FieldKeys()
    for j in range(len(field_equals)):
        name = _one_text(reader, key_starts[:, j], key_stops[:, j])
        if name is None:
            return None
        field_names.append(escaped[name])
    if len(set(field_names)) != len(field_names):
        return None
    values = _numbers(reader, (ends[:, field_equals] + 1).reshape(-1),
                      ends[:, [e + 1 for e in field_equals]].reshape(-1))
    if values is None:
        return None
    if stamp_space is None:
        times = np.full(len(first), now_ns, np.int64)
    else:
        times = _stamps(reader, ends[:, stamp_space] + 1, ends[:, width], scale)
        if times is None:
            return None
    return prefixes, series_of_line, field_names, values.reshape(len(first), -1), times


def _distinct(words: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(index of the first range of each distinct text, each range's distinct number); None
    when a text is longer than words.LONGEST or two texts share a hash."""
    count = -(-int((stops - starts).max()) // 8)
    if count > w.LONGEST // 8:
        return None
    texts = w.texts(words, starts, stops, count)
    if count == 1:
        _, first, inverse = np.unique(texts[:, 0], return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    hashes = (texts * _TEXT_HASH[:count]).sum(axis=1)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(texts, texts[first][inverse]):
        return None
    return first, inverse


def _one_text(reader: _Reader, starts: np.ndarray, stops: np.ndarray) -> str | None:
    """The text every range [start, stop) holds, or None when they differ."""
    count = -(-int((stops - starts).max()) // 8)
    if count > w.LONGEST // 8:
        return None
    texts = w.texts(reader.words, starts, stops, count)
    if not bool((texts == texts[0]).all()):
        return None
    return reader.raw[int(starts[0]):int(stops[0])].decode("ascii")


def _numbers(reader: _Reader, starts: np.ndarray, stops: np.ndarray) -> np.ndarray | None:
    """The values of the ranges (ascending, disjoint); None if any is not a number. Plain
    decimals (`-?\\d*(\\.\\d*)?` of 1 to MOST_DIGITS digits, integers `-?\\d+i`) are read
    here, exactly as `float` reads them; others one distinct text at a time (`field_value`)."""
    body = reader.body
    negative = body[starts] == _MINUS
    integer = body[stops - 1] == _I
    begin, end = starts + negative, stops - integer
    # The point of each range, if it has one (several: not plain).
    point_range = np.searchsorted(starts, reader.points, "right") - 1
    inside = (point_range >= 0) & (reader.points < stops[np.maximum(point_range, 0)])
    point_range, at = point_range[inside], reader.points[inside]
    points = np.bincount(point_range, minlength=len(starts))
    has_point = points == 1
    point = np.full(len(starts), w.NOWHERE, np.int64)
    point[point_range] = at  # ranges with two points are not plain whatever this holds
    # Read with the point as a 0 digit: N = whole * 10^(decimals + 1) + fraction.
    number, ok = w.digits(reader.words, begin, end, point)
    decimals = np.where(has_point, end - 1 - point, 0)
    digits = end - begin - has_point
    plain = ok & (points <= 1) & ~(integer & has_point) & (digits >= 1) & (digits <= MOST_DIGITS)
    decimals = np.minimum(np.maximum(decimals, 0), 18)  # in range where plain (19 bytes at most)
    tens = w.TENS[decimals]
    mantissa = number // w.TENS[decimals + has_point] * tens + number % tens
    decimal = mantissa.astype(np.float64) / _POWERS[decimals]
    values = np.where(integer, np.where(negative, -mantissa.astype(np.float64) + 0.0, mantissa.astype(np.float64)),
                      np.where(negative, -decimal, decimal))
    # Decimals of 16-19 digits (a double's repr has up to 17: what Telegraf writes).
    longer = np.flatnonzero(ok & (points <= 1) & ~integer & (digits > MOST_DIGITS))
    if len(longer):
        quotients, exact = _long_decimals(mantissa[longer], decimals[longer])
        values[longer] = np.where(negative[longer], -quotients, quotients)
        plain[longer[exact]] = True
    others = np.flatnonzero(~plain)
    if len(others):
        cache = lp._Values()
        raw = reader.raw
        for i, s, e in zip(others.tolist(), starts[others].tolist(), stops[others].tolist()):
            value = cache[raw[s:e].decode("ascii")]
            if value.__class__ is not float:
                return None
            values[i] = value
    return values


def _long_decimals(mantissas: np.ndarray, decimals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(double, exact) of each mantissa / 10^decimals; exact where the double is the one
    `float` gives. The quotient is rounded once to 64 bits, then to 53: the second rounding
    errs only when the first lands on a midpoint between two doubles, which is checked (those
    are left to `float`)."""
    if not _EXTENDED:
        return np.zeros(len(mantissas)), np.zeros(len(mantissas), bool)
    quotients = mantissas.astype(np.longdouble) / _POWERS_EXTENDED[decimals]
    doubles = quotients.astype(np.float64)
    here = doubles.astype(np.longdouble)
    # Midpoints with the neighbours: exact in 64 bits (two adjacent doubles sum in 54).
    below = (here + np.nextafter(doubles, -np.inf).astype(np.longdouble)) / 2
    above = (here + np.nextafter(doubles, np.inf).astype(np.longdouble)) / 2
    return doubles, (quotients != below) & (quotients != above)


def _stamps(reader: _Reader, starts: np.ndarray, stops: np.ndarray, scale: int) -> np.ndarray | None:
    """The timestamps (`-?\\d{1,19}`) in ns; None if any is another text or out of range."""
    negative = reader.body[starts] == _MINUS
    begin = starts + negative
    magnitude, ok = w.digits(reader.words, begin, stops)
    if not bool(ok.all()) or not bool((stops > begin).all()) or bool((magnitude > np.uint64(lp.INT64_MAX)).any()):
        return None
    signed = magnitude.astype(np.int64)
    times = np.where(negative, -signed, signed)
    if int(times.min()) * scale <= lp.INT64_MIN or int(times.max()) * scale > lp.INT64_MAX:
        return None
    return times * scale


def _sections(shape: list[int]) -> tuple[int, list[int], int | None] | None:
    """(column of the space after the key, columns of the fields' `=`, column of the space
    before the timestamp or None) of a line shape; None unless `key[,k=v...] k=v[,k=v...] [t]`."""
    spaces = [i for i, kind in enumerate(shape) if kind == _SPACE]
    if len(spaces) not in (1, 2) or shape[-1] != _NEWLINE:
        return None
    key_end = spaces[0]
    if key_end % 2 or shape[:key_end] != [_COMMA, _EQUALS] * (key_end // 2):
        return None
    fields_end = spaces[1] if len(spaces) == 2 else len(shape) - 1
    if fields_end != len(shape) - 1 and fields_end != len(shape) - 2:
        return None
    fields = shape[key_end + 1:fields_end]
    if len(fields) % 2 != 1 or fields != [_EQUALS] + [_COMMA, _EQUALS] * (len(fields) // 2):
        return None
    equals = list(range(key_end + 1, fields_end, 2))
    return key_end, equals, spaces[1] if len(spaces) == 2 else None


def _grouped(read: list, blocks: list[np.ndarray], line_offsets: np.ndarray, lines: int,
             max_name_bytes: int) -> lp.ParsedBody | None:
    """The blocks' points grouped by tag: per block, field after field, series after series
    (each series' lines in the order written); a series' fields share its times."""
    tags: list[str] = []
    lengths, times, values, positions, sources = [], [], [], [], []
    for (prefixes, key_of_line, field_names, block_values, block_times), block in zip(read, blocks):
        index: dict[str, int] = {}  # one series written with its tags in two orders is one
        series = np.array([index.setdefault(p, len(index)) for p in prefixes], np.int64)[key_of_line]
        order = np.argsort(series, kind="stable")
        per_series = np.bincount(series, minlength=len(index))
        fields = len(field_names)
        base = len(tags)
        tags += [prefix + FIELD_SEPARATOR + name for name in field_names for prefix in index]
        lengths.append(np.tile(per_series, fields))
        ordered_times = block_times[order]
        times.append(np.tile(ordered_times, fields))
        values.append(block_values[order].T.reshape(-1))
        positions.append((line_offsets[block][order] + np.arange(fields)[:, None]).reshape(-1))
        sources.append(np.tile(np.arange(base, base + len(index)), fields))
    if len(set(tags)) != len(tags):  # a tag in two blocks: its points would need merging
        return None
    if any(len(name) > max_name_bytes for name in tags):  # ASCII: a character is a byte
        return None
    sources = np.concatenate(sources)
    return lp.ParsedBody(tags, np.concatenate(lengths), np.concatenate(times), np.concatenate(values),
                         np.concatenate(positions), sources if bool((sources != np.arange(len(tags))).any()) else None,
                         lines, 0, [], 0)
