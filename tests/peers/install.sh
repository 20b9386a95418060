#!/usr/bin/env bash
# Installs the real peer servers the integration tests start on loopback (Debian packages).
# Idempotent: does nothing when every peer is already there.
set -euo pipefail
need=()
for pkg_cmd in "curl:curl" "systemd:systemd-analyze" "shellcheck:shellcheck" "samba:smbd"; do
  pkg=${pkg_cmd%%:*}; cmd=${pkg_cmd#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/peers/install.sh: need root to install: ${need[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
