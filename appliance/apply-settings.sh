#!/usr/bin/env bash
# Sets each `KEY = VALUE` of a settings file (default appliance/image.conf) in an edge.conf, on
# the line that documents the key (commented out or not), so the file keeps its comments; a key
# the file does not mention is appended. Used by build-image.sh for /etc/edge/edge.conf.
#
#   appliance/apply-settings.sh EDGE_CONF [SETTINGS]
set -euo pipefail
conf=${1:?usage: apply-settings.sh EDGE_CONF [SETTINGS]}
settings=${2:-$(dirname "$0")/image.conf}
while IFS= read -r line; do
  [[ $line =~ ^([A-Z_]+)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
  key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
  if grep -Eq "^#?[[:space:]]*${key}[[:space:]]*=" "$conf"; then
    awk -v key="$key" -v value="$value" '
      !done && $0 ~ "^#?[[:space:]]*" key "[[:space:]]*=" { print key " = " value; done = 1; next }
      { print }' "$conf" > "$conf.new"
    mv "$conf.new" "$conf"
  else
    printf '%s = %s\n' "$key" "$value" >> "$conf"
  fi
done < "$settings"
