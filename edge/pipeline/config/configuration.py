"""The FactoryTX configuration in force: read it (masked or not), check a candidate, save one.

Every save is a new revision in the catalog (ConfigHistory); the newest is the one in force.
Secrets are stored in clear (the pipeline needs them) and masked only on the way out.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from edge.catalog.config_history import ConfigHistory, ConfigRevision
from edge.pipeline.config.secrets import mask_secrets, restore_secrets
from edge.pipeline.config.shape import EMPTY_CONFIG, with_every_section
from edge.pipeline.config.validation import validate_config
from edge.pipeline.config.violations import Violation, error, has_errors
from edge.pipeline.runtime.ports import NAME_LENGTH

PASSED = "passed"
FAILED = "failed"
MAX_NESTING = 64


@dataclasses.dataclass(frozen=True)
class CheckedConfiguration:
    config: Any  # the candidate with masked secrets restored
    violations: list[Violation]
    revision: ConfigRevision | None = None  # set once saved

    @property
    def passed(self) -> bool:
        return not has_errors(self.violations)

    def report(self) -> dict:
        """The `response` of /v1/config/validate and of a refused POST /v1/config."""
        return {"violations": [v.to_json() for v in self.violations], "status": PASSED if self.passed else FAILED}


def check_configuration(candidate: Any, stored: Any, tag_name_bytes: int = NAME_LENGTH) -> CheckedConfiguration:
    """`candidate` with masked secrets taken from `stored`, and everything wrong with it
    (tag names checked against `tag_name_bytes`, the historian table's NAME length)."""
    if nesting_depth(candidate) > MAX_NESTING:
        # The checks walk the document recursively; no real configuration comes near this.
        return CheckedConfiguration(candidate, [error((), f"The configuration nests deeper than {MAX_NESTING} levels.")])
    restored, violations = restore_secrets(candidate, stored)
    return CheckedConfiguration(restored, violations + validate_config(restored, tag_name_bytes))


def nesting_depth(document: Any) -> int:
    """How deep lists and objects nest in `document` (0 for a scalar), without recursion."""
    deepest, pending = 0, [(document, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth + 1)
            pending.extend((child, depth + 1) for child in node)
    return deepest


class FtxConfiguration:
    def __init__(self, history: ConfigHistory, mask_secrets: bool,
                 tag_name_bytes: Callable[[], int] = lambda: NAME_LENGTH):
        self._history = history
        self.mask_secrets = mask_secrets
        # The historian table's NAME length as it is now (the built-in TAG has 80 bytes).
        self._tag_name_bytes = tag_name_bytes
        # Check-then-save must see the revision it restores secrets from.
        self._save_lock = threading.Lock()

    def current(self) -> ConfigRevision | None:
        """The revision in force, every section present (revisions saved before that was so
        may lack some)."""
        revision = self._history.current()
        if revision is None:
            return None
        return dataclasses.replace(revision, body=with_every_section(revision.body))

    def body(self) -> dict:
        """The configuration in force, secrets in clear (for the scheduler, never for a client)."""
        revision = self.current()
        return revision.body if revision else copy.deepcopy(EMPTY_CONFIG)

    def revisions(self, limit: int) -> list[ConfigRevision]:
        """The newest `limit` revisions, newest first, as a client may see them (secrets masked)."""
        return [dataclasses.replace(r, body=self.shown(with_every_section(r.body)))
                for r in self._history.revisions(limit)]

    def shown(self, body: dict) -> dict:
        """`body` as a client may see it: secrets masked when MASK_SECRETS = 1."""
        return mask_secrets(body) if self.mask_secrets else body

    def check(self, candidate: Any) -> CheckedConfiguration:
        return check_configuration(candidate, self.body(), self._tag_name_bytes())

    def save(self, candidate: Any, source: str = "api") -> CheckedConfiguration:
        """Checks `candidate` and, when it has no error, stores it as the newest revision."""
        with self._save_lock:
            checked = self.check(candidate)
            if not checked.passed:
                return checked
            # Stored with every section, so it reads back in one shape however it was posted.
            checked = dataclasses.replace(checked, config=with_every_section(checked.config))
            revision = self._history.save(checked.config, source)
        return dataclasses.replace(checked, revision=revision)
