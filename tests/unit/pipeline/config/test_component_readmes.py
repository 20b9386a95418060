"""Each component with a runtime has a README.md beside it that stays true to its schema.json:
its example is a valid entry, and it names every option and every default."""

import json
import re
from pathlib import Path

import pytest

from edge.pipeline import registry
from edge.pipeline.config.schema_check import schema_violations

RUNNABLE = [c for c in registry.COMPONENTS if c.runtime is not None]
PIPELINE = Path(registry.__file__).parent


def ids(component):
    return f"{component.section}:{component.type_name}"


def readme(component) -> str:
    return (PIPELINE.joinpath(*component.package.split(".")[2:]) / "README.md").read_text("utf-8")


def properties(schema):
    """(name, property schema) of every property declared anywhere in `schema`."""
    if isinstance(schema, dict):
        for name, prop in schema.get("properties", {}).items():
            yield name, prop
        for key, value in schema.items():
            if key not in ("if", "then", "not", "examples"):
                yield from properties(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from properties(item)


def test_the_shared_file_receiver_code_has_a_readme_naming_both_receivers():
    text = (PIPELINE / "receivers" / "filecore" / "README.md").read_text("utf-8")
    assert "localfile" in text and "smb" in text and "## Markers" in text


@pytest.mark.parametrize("component", RUNNABLE, ids=ids)
def test_readme_example_is_a_valid_entry(component):
    example = json.loads(readme(component).split("```json", 1)[1].split("```", 1)[0])
    assert schema_violations(component, example, ()) == []
    parser = registry.find(registry.PARSER, "spreadsheet")
    for entry in example.get("parsers", []):
        assert schema_violations(parser, entry, ()) == []


@pytest.mark.parametrize("component", RUNNABLE, ids=ids)
def test_readme_names_every_option(component):
    prose = re.sub(r"```.*?```", "", readme(component), flags=re.DOTALL)
    quoted = " ".join(re.findall(r"`([^`]+)`", prose))
    missing = sorted({name for name, _ in properties(component.schema) if name not in quoted})
    assert missing == []


@pytest.mark.parametrize("component", RUNNABLE, ids=ids)
def test_readme_gives_every_default_beside_its_option(component):
    # Options tables: | `option` | default | meaning |
    rows = [[cell.strip() for cell in line.strip().strip("|").split(" | ")]
            for line in readme(component).splitlines() if line.startswith("| `")]
    wrong = []
    for name, prop in properties(component.schema):
        if "default" in prop:
            default = f"`{json.dumps(prop['default'])}`"
            if not any(row[0].endswith(f"{name}`") and row[1] == default for row in rows):
                wrong.append((name, default))
    assert wrong == []


@pytest.mark.parametrize("component", RUNNABLE, ids=ids)
def test_readme_lists_markers(component):
    assert "## Markers" in readme(component)
