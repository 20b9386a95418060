"""Settings: `edge.conf` (`PROPERTY = VALUE`, `#` comments, like machbase.conf) plus flags.

Every key is declared once in `SETTINGS` with its parser and default; `conf/edge.conf`
documents the same keys (a test keeps the two in step). An unknown key or a bad value stops
start-up with a message naming the file and line, or the flag.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(ValueError):
    """A setting that cannot be used; the text names where it came from."""


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"expected 0 or 1, got {text!r}")
    return text == "1"


def _address(text: str) -> str:
    if text in ("localhost", "*"):
        return {"localhost": "127.0.0.1", "*": "0.0.0.0"}[text]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"expected an IP address, got {text!r}") from None


def _path(text: str) -> Path:
    if not text:
        raise ValueError("expected a path, got nothing")
    return Path(text).expanduser().absolute()


def _http_cpu(text: str) -> int | None:
    """HTTP_CPU -> the CPU, or None. `auto`: the highest CPU this process may use, if it may use
    two or more (with one there is nothing to choose); `off`: none."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if text == "off":
        return None
    if text == "auto":
        return max(cpus) if cpus is not None and len(cpus) > 1 else None
    try:
        cpu = int(text, 10)
    except ValueError:
        raise ValueError(f"expected auto, off or a CPU number, got {text!r}") from None
    if cpus is None:
        raise ValueError("this system cannot keep threads on one CPU; use auto or off")
    if cpu not in cpus:
        raise ValueError(f"CPU {cpu} is not one this process may use ({', '.join(map(str, sorted(cpus)))})")
    return cpu


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {text!r}") from None
    return text


def _table_name(text: str) -> str:
    name = text.strip().upper()
    if not re.fullmatch(r"[A-Z_][A-Z0-9_$]{0,126}", name):
        raise ValueError(f"expected a table name (letters, digits, _ and $; not starting with a digit), got {text!r}")
    return name


def machine_timezone() -> str:
    """The machine's IANA time zone name: $TZ, /etc/timezone, /etc/localtime's link, or UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return _timezone(name)
            except ValueError:
                continue
    return "UTC"


@dataclasses.dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[str], Any]
    default: str | None  # as written in edge.conf; None: derived in `load_settings`
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("HTTP_PORT_NO", _integer(0, 65535), "5657", "TCP port of the HTTP API (Machbase's default)."),
    Setting("HTTP_BIND", _address, "127.0.0.1", "Address to listen on; 0.0.0.0 for every interface."),
    Setting("HTTP_AUTH", _flag, "1", "1: HTTP Basic authentication on every endpoint but /health; 0: none."),
    Setting("LOGIN_ATTEMPTS", _integer(0, 1_000_000), "10",
            "Wrong passwords one client address may try at once (Basic, InfluxDB's u/p, the web UI's "
            "login); then one more every 6 s, others answered 429 without a check. 0: no limit."),
    Setting("HTTP_THREADS", _integer(1, 256), "8", "Worker threads serving HTTP requests."),
    Setting("HTTP_CPU", _http_cpu, "auto",
            "The CPU on which the HTTP server's connection loop and idle workers wait, and queries run, "
            "so that handing a request to a worker and back wakes no other CPU: auto (the highest, when "
            "there are two or more), off, or a CPU number. Appends and /v1 work run on any CPU."),
    Setting("HTTP_MAX_MEM", _integer(1048576, 2**40), "536870912",
            "Largest result one request may build, in bytes (Machbase's HTTP_MAX_MEM)."),
    Setting("MAX_REQUEST_SIZE", _integer(1024, 2**34), "67108864",
            "Largest request body accepted, in bytes; larger ones get an error."),
    Setting("REQUEST_TIMEOUT_MS", _integer(100, 86_400_000), "10000",
            "Longest a request may work, a client may take to send one request (line, headers "
            "and body), or a connection stay idle, in milliseconds."),
    Setting("HTTP_MAX_CONNECTIONS", _integer(8, 60000), "1000",
            "Open HTTP connections at most; past it the oldest idle or half-sent one is closed "
            "for a new one, or the new one is answered 503."),
    Setting("HTTP_CONNECTIONS_PER_ADDRESS", _integer(1, 60000), "100",
            ("Open HTTP connections one client address may hold; past it the address's oldest idle or "
             "half-sent one is closed for a new one, or the new one is answered 503 when all are busy.")),
    Setting("HTTP_QUERY_THREADS", _integer(1, 256), None,
            "Of HTTP_THREADS, how many may run /machbase statements and /machiot GETs at once "
            "(more wait their turn); the rest stay free for /v1, appends and /health; "
            "default HTTP_THREADS less a quarter (at least 1 kept free)."),
    Setting("DATA_DIR", _path, "./var", "Where the catalog, tag data and log tables live."),
    Setting("LOG_DIR", _path, None, "Where factorytx_core.log and factorytx_web.log go; default <DATA_DIR>/logs."),
    Setting("TIMEZONE", _timezone, None,
            "IANA time zone for times in and out of the APIs; default the machine's."),
    Setting("MASK_SECRETS", _flag, "1", "1: passwords and API keys come back masked from GET /v1/config."),
    Setting("LOG_MAX_BYTES", _integer(4096, 2**34), "10485760", "A log file rotates when it reaches this size."),
    Setting("LOG_BACKUP_COUNT", _integer(1, 1000), "5", "Rotated log files kept per log."),
    Setting("HISTORIAN_TABLE", _table_name, "TAG",
            "Tag table the pipeline stores every numeric field in, as tag <asset>:<stream_type>:<field>."),
    Setting("OUTBOX_MAX_BYTES", _integer(1048576, 2**44), "1073741824",
            "Disk each data transmit's outbox may hold (<DATA_DIR>/outbox); past it the oldest queued records "
            "are dropped and an error marker says what was lost."),
    Setting("CONFIG_BACKUP_HOURS", _integer(0, 8760), "6",
            "Hours between two backups of the configuration to the remotedatapost transmit's cloud "
            "(one also follows every configuration save); 0 turns the backup off."),
)

_BY_KEY = {s.key: s for s in SETTINGS}


@dataclasses.dataclass(frozen=True)
class Settings:
    http_port_no: int
    http_bind: str
    http_auth: bool
    login_attempts: int
    http_threads: int
    http_cpu: int | None
    http_max_mem: int
    max_request_size: int
    request_timeout_ms: int
    http_max_connections: int
    http_connections_per_address: int
    http_query_threads: int
    data_dir: Path
    log_dir: Path
    timezone: str
    mask_secrets: bool
    log_max_bytes: int
    log_backup_count: int
    historian_table: str
    outbox_max_bytes: int
    config_backup_hours: int


def parse_conf(text: str, source: str) -> dict[str, tuple[str, str]]:
    """`PROPERTY = VALUE` lines -> {KEY: (raw value, "file:line")}; unknown keys are errors."""
    found: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{source}:{number}"
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip().upper()
        if not sep or not key:
            raise SettingsError(f"{where}: expected PROPERTY = VALUE, got {line.strip()!r}")
        if key not in _BY_KEY:
            raise SettingsError(f"{where}: unknown setting {key}")
        found[key] = (value.strip(), where)
    return found


def load_settings(conf_file: str | os.PathLike | None = None,
                  overrides: Mapping[str, str | None] | None = None) -> Settings:
    """Embedded defaults, then `conf_file`, then `overrides` ({KEY: value} from flags)."""
    raw: dict[str, tuple[str, str]] = {}
    if conf_file is not None:
        try:
            text = Path(conf_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{conf_file}: cannot read: {exc}") from None
        raw.update(parse_conf(text, str(conf_file)))
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = (str(value), f"command line ({key})")

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.key in raw:
            text, where = raw[setting.key]
        elif setting.default is not None:
            text, where = setting.default, f"default of {setting.key}"
        else:
            continue
        try:
            values[setting.key.lower()] = setting.parse(text)
        except ValueError as exc:
            raise SettingsError(f"{where}: {setting.key}: {exc}") from None
    values.setdefault("log_dir", values["data_dir"] / "logs")
    values.setdefault("timezone", machine_timezone())
    threads = values["http_threads"]
    values.setdefault("http_query_threads", max(1, threads - max(1, threads // 4)))
    limit = threads - 1 if threads > 1 else 1
    if values["http_query_threads"] > limit:
        where = raw.get("HTTP_QUERY_THREADS", ("", "command line (HTTP_QUERY_THREADS)"))[1]
        raise SettingsError(f"{where}: HTTP_QUERY_THREADS: must be at most {limit} with HTTP_THREADS = {threads}, "
                            f"so that status, control and appends always find a worker")
    return Settings(**values)
