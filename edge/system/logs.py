"""The two log files of FactoryTX, rotated by size, and reading their last lines.

Lines look like FactoryTX's: `2017-11-09 23:18:05,699 <thread> <logger> INFO <message>`.
`edge.web` (and waitress) go to factorytx_web.log, everything else to factorytx_core.log.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import time
from collections import deque
from pathlib import Path

from edge.errors import FTX_NOT_FOUND, EdgeError

CORE_LOG = "factorytx_core.log"
WEB_LOG = "factorytx_web.log"
LOG_FILES = (CORE_LOG, WEB_LOG)
LINE_FORMAT = "%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"

_WEB_LOGGERS = ("edge.web", "waitress")

DEFAULT_TAIL_LINES = 100
MAX_TAIL_LINES = 10_000


class _WebOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith(_WEB_LOGGERS)


class _CoreOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(_WEB_LOGGERS)


class SizeRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler that keeps count of its file's size instead of asking the file.

    The stock handler, for every line, checks the path twice with stat, formats the record
    twice and seeks to the end of the file to learn its size: on a small query that cost
    about a tenth of the request (one access line each). This one formats once and counts
    what it writes (in characters, as the stock handler measures a line); the size is read
    from the file when it is opened, so lines already there count too.
    """

    size = 0
    regular = True  # rotating anything but a regular file (a pipe, /dev/null) makes no sense

    def _open(self):
        stream = super()._open()
        status = os.fstat(stream.fileno())
        self.size = status.st_size
        self.regular = stat.S_ISREG(status.st_mode)
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if self.stream is None:
                self.stream = self._open()
            if self.maxBytes > 0 and self.regular and self.size and self.size + len(line) >= self.maxBytes:
                self.doRollover()
                if self.stream is None:
                    self.stream = self._open()
            self.stream.write(line)
            self.stream.flush()
            self.size += len(line)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


class LineFormatter(logging.Formatter):
    """LINE_FORMAT, with the date and time of day printed once a second instead of once a line.

    A protocol library's record of a network failure (asyncua's publish loop when a PLC goes
    away, ...) prints the failure on its line, not a traceback: the receiver reports the loss
    itself, and twenty lines per dropped connection would bury the log. Tracebacks of edge's
    own code, and of anything else a library raises, stay whole."""

    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.name.partition(".")[0] != "edge":
            failure = record.exc_info[1]
            if isinstance(failure, OSError):  # ConnectionError, TimeoutError, refused, reset ...
                record = logging.makeLogRecord({**record.__dict__, "msg": f"{record.getMessage()} "
                                                f"({type(failure).__name__}: {failure})", "args": None,
                                                "exc_info": None, "exc_text": None})
        return super().format(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        cached = self._second  # one tuple: handlers on other threads share this formatter
        if cached[0] != second:
            cached = self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        return self.default_msec_format % (cached[1], record.msecs)


_installed: list[logging.Handler] = []


def setup_logging(log_dir: Path, max_bytes: int, backup_count: int, also_stderr: bool = True) -> None:
    """Routes the root logger into the two rotating files (and stderr, for journald)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    formatter = LineFormatter(LINE_FORMAT)
    for name, only in ((CORE_LOG, _CoreOnly()), (WEB_LOG, _WebOnly())):
        handler = SizeRotatingFileHandler(log_dir / name, maxBytes=max_bytes, backupCount=backup_count,
                                          encoding="utf-8")
        handler.setFormatter(formatter)
        handler.addFilter(only)
        _installed.append(handler)
    if also_stderr:
        stderr = logging.StreamHandler()
        stderr.setFormatter(formatter)
        stderr.setLevel(logging.WARNING)
        _installed.append(stderr)
    for handler in _installed:
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Lines name no process: a record need not look them up (a third of making one, which every
    # request's access line does).
    logging.logProcesses = logging.logMultiprocessing = False


def stop_logging() -> None:
    """Flushes, closes and removes the handlers setup_logging installed."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()


def tail_lines(path: Path, count: int, block_size: int = 65536) -> list[str]:
    """The last `count` lines of `path`, reading backwards from the end, not the whole file."""
    if count <= 0:
        return []
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return []
    with handle:
        end = handle.seek(0, os.SEEK_END)
        chunks: deque[bytes] = deque()
        newlines = 0
        position = end
        while position > 0 and newlines <= count:
            step = min(block_size, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step)
            chunks.appendleft(chunk)
            newlines += chunk.count(b"\n")
    # Split on newlines only: str.splitlines would also break at form feeds and the like
    # that a logged message may contain.
    lines = b"".join(chunks).decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines[-count:]]


def tail_log(log_dir: Path, name: str, count: int) -> list[str]:
    """The last `count` lines of the log called `name`, one of LOG_FILES.

    `name` is compared with the two known names and never used as a path otherwise, so no
    other file can be read. When the log rotated a moment ago and holds fewer than `count`
    lines, the rest come from the end of its newest rotated file.
    """
    if name not in LOG_FILES:
        raise EdgeError(FTX_NOT_FOUND, f"No log file named {name[:100]!r}; the logs are {', '.join(LOG_FILES)}",
                        FTX_NOT_FOUND)
    if not 0 <= count <= MAX_TAIL_LINES:
        raise ValueError(f"count must be between 0 and {MAX_TAIL_LINES}")
    lines = tail_lines(log_dir / name, count)
    if len(lines) < count:
        lines = tail_lines(log_dir / f"{name}.1", count - len(lines)) + lines
    return lines
