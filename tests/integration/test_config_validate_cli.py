"""`python -m edge config validate FILE`: the validator on a file, with an exit status."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "tests" / "fixtures" / "factorytx_spec"


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge", "config", "validate", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_spec_example_passes_with_warnings(tmp_path):
    result = validate(SPEC / "post_config_request.json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # 5 placeholders, the folder that is not on this box, and the stream whose records have no time.
    assert lines[-1] == f"{SPEC / 'post_config_request.json'}: passed (0 errors, 7 warnings)"
    assert any(line.startswith('warning  ["data_receiver", 0, "parsers", 0, "options", "parse", "parse_dates", 0]  ')
               for line in lines)
    assert any(line.startswith('warning  ["data_transmit", 0, "base_url"]  \'base_url\' still holds a template')
               for line in lines)


def test_errors_are_listed_with_their_paths_and_exit_1(tmp_path):
    config = json.loads((SPEC / "post_config_request.json").read_text())
    config["data_transmit"] = {}
    config["data_receiver"][0]["parsers"][0]["parser_type"] = "spreadsheets"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    result = validate(path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert 'error    ["data_receiver", 0, "parsers", 0, "parser_type"]  No parser named "spreadsheets".' in lines
    assert """error    ["data_transmit"]  'data_transmit' section is not defined as a list.""" in lines
    assert lines[-1] == f"{path}: failed (2 errors, 4 warnings)"  # 2 placeholders, the folder, no time


def test_masked_secret_in_a_file_is_an_error(tmp_path):
    config = json.loads((SPEC / "get_config_response.json").read_text())["response"]
    config["data_transmit"][0]["API_key"] = "********"
    path = tmp_path / "masked.json"
    path.write_text(json.dumps(config))
    result = validate(path)
    assert result.returncode == 1
    assert '["data_transmit", 0, "API_key"]' in result.stdout


def test_missing_file_and_malformed_json_are_clear_messages(tmp_path):
    missing = validate(tmp_path / "nope.json")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"edge: cannot read {tmp_path / 'nope.json'}: No such file or directory"
    broken = tmp_path / "broken.json"
    broken.write_text('{"data_receiver": [}')
    result = validate(broken)
    assert result.returncode == 1
    assert result.stderr.startswith(f"edge: {broken} is not valid JSON: ")
    assert "Traceback" not in result.stderr
