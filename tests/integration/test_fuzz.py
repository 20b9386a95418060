"""Schemathesis against a live server from its /openapi.json: no 5xx, no traceback in any answer,
every answer valid against its description, and the server still serving afterwards.

The suite runs a few examples per operation; `./build.sh fuzz [EXAMPLES]` runs this module's
main() for a longer run. SCHEMATHESIS_HOOKS points Schemathesis at this module for the
`no_traceback` check below.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import schemathesis

from tests.conftest import ADMIN_PASSWORD, REPO, EdgeServer

SUITE_EXAMPLES = 4
# Every check of Schemathesis but three: positive_data_acceptance (the description cannot state
# everything a valid statement or time is: an SQL syntax error is a 400 to a "valid" string),
# allow_header_conformance and unsupported_method (the tag API's raw path takes 1 to 6 parts for
# GET and 1 or 2 for DELETE; a DELETE of 6 parts answers 400 saying which forms a delete has,
# rather than 405).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
          "missing_required_header", "use_after_free", "ensure_resource_availability", "ignored_auth",
          "no_traceback")
# The tag API's other prefixes route to the same handlers as /machiot; fuzzing them again finds
# nothing new. "//" is the tag API's old double-slash rollup path.
EXCLUDED_PATHS = r"^/machiot(/v1|-rest-api)|//"


@schemathesis.check
def no_traceback(ctx, response, case):
    """No answer shows Python's insides (a traceback, a file path of the program)."""
    text = response.content.decode("utf-8", "replace")
    for leak in ("Traceback (most recent call last)", 'File "/', "site-packages"):
        if leak in text:
            raise AssertionError(f"The answer shows {leak!r}")


def populate(server: EdgeServer) -> None:
    """The tags the description's examples name, so that examples reach the store, not a 404."""
    values = [[tag, f"2001-09-09 01:{minute:02d}:00", float(minute)] for tag in ("tag-1", "tag-2", "tag-3")
              for minute in range(0, 50, 5)]
    answer = server.client.post("/machiot/datapoints/raw/tag", {"values": values})
    assert answer.status == 200 and answer.json["append_failure"] == 0, answer.body
    answer = server.client.get("/machbase?q=" + "create%20table%20test_table%20(name%20varchar(20),"
                               "%20time%20datetime,%20value%20double)")
    assert answer.status == 200, answer.body


def run_schemathesis(server: EdgeServer, examples: int, report_dir: Path, workers: int = 1,
                     seed: int | None = 1) -> subprocess.CompletedProcess:
    # One worker: Hypothesis describes strategies by parsing their source with `ast`, which on
    # Python 3.11 is not safe in threads ("AST constructor recursion depth mismatch", seen with 2).
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
               "--auth", f"sys:{ADMIN_PASSWORD}", "--checks", ",".join(CHECKS),
               "--exclude-path-regex", EXCLUDED_PATHS, "--max-examples", str(examples),
               "--workers", str(workers), "--request-timeout", "30", "--report", "ndjson",
               "--report-dir", str(report_dir), "--output-truncate", "false", "--no-color"]
    if seed is not None:
        command += ["--seed", str(seed)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.test_fuzz", "PYTHONPATH": str(REPO)}
    # Run in the report's folder: Schemathesis keeps a cache (.schemathesis/) where it runs.
    report_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, cwd=report_dir, env=env, capture_output=True, text=True, timeout=1800)


def figures(report_dir: Path) -> dict:
    """Operations tested, requests made and failures found, from the NDJSON report."""
    operations, requests, failures = set(), 0, 0
    for report in report_dir.glob("*.ndjson"):
        for line in report.read_text().splitlines():
            finished = json.loads(line).get("ScenarioFinished")
            if finished is None:
                continue
            recorder = finished["recorder"]
            operations.add(recorder["label"])
            requests += len(recorder.get("interactions", {}))
            failures += sum(1 for checks in recorder.get("checks", {}).values()
                            for check in checks if check.get("status") == "failure")
    operations.discard(None)
    return {"operations": len(operations), "requests": requests, "failures": failures}


def still_serving(server: EdgeServer) -> bool:
    return (server.client.get("/health", auth=False).status == 200
            and server.client.get("/v1/status").json["success"] is True
            and server.client.get("/machbase?q=select%20count(*)%20from%20tag").status == 200)


def logged_tracebacks(server: EdgeServer) -> int:
    """Tracebacks the stopped server printed or logged (a crash a client never saw)."""
    texts = [server.output()] + [p.read_text(errors="replace") for p in (server.data_dir / "logs").glob("*.log*")]
    return sum(text.count("Traceback (most recent call last)") for text in texts)


def test_fuzzing_from_the_description_finds_no_failure(tmp_path):
    server = EdgeServer(tmp_path / "data").start()
    try:
        populate(server)
        run = run_schemathesis(server, SUITE_EXAMPLES, tmp_path / "report")
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "passed" in run.stdout
        assert still_serving(server)
    finally:
        server.stop()
    assert logged_tracebacks(server) == 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("examples", nargs="?", type=int, default=100, help="examples per operation (100)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edge-fuzz-") as folder:
        server = EdgeServer(Path(folder) / "data").start()
        try:
            populate(server)
            run = run_schemathesis(server, args.examples, Path(folder) / "report", seed=args.seed)
            print(run.stdout)
            print(run.stderr, file=sys.stderr)
            serving = still_serving(server)
            found = figures(Path(folder) / "report")
        finally:
            server.stop()
        tracebacks = logged_tracebacks(server)
    print(f"operations {found['operations']}, requests {found['requests']}, failures {found['failures']}, "
          f"server still serving: {'yes' if serving else 'NO'}, tracebacks in its output and logs: {tracebacks}")
    return 0 if run.returncode == 0 and serving and not tracebacks else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
