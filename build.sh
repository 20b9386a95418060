#!/usr/bin/env bash
# The one entry point for every job: ./build.sh dev | run | test [pytest args] | bench NAME | fuzz [EXAMPLES] | readme [--check] | ui-assets | binary | image [--arch ARCH]
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
venv=$top/.venv
python=${PYTHON:-python3.11}

# dev: a .venv with the project installed editable and its test dependencies.
# Reinstalls only when pyproject.toml changed, so a second run takes a moment.
dev() {
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "build.sh: $python not found; edge needs Python 3.11" >&2
    exit 1
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  local stamp=$venv/.edge-installed want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
    echo "$want" > "$stamp"
  fi
}

# run: edge serve on the defaults below; flags given after `run` override them (the last
# flag wins). edge serve itself prints where it serves and where the password of `sys` is,
# once the port is bound, so what is printed is what is served.
run() {
  dev
  exec "$venv/bin/edge" serve --data-dir "$top/var" --http-port 5657 --bind 127.0.0.1 "$@"
}

run_tests() {
  dev
  "$top/tests/peers/install.sh"
  exec "$venv/bin/python" -m pytest "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  dev) dev ;;
  run) run "$@" ;;
  test) run_tests "$@" ;;
  bench) dev; exec "$venv/bin/python" -m bench "$@" ;;
  # fuzz: Schemathesis from /openapi.json against a fresh server, EXAMPLES per operation (100).
  fuzz) dev; exec "$venv/bin/python" -m tests.integration.test_fuzz "$@" ;;
  # ui-assets: vendor uPlot again from the npm registry (pinned version and sha512); the files
  # are committed, so only a version change needs this.
  ui-assets) exec tools/fetch_ui_assets.sh ;;
  readme) dev; exec "$venv/bin/python" tools/readme.py "$@" ;;
  binary) exec appliance/build-binary.sh "$@" ;;
  image) exec appliance/build-image.sh "$@" ;;
  *)
    echo "usage: ./build.sh dev | run | test [pytest args] | bench NAME | fuzz [EXAMPLES] | readme [--check] | ui-assets | binary | image [--arch amd64|arm64]" >&2
    exit 2
    ;;
esac
