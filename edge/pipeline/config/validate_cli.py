"""`edge config validate FILE`: the checks of POST /v1/config/validate, on a file.

One line per violation (level, JSON path, description), then a summary; exit status 1 when
there is an error or the file cannot be read as JSON, 0 otherwise (warnings only). A masked
secret ("********") in a file has no stored secret to stand for, so it is an error here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from edge.pipeline.config.configuration import FAILED, PASSED, check_configuration
from edge.pipeline.config.violations import ERROR, WARNING


def validate_file(path: str) -> int:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"edge: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"edge: {path} is not UTF-8 text", file=sys.stderr)
        return 1
    try:
        candidate = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, NotJson) as exc:
        print(f"edge: {path} is not valid JSON: {exc}", file=sys.stderr)
        return 1
    except ValueError:  # the one other refusal of the json module: Python's limit on digits
        print(f"edge: {path} holds a number of more than {sys.get_int_max_str_digits()} digits", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"edge: {path} nests too deeply to be a configuration", file=sys.stderr)
        return 1

    checked = check_configuration(candidate, stored=None)
    for violation in checked.violations:
        print(f"{violation.level:<7}  {json.dumps(list(violation.json_path), ensure_ascii=False)}  "
              f"{violation.description}")
    errors = sum(v.level == ERROR for v in checked.violations)
    warnings = sum(v.level == WARNING for v in checked.violations)
    print(f"{path}: {PASSED if checked.passed else FAILED} ({_count(errors, 'error')}, {_count(warnings, 'warning')})")
    return 0 if checked.passed else 1


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class NotJson(ValueError):
    """What the json module reads but JSON does not allow (NaN, Infinity)."""


def _reject_constant(name: str):
    raise NotJson(f"{name} is not valid JSON")
