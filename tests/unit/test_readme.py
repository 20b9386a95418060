"""README.md stays true: its first commands, every setting, every component type."""

from pathlib import Path

from edge.pipeline.registry import COMPONENTS
from edge.settings import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_starts_with_run_and_test_commands():
    first_block = README.split("```", 2)[1]
    assert "./build.sh run" in first_block and "./build.sh test" in first_block


def test_readme_documents_every_setting():
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in README]
    assert missing == []


def test_readme_names_every_component_type():
    missing = [c.type_name for c in COMPONENTS if c.type_name not in README]
    assert missing == []
