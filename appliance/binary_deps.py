"""What the binary must contain, read from pyproject.toml, for appliance/build-binary.sh.

Usage:
    binary_deps.py requirements PYPROJECT   pip requirements of the build venv (runtime + binary extra)
    binary_deps.py modules PYPROJECT        top-level modules of the runtime dependencies, installed,
                                            and the modules edge/ imports inside functions
    binary_deps.py check REPORT PYPROJECT   fails unless Nuitka's report includes each of them

Components import their protocol library (smbprotocol, asyncua, pyserial ...) lazily, inside
the function that needs it; naming every runtime dependency's top-level modules to Nuitka keeps
a dependency added to pyproject.toml in the binary without editing the build, and naming every
module imported inside a function (pg8000.native, paho.mqtt.client, the standard library's
sqlite3 ...) keeps a lazily imported submodule or standard module in it too. The check after the
build makes a missing one fail the build rather than the first receiver that needs it.
Run with the build venv's interpreter and `-I`, so the checkout itself is not on sys.path.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

# Modules a distribution ships that the program never imports (test runners, vendoring shims).
NOT_RUNTIME = {"_distutils_hack", "pkg_resources", "setuptools"}


def _project(pyproject: str) -> dict:
    with open(pyproject, "rb") as handle:
        return tomllib.load(handle)["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]


def requirements(pyproject: str) -> list[str]:
    project = _project(pyproject)
    return list(project["dependencies"]) + list(project.get("optional-dependencies", {}).get("binary", []))


def runtime_modules(pyproject: str) -> list[str]:
    """Top-level import names of the runtime dependencies, e.g. smbprotocol -> smbclient, smbprotocol."""
    by_distribution: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            by_distribution.setdefault(_canonical(dist), set()).add(module)
    modules: set[str] = set()
    for requirement in _project(pyproject)["dependencies"]:
        name = _name(requirement)
        try:
            distribution(name)
        except PackageNotFoundError:
            raise SystemExit(f"binary_deps: {name} is not installed in the build venv") from None
        found = by_distribution.get(_canonical(name), set()) - NOT_RUNTIME
        modules |= {m for m in found if m.isidentifier() and not m.startswith("_")}
    return sorted(modules)


def lazy_imports(pyproject: str) -> list[str]:
    """Modules (outside edge) that edge/ imports inside a function: `import sqlite3` gives
    sqlite3, `from asyncua.crypto import cert_gen` gives asyncua.crypto and, as it is a module,
    asyncua.crypto.cert_gen. edge/ is read, not imported (a library is only looked up)."""
    modules: set[str] = set()
    for path in sorted((Path(pyproject).resolve().parent / "edge").rglob("*.py")):
        for function in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    modules |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module)
                    modules |= {f"{node.module}.{alias.name}" for alias in node.names
                                if _is_module(f"{node.module}.{alias.name}")}
    return sorted(m for m in modules if m != "edge" and not m.startswith("edge."))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # the parent is a module, not a package
        return False


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_report(report: str, pyproject: str) -> int:
    """Nuitka's --report lists every module it compiled or included; each dependency must be there."""
    included = {node.get("name") for node in ElementTree.parse(report).getroot().iter("module")}
    wanted = sorted(set(runtime_modules(pyproject)) | set(lazy_imports(pyproject))) + [
        "edge", "edge.app", "edge.web.server"]
    missing = [m for m in wanted if m not in included]
    if missing:
        print(f"binary_deps: not in the binary: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"binary_deps: the binary includes {', '.join(wanted)}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "requirements":
        print("\n".join(requirements(argv[1])))
        return 0
    if len(argv) == 2 and argv[0] == "modules":
        print("\n".join(sorted(set(runtime_modules(argv[1])) | set(lazy_imports(argv[1])))))
        return 0
    if len(argv) == 3 and argv[0] == "check":
        return check_report(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
