#!/usr/bin/env bash
# Smoke test of the built binary: starts it on a free loopback port with a temporary data
# directory and EDGE_ADMIN_PASSWORD, as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC), calls
# /v1/config, /v1/config/validate, /v1/status, /machiot (append + query), the web UI's and
# /docs' static files, /openapi.json and (--pipeline) every protocol library in a running
# configuration: SQLite and Modbus end to end, the others against a closed port,
# stops it with SIGTERM and prints the start-to-READY time and the idle resident memory.
#
#   appliance/smoke-binary.sh                 dist/edge (onefile), then dist/edge.dist/edge.bin
#   appliance/smoke-binary.sh [--runs N] -- COMMAND...   any other way to run the program
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
  exec python3 appliance/smoke.py "$@"
fi
for program in dist/edge dist/edge.dist/edge.bin; do
  if [ ! -x "$program" ]; then
    echo "smoke-binary: $program is missing; run ./build.sh binary first" >&2
    exit 1
  fi
done
# Three starts each: the first start of the onefile unpacks it into $XDG_CACHE_HOME/edge, the
# later ones reuse that. A temporary cache makes the first start a real first one.
XDG_CACHE_HOME=$(mktemp -d)
export XDG_CACHE_HOME
trap 'rm -rf "$XDG_CACHE_HOME"' EXIT
python3 appliance/smoke.py --runs 3 --pipeline -- dist/edge
python3 appliance/smoke.py --runs 3 --pipeline -- dist/edge.dist/edge.bin
