"""Parameters of Machbase requests: f/m/s output options, the tag API's tz, times, tag lists, counts.

Each parser raises EdgeError naming the parameter and what was expected; nothing here sees
the store.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.errors import INVALID_ARGUMENT, EdgeError
from edge.time.dateformat import DEFAULT_FORMAT, compile_format, parse_time
from edge.time.timezone import TimeZone, time_zone
from edge.web.machbase.format import OutputOptions
from edge.web.request_text import decimal_integer

DEFAULT_SCALE = 3
MAX_SCALE = 9
MAX_TAGS_PER_REQUEST = 10_000
MAX_ZONE_NAME = 64


def first_of(query: Mapping[str, str], *names: str) -> str | None:
    """The value of the first of `names` present in the query string (None if none is)."""
    for name in names:
        value = query.get(name)
        if value is not None:
            return value
    return None


def output_options(query: Mapping[str, str], zone: TimeZone) -> OutputOptions:
    """f|DateFormat, m|FetchMode and s|Scale from a query string."""
    date_format = first_of(query, "f", "DateFormat") or DEFAULT_FORMAT
    compile_format(date_format)  # refuses an over-long format with a clear error (compiled once: cached)
    mode_text = first_of(query, "m", "FetchMode")
    fetch_mode = 0
    if mode_text not in (None, ""):
        if mode_text.strip() not in ("0", "1"):
            raise EdgeError(INVALID_ARGUMENT, f"FetchMode (m) must be 0 (rows as objects) or 1 (rows as arrays), "
                                           f"got {mode_text!r}")
        fetch_mode = int(mode_text)
    return OutputOptions(zone=zone, date_format=date_format, fetch_mode=fetch_mode,
                         scale=scale_of(first_of(query, "s", "Scale")))


def request_zone(text: str | None, default: TimeZone) -> TimeZone:
    """The zone a request's times are read and printed in: tz (an IANA name, as machbase-neo's
    HTTP API takes it), else `default` (the TIMEZONE setting)."""
    if text is None or text.strip() == "":
        return default
    name = text.strip()
    if len(name) <= MAX_ZONE_NAME:
        try:
            return time_zone(name)
        except ValueError:
            pass
    raise EdgeError(INVALID_ARGUMENT, f"tz must be an IANA time zone name such as UTC or Europe/Berlin, "
                                      f"got {name[:MAX_ZONE_NAME]!r}")


def scale_of(text: str | None) -> int:
    """Decimals to print: 0-9; anything else means 3, as Machbase does."""
    try:
        scale = decimal_integer(text) if text is not None else DEFAULT_SCALE
    except ValueError:
        return DEFAULT_SCALE
    return scale if 0 <= scale <= MAX_SCALE else DEFAULT_SCALE


def tag_names(text: str | None, what: str = "TagNames") -> list[str]:
    """Comma-separated tag names, in the order given, duplicates dropped."""
    if text is None or not text.strip():
        raise EdgeError(INVALID_ARGUMENT, f"{what} is missing: give one tag name or several separated by commas")
    names = []
    seen = set()
    for part in text.split(","):
        name = part.strip()
        if not name:
            raise EdgeError(INVALID_ARGUMENT, f"{what} {text!r} has an empty tag name")
        if name not in seen:
            seen.add(name)
            names.append(name)
    if len(names) > MAX_TAGS_PER_REQUEST:
        raise EdgeError(INVALID_ARGUMENT, f"{what} lists more than {MAX_TAGS_PER_REQUEST} tags")
    return names


def request_time(text: str | None, zone: TimeZone, date_format: str | None, what: str) -> int:
    """A Start/End/BeforeTime value as UTC ns: in the f format if given, else a tag API form."""
    if text is None or not text.strip():
        raise EdgeError(INVALID_ARGUMENT, f"{what} is missing")
    chosen = date_format if date_format and date_format != DEFAULT_FORMAT else None
    return parse_time(text.strip(), zone, chosen, what=what)


def whole_number(text: str | None, what: str, default: int, allowed: tuple[int, ...] | None = None,
                 minimum: int = 0, maximum: int = 2**62) -> int:
    """A non-negative integer parameter (Direction, Count, Offset, IntervalValue ...)."""
    if text is None or text.strip() == "":
        return default
    try:
        value = decimal_integer(text)
    except ValueError:
        raise EdgeError(INVALID_ARGUMENT, f"{what} must be a whole number, got {text!r}") from None
    if allowed is not None and value not in allowed:
        raise EdgeError(INVALID_ARGUMENT, f"{what} must be one of {', '.join(map(str, allowed))}, got {value}")
    if not minimum <= value <= maximum:
        raise EdgeError(INVALID_ARGUMENT, f"{what} must be between {minimum} and {maximum}, got {value}")
    return value
