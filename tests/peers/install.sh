#!/usr/bin/env bash
# Installs the real peer servers the integration tests start on loopback (Debian packages):
# Samba, PostgreSQL, MariaDB, Mosquitto, socat (serial pty pairs), Chromium with its driver.
# Idempotent: does nothing when every peer is already there.
set -euo pipefail
need=()
for pkg_cmd in "curl:curl" "systemd:systemd-analyze" "shellcheck:shellcheck" "samba:smbd" \
               "postgresql:/usr/lib/postgresql/*/bin/initdb" "mariadb-server:mariadb-install-db" \
               "mosquitto:mosquitto" "socat:socat" "chromium:chromium" "chromium-driver:chromedriver"; do
  pkg=${pkg_cmd%%:*}; cmd=${pkg_cmd#*:}
  if [[ $cmd == /* ]]; then
    compgen -G "$cmd" >/dev/null || need+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
  fi
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/peers/install.sh: need root to install: ${need[*]}" >&2
  exit 1
fi
apt-get update -qq
# The packages' own services are not needed: fixtures start their own instances on free ports.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
