"""The usual append body read straight from its bytes with numpy, without `json.loads`.

Collectors send `{"date_format": "...", "values": [["tag", "time", 1.5], ...]}`: ASCII, no
escapes, rows of two strings and a number. For such a body the rows' cells are located by
vectorised tokenizing (quotes, brackets, commas found as byte masks) and come out as byte
arrays and a float array directly; the tens of thousands of Python objects `json.loads` would
make (and then need taking apart again) are never built.

Anything else - escapes, non-ASCII, nulls, extra columns, odd structure, invalid numbers -
returns None, and the caller parses the body with `json` as usual; so this path only ever
accepts bodies `json.loads` accepts, and reads them the same way.
"""

from __future__ import annotations

import dataclasses

import numpy as np

# Token kinds, marked at each token's first byte.
OPEN_LIST, CLOSE_LIST, COMMA, OPEN_OBJECT, CLOSE_OBJECT, COLON, STRING, WORD = range(1, 9)
_PUNCTUATION = {ord("["): OPEN_LIST, ord("]"): CLOSE_LIST, ord(","): COMMA, ord("{"): OPEN_OBJECT,
                ord("}"): CLOSE_OBJECT, ord(":"): COLON}
_ROW = np.array([OPEN_LIST, STRING, COMMA, STRING, COMMA, WORD, CLOSE_LIST, COMMA], dtype=np.int8)
_WHITESPACE = (9, 10, 13, 32)

# A JSON number, as a DFA over character classes, run over all numbers at once.
_CLASS = np.full(256, 7, dtype=np.int8)  # 7: anything else
_CLASS[0] = 0  # padding after the number's last character
_CLASS[ord("-")] = 1
_CLASS[ord("+")] = 2
_CLASS[ord("0")] = 3
_CLASS[ord("1"):ord("9") + 1] = 4
_CLASS[ord(".")] = 5
_CLASS[ord("e")] = _CLASS[ord("E")] = 6
_E = 9  # the error state
#                      end  -   +   0   1-9  .   e  other
_NUMBER_DFA = np.array([[_E, 1, _E, 2, 3, _E, _E, _E],   # 0 start
                        [_E, _E, _E, 2, 3, _E, _E, _E],  # 1 after "-"
                        [2, _E, _E, _E, _E, 4, 6, _E],   # 2 a leading 0
                        [3, _E, _E, 3, 3, 4, 6, _E],     # 3 integer digits
                        [_E, _E, _E, 5, 5, _E, _E, _E],  # 4 after "."
                        [5, _E, _E, 5, 5, _E, 6, _E],    # 5 fraction digits
                        [_E, 7, 7, 8, 8, _E, _E, _E],    # 6 after "e"
                        [_E, _E, _E, 8, 8, _E, _E, _E],  # 7 after the exponent's sign
                        [8, _E, _E, 8, 8, _E, _E, _E],   # 8 exponent digits
                        [_E] * 8], dtype=np.int8)        # 9 error
_ACCEPTING = np.array([False, False, True, True, False, True, False, False, True, False])


@dataclasses.dataclass
class SimpleAppend:
    """The rows of a simple append body as arrays, and its other top-level string members."""
    names: np.ndarray       # 'S' (ASCII) per row
    name_sizes: np.ndarray  # bytes per name
    times: np.ndarray       # 'S' per row
    values: np.ndarray      # float64 per row
    members: dict[str, str]

    @property
    def rows(self) -> int:
        return len(self.values)


def read_simple_append(raw: bytes) -> SimpleAppend | None:
    """The body's rows if it is a simple append body (see the module docstring), else None."""
    data = np.frombuffer(raw, dtype=np.uint8)
    if data.size == 0 or data.max() >= 128:
        return None
    if np.any(data == ord("\\")):
        return None
    quotes = np.flatnonzero(data == ord('"'))
    if quotes.size % 2:
        return None
    opens, closes = quotes[0::2], quotes[1::2]
    depth_marks = np.zeros(data.size + 1, dtype=np.int32)
    depth_marks[opens] += 1
    depth_marks[closes] -= 1
    inside = np.cumsum(depth_marks[:-1]) > 0  # from each opening quote up to its closing one
    if np.any(inside & (data < 32)):
        return None  # raw control characters in a string: invalid JSON
    outside = ~inside
    outside[closes] = False
    significant = outside & ~np.isin(data, _WHITESPACE)

    kinds = np.zeros(data.size, dtype=np.int8)
    kinds[opens] = STRING
    for byte, kind in _PUNCTUATION.items():
        kinds[significant & (data == byte)] = kind
    word = significant & (kinds == 0)
    word_start = word.copy()
    word_start[1:] &= ~word[:-1]
    kinds[word_start] = WORD
    positions = np.flatnonzero(kinds)
    tokens = kinds[positions]
    if tokens.size < 2 or tokens[0] != OPEN_OBJECT or tokens[-1] != CLOSE_OBJECT:
        return None

    step = np.zeros(tokens.size, dtype=np.int32)
    step[(tokens == OPEN_LIST) | (tokens == OPEN_OBJECT)] = 1
    step[(tokens == CLOSE_LIST) | (tokens == CLOSE_OBJECT)] = -1
    depth_after = np.cumsum(step)
    if depth_after.min() < 0 or depth_after[-1] != 0 or np.any(depth_after[:-1] == 0):
        return None
    top = np.flatnonzero(depth_after - step == 1)[:-1]  # tokens directly inside the object

    members, values_span = _members(tokens, top, positions, raw, closes, opens)
    if values_span is None:
        return None
    first, last = values_span  # the tokens of the rows, between the array's brackets
    inner = tokens[first:last]
    if inner.size == 0:
        empty = np.zeros(0, dtype="S1")
        return SimpleAppend(empty, np.zeros(0, np.int64), empty, np.zeros(0), members)
    if (inner.size + 1) % _ROW.size:
        return None
    if not np.array_equal(np.r_[inner, COMMA].reshape(-1, _ROW.size), np.broadcast_to(_ROW, ((inner.size + 1) // 8, 8))):
        return None

    rows = (inner.size + 1) // _ROW.size
    cell_starts = positions[first:last].reshape(-1)  # pad-free: index by pattern offsets
    base = np.arange(rows) * _ROW.size
    name_open = cell_starts[base + 1]
    time_open = cell_starts[base + 3]
    number_start = cell_starts[base + 5]
    close_of = closing_quotes(opens, closes)
    name_close = close_of(name_open)
    time_close = close_of(time_open)
    names, name_sizes = _cut(data, name_open + 1, name_close)
    times, _ = _cut(data, time_open + 1, time_close)
    number_end = _word_ends(word, number_start)
    numbers, _ = _cut(data, number_start, number_end)
    if not _valid_numbers(numbers):
        return None
    return SimpleAppend(names, name_sizes, times, numbers.astype(np.float64), members)


def closing_quotes(opens: np.ndarray, closes: np.ndarray):
    """Maps opening quote positions to their closing quote positions."""
    def close_of(open_positions: np.ndarray) -> np.ndarray:
        return closes[np.searchsorted(opens, open_positions)]
    return close_of


def _members(tokens, top, positions, raw: bytes, closes, opens):
    """Top-level members: strings kept, the "values" array located; None span if unusual."""
    members: dict[str, str] = {}
    values_span = None
    close_of = closing_quotes(opens, closes)
    index = 0
    count = top.size
    while index < count:
        key_token = top[index]
        if index + 2 >= count or tokens[key_token] != STRING or tokens[top[index + 1]] != COLON:
            return members, None
        key_start = positions[key_token]
        key = raw[key_start + 1:int(close_of(np.array([key_start]))[0])].decode("ascii")
        value_token = top[index + 2]
        if key in members or (key == "values" and values_span is not None):
            return members, None  # a repeated key: json keeps the last; leave that to json
        if key == "values":
            if tokens[value_token] != OPEN_LIST:
                return members, None
            after = top[index + 3] if index + 3 < count else tokens.size - 1
            values_span = (value_token + 1, after - 1)
            if tokens[after - 1] != CLOSE_LIST:
                return members, None
        elif tokens[value_token] == STRING:
            start = positions[value_token]
            members[key] = raw[start + 1:int(close_of(np.array([start]))[0])].decode("ascii")
        else:
            return members, None
        index += 3
        if index < count:
            if tokens[top[index]] != COMMA:
                return members, None
            index += 1
            if index >= count:
                return members, None  # a trailing comma
    return members, values_span


def _cut(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bytes start..end-1 of each row as a fixed-width 'S' array (NUL-padded), and sizes."""
    sizes = (ends - starts).astype(np.int64)
    width = max(int(sizes.max(initial=0)), 1)
    matrix = np.zeros((sizes.size, width), dtype=np.uint8)
    take = np.arange(width) < sizes[:, None]
    source = np.minimum(starts[:, None] + np.arange(width), data.size - 1)
    matrix[take] = data[source[take]]
    return matrix.view(f"S{width}").reshape(-1), sizes


def _word_ends(word: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Where each word (run of word bytes) starting at `starts` ends."""
    ends_mask = np.zeros(word.size + 1, dtype=bool)
    ends_mask[:-1] = word
    boundary = np.flatnonzero(~ends_mask)
    return boundary[np.searchsorted(boundary, starts)]


def _valid_numbers(numbers: np.ndarray) -> bool:
    width = numbers.dtype.itemsize
    matrix = numbers.view(np.uint8).reshape(-1, width)
    state = np.zeros(matrix.shape[0], dtype=np.int8)
    for column in range(width):
        state = _NUMBER_DFA[state, _CLASS[matrix[:, column]]]
    return bool(_ACCEPTING[state].all())
