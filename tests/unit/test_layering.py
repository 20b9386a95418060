"""The layers of ARCHITECTURE.md hold: no module of edge/ imports upward or sideways.

Top to bottom: edge.app and edge.__main__ (anything) -> edge.web -> {edge.pipeline, edge.sql}
(never each other) -> edge.store -> edge.catalog -> edge.settings. Everybody may import the
leaves edge.errors, edge.time and the root package edge (its __version__); edge.time itself
imports only edge.errors. edge.system stands beside the layers: only edge.web and the top
import it, and it imports only leaves. Inside edge.pipeline, a component folder
(receivers/<name>, parsers/<name>, transforms/<name>, transmits/<name>) imports no other
component; receivers/filecore, shared by localfile and smb, is the one exception.

Every `import x` and `from x import y` counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

EDGE = Path(__file__).resolve().parents[2] / "edge"

TOP = frozenset({"edge.app", "edge.__main__"})
LEAVES = frozenset({"edge", "edge.errors", "edge.time"})
_BELOW_PIPELINE_AND_SQL = frozenset({"edge.store", "edge.catalog", "edge.settings"}) | LEAVES
# What each unit may import besides itself; a unit is edge.<first part> (edge.app, edge.web ...).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "edge.web": frozenset({"edge.pipeline", "edge.sql", "edge.system"}) | _BELOW_PIPELINE_AND_SQL,
    "edge.pipeline": _BELOW_PIPELINE_AND_SQL,
    "edge.sql": _BELOW_PIPELINE_AND_SQL,
    "edge.store": frozenset({"edge.catalog", "edge.settings"}) | LEAVES,
    "edge.catalog": frozenset({"edge.settings"}) | LEAVES,
    "edge.settings": LEAVES,
    "edge.system": LEAVES,
    "edge.time": frozenset({"edge.errors"}),
    "edge.errors": frozenset(),
    "edge": frozenset(),
}
WHY = {
    "edge.web": "edge.web sits below edge.app only",
    "edge.pipeline": "edge.pipeline and edge.sql never import each other, nor edge.web, edge.system or the top",
    "edge.sql": "edge.pipeline and edge.sql never import each other, nor edge.web, edge.system or the top",
    "edge.store": "edge.store sits below edge.pipeline and edge.sql",
    "edge.catalog": "edge.catalog sits below edge.store",
    "edge.settings": "edge.settings is the bottom layer",
    "edge.system": "edge.system stands beside the layers; only edge.web and edge.app use it",
    "edge.time": "edge.time is a leaf: it imports nothing of edge but edge.errors",
    "edge.errors": "edge.errors is a leaf: it imports nothing of edge",
    "edge": "the root package holds only the version and imports nothing of edge",
}
COMPONENT_KINDS = frozenset({"receivers", "parsers", "transforms", "transmits"})
SHARED_COMPONENT_CODE = "edge.pipeline.receivers.filecore"


@dataclasses.dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.imported}: {self.rule}"


def unit(module: str) -> str:
    """edge.<first part>, or edge for the root package itself."""
    return ".".join(module.split(".")[:2])


def component(module: str) -> str | None:
    """edge.pipeline.<kind>.<name> when `module` belongs to a pipeline component folder."""
    parts = module.split(".")
    if len(parts) >= 4 and parts[1] == "pipeline" and parts[2] in COMPONENT_KINDS:
        return ".".join(parts[:4])
    return None


def imported_modules(module: str, source: str, is_package: bool = False,
                     known: frozenset[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, module) of every edge module `source` imports, anywhere in it.

    `from edge.x import y` counts as importing edge.x.y when that is a module in `known`.
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(_parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 parents
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if candidate in known else base))
    edge_only = [(line, name) for line, name in found if name == "edge" or name.startswith("edge.")]
    return list(dict.fromkeys(edge_only))  # `from m import a, b` is one import of m


def _parse(source: str) -> ast.Module:
    # CPython 3.11 keeps one recursion counter for turning a parse tree into ast objects, so a
    # parse on another thread at the same moment (a library's thread left by an earlier test)
    # can make this one fail with "AST constructor recursion depth mismatch". That says
    # nothing of the source: parse again.
    for _ in range(5):
        try:
            return ast.parse(source)
        except SystemError:
            continue
    return ast.parse(source)


def check_module(module: str, source: str, is_package: bool = False,
                 known: frozenset[str] = frozenset()) -> list[Violation]:
    """The layering rules `module` (whose text is `source`) breaks."""
    found = []
    here = unit(module)
    for line, imported in imported_modules(module, source, is_package, known):
        there = unit(imported)
        if here not in TOP and there != here:
            if here not in MAY_IMPORT:
                found.append(Violation(module, line, imported, f"{here} is in no layer; add it to MAY_IMPORT"))
            elif there not in MAY_IMPORT[here]:
                allowed = ", ".join(sorted(MAY_IMPORT[here])) or "nothing of edge"
                found.append(Violation(module, line, imported,
                                       f"{WHY[here]} (it may import {allowed})"))
        mine, theirs = component(module), component(imported)
        if mine and theirs and mine != theirs and theirs != SHARED_COMPONENT_CODE:
            found.append(Violation(module, line, imported,
                                   f"pipeline components do not import each other; only {SHARED_COMPONENT_CODE} "
                                   f"is shared"))
    return found


def edge_modules() -> dict[str, tuple[Path, bool]]:
    """module name -> (file, is a package) for every module under edge/."""
    modules = {}
    for path in sorted(EDGE.rglob("*.py")):
        parts = path.relative_to(EDGE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def tree_violations() -> list[Violation]:
    modules = edge_modules()
    known = frozenset(modules)
    found = []
    for name, (path, is_package) in modules.items():
        found += check_module(name, path.read_text("utf-8"), is_package, known)
    return found


def test_no_module_imports_upward_or_sideways():
    found = tree_violations()
    assert not found, "layering broken:\n" + "\n".join(map(str, found))


def test_every_module_is_in_a_layer():
    assert sorted({unit(m) for m in edge_modules()} - MAY_IMPORT.keys() - TOP) == []


@pytest.mark.parametrize("module, source, imported, rule", [
    ("edge.store.table", "from edge.sql.engine import Engine\n", "edge.sql.engine", "edge.store sits below"),
    ("edge.pipeline.runtime.scheduler", "def later():\n    import edge.sql.tables\n", "edge.sql.tables",
     "edge.pipeline and edge.sql never import each other"),
    ("edge.sql.engine", "from edge.pipeline import registry\n", "edge.pipeline.registry",
     "edge.pipeline and edge.sql never import each other"),
    ("edge.time.timezone", "from edge.catalog import Catalog\n", "edge.catalog", "edge.time is a leaf"),
    ("edge.catalog.users", "from ..web import auth\n", "edge.web.auth", "edge.catalog sits below"),
    ("edge.store.table", "from edge.system import machine\n", "edge.system.machine", "edge.store sits below"),
    ("edge.pipeline.transforms.rename.transform", "from edge.pipeline.transforms.filter import transform\n",
     "edge.pipeline.transforms.filter.transform", "pipeline components do not import each other"),
])
def test_checker_reports_a_planted_upward_or_sideways_import(module, source, imported, rule):
    known = frozenset({"edge.pipeline.registry", "edge.web.auth", "edge.system.machine",
                       "edge.pipeline.transforms.filter.transform"})
    [violation] = check_module(module, source, known=known)
    assert (violation.module, violation.imported) == (module, imported)
    assert rule in violation.rule
    assert str(violation).startswith(f"{module} (line ")


def test_checker_accepts_downward_imports_and_the_shared_file_receiver_code():
    assert check_module("edge.web.server", "import edge.pipeline.batch\nfrom edge.store import table\n") == []
    assert check_module("edge.app", "from edge.web import server\n") == []
    assert check_module("edge.pipeline.receivers.smb.receiver",
                        "from edge.pipeline.receivers.filecore.receiver import FileReceiver\n"
                        "from edge.pipeline.runtime.streamflow import Warn\nfrom edge.time import timestamps\n") == []
