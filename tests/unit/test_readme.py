"""README.md stays true: assembled from README.d, its first commands, every setting, every
component type."""

import importlib.util
from pathlib import Path

from edge.pipeline.registry import COMPONENTS
from edge.settings import SETTINGS

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def test_readme_is_assembled_from_readme_d():
    spec = importlib.util.spec_from_file_location("readme_tool", REPO / "tools" / "readme.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert README == tool.assemble(), "README.md is not assembled from README.d: run ./build.sh readme"


def test_readme_starts_with_run_and_test_commands():
    first_block = README.split("```", 2)[1]
    assert "./build.sh run" in first_block and "./build.sh test" in first_block


def test_readme_documents_every_setting():
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in README]
    assert missing == []


def test_readme_names_every_component_type():
    missing = [c.type_name for c in COMPONENTS if c.type_name not in README]
    assert missing == []
