#!/usr/bin/env bash
# Tests a built image (./build.sh image) from its artefacts in dist/:
#   - checksums, GPT layout (EDGE_ROOT squashfs + EDGE_DATA ext4 labelled EDGE_DATA), fsck
#   - systemd-analyze verify of edge.service inside the image, and that it is enabled
#   - /var/lib/edge and /var/log/edge on the data partition, owned by the edge user
#   - systemd-repart grows EDGE_DATA over a larger disk (as at first boot)
#   - runs /usr/bin/edge inside the root filesystem (chroot, user edge, /etc/edge/edge.conf,
#     the data partition at /var) through appliance/smoke.py: READY=1, /v1/config,
#     /v1/config/validate, /v1/status, /machiot when present, orderly stop
#   - boots the image in systemd-nspawn: edge.service becomes active under systemd with all its
#     hardening, answers /v1/status, outlives WatchdogSec without a restart, stops cleanly.
# An arm64 image runs through qemu-user on an amd64 host. Needs root.
#
#   appliance/check-rootfs.sh [--arch amd64|arm64]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
arch=$(dpkg --print-architecture)
case ${1:-} in
  --arch) arch=${2:?}; ;;
  --arch=*) arch=${1#--arch=} ;;
  "") ;;
  *) echo "usage: appliance/check-rootfs.sh [--arch amd64|arm64]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "check-rootfs: needs root (chroot, mounts)" >&2
  exit 1
fi

ok() { echo "  ok  $*"; }
fail() { echo "check-rootfs: FAILED: $*" >&2; exit 1; }

work=$(mktemp -d /var/tmp/edge-check-rootfs.XXXXXX)
root=$work/root
mounted=()
cleanup() {
  local i
  # A container still running (a check failed): nspawn turns SIGTERM into an orderly poweroff.
  if [ -n "${nspawn:-}" ] && kill -0 "$nspawn" 2>/dev/null; then
    kill "$nspawn" 2>/dev/null || true
    timeout 60 tail --pid="$nspawn" -f /dev/null || kill -9 "$nspawn" 2>/dev/null || true
  fi
  for (( i=${#mounted[@]}-1; i>=0; i-- )); do
    umount -l "${mounted[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
mount_into() { mount "$@"; mounted+=("${*: -1}"); }

echo "check-rootfs: dist/edge-$arch.img.zst"
(cd dist && sha256sum --quiet -c "edge-$arch.sha256") || fail "checksums of dist/edge-$arch.sha256"
ok "sha256 checksums"
zstd -q -d "dist/edge-$arch.img.zst" -o "$work/disk.img"

# start and size (in 512-byte sectors) of partition NAME
part() {
  sfdisk --json "$work/disk.img" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == sys.argv[1]:
        print(p["start"], p["size"])' "$1"
}
read -r root_start root_size < <(part EDGE_ROOT) || fail "no partition EDGE_ROOT"
read -r data_start data_size < <(part EDGE_DATA) || fail "no partition EDGE_DATA"
ok "GPT: EDGE_ROOT at sector $root_start, EDGE_DATA at sector $data_start"
dd if="$work/disk.img" of="$work/root.squashfs" bs=512 skip="$root_start" count="$root_size" status=none
dd if="$work/disk.img" of="$work/data.ext4" bs=512 skip="$data_start" count="$data_size" conv=sparse status=none
squash_bytes=$(stat -c %s "dist/edge-rootfs-$arch.squashfs")
cmp -s -n "$squash_bytes" "$work/root.squashfs" "dist/edge-rootfs-$arch.squashfs" \
  || fail "EDGE_ROOT does not hold dist/edge-rootfs-$arch.squashfs"
ok "EDGE_ROOT holds dist/edge-rootfs-$arch.squashfs"
[ "$(e2label "$work/data.ext4")" = EDGE_DATA ] || fail "the data filesystem is not labelled EDGE_DATA"
e2fsck -fn "$work/data.ext4" >/dev/null 2>&1 || fail "e2fsck of EDGE_DATA"
ok "EDGE_DATA: ext4 labelled EDGE_DATA, clean"

unsquashfs -q -n -d "$root" "$work/root.squashfs" >/dev/null
grep -Eq '^LABEL=EDGE_DATA[[:space:]]+/var[[:space:]]+ext4' "$root/etc/fstab" || fail "fstab does not mount EDGE_DATA at /var"
[ -z "$(ls -A "$root/var")" ] || fail "/var of the root filesystem is not empty"
# The data partition is mounted outside the tree and bound in: nspawn --read-only (below) would
# make a mount inside the tree read-only too.
mkdir "$work/data"
mount_into -o loop "$work/data.ext4" "$work/data"
var_bind=${#mounted[@]}
mount_into --bind "$work/data" "$root/var"
ok "root filesystem unpacked, EDGE_DATA mounted at its /var"

if [ -e "$root/usr/bin/edge" ]; then
  systemd-analyze verify --root="$root" edge.service || fail "systemd-analyze verify edge.service"
  ok "systemd-analyze verify edge.service (in the image)"
else
  # An image built without a binary for its architecture: verify insists on ExecStart's program.
  printf '#!/bin/sh\nexit 1\n' > "$root/usr/bin/edge"
  chmod 0755 "$root/usr/bin/edge"
  systemd-analyze verify --root="$root" edge.service || fail "systemd-analyze verify edge.service"
  rm "$root/usr/bin/edge"
  ok "systemd-analyze verify edge.service (in the image, a placeholder for the missing /usr/bin/edge)"
fi
edge_uid=$(awk -F: '$1 == "edge" { print $3 }' "$root/etc/passwd")
[ -n "$edge_uid" ] || fail "no user edge in the image's /etc/passwd"
for dir in /var/lib/edge /var/log/edge; do
  [ "$(stat -c %u:%a "$root$dir")" = "$edge_uid:750" ] || fail "$dir is not edge's with mode 0750"
done
ok "user edge ($edge_uid) owns /var/lib/edge and /var/log/edge"
grep -Eq '^DATA_DIR = /var/lib/edge$' "$root/etc/edge/edge.conf" || fail "/etc/edge/edge.conf: DATA_DIR"
grep -Eq '^LOG_DIR = /var/log/edge$' "$root/etc/edge/edge.conf" || fail "/etc/edge/edge.conf: LOG_DIR"

# First boot on a bigger disk: systemd-repart grows EDGE_DATA to the end of it.
cp --sparse=always "$work/disk.img" "$work/bigger.img"
truncate -s +1G "$work/bigger.img"
systemd-repart --dry-run=no --no-pager --definitions="$root/usr/lib/repart.d" "$work/bigger.img" >/dev/null 2>&1 \
  || fail "systemd-repart on a bigger disk"
grown=$(sfdisk --json "$work/bigger.img" | python3 -c '
import json, sys
print(next(p["size"] for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p.get("name") == "EDGE_DATA"))')
[ "$grown" -gt $(( data_size + 2000000 )) ] || fail "systemd-repart did not grow EDGE_DATA ($data_size -> $grown sectors)"
ok "systemd-repart grows EDGE_DATA from $(( data_size / 2048 )) to $(( grown / 2048 )) MiB on a 1 GiB larger disk"
rm -f "$work/bigger.img"

machine=$(chroot "$root" /bin/uname -m) || fail "cannot run the image's programs (qemu-user/binfmt for $arch?)"
ok "the image's programs run here (chroot, $machine)"

if [ ! -e "$root/usr/bin/edge" ]; then
  echo "check-rootfs: this $arch image has no /usr/bin/edge (built without a $arch binary): not run"
  exit 0
fi
systemctl --root="$root" is-enabled edge.service >/dev/null || fail "edge.service is not enabled"
ok "edge.service enabled"

# 1. The program alone, in a chroot, as edge.service runs it: user edge, the environment systemd
#    sets for User=edge, /etc/edge/edge.conf, data in /var/lib/edge on EDGE_DATA.
mount_into -t proc proc "$root/proc"
mount_into -t sysfs sysfs "$root/sys"
mount_into --bind /dev "$root/dev"
mount_into -t tmpfs tmpfs "$root/run"
mount_into -t tmpfs -o mode=1777 tmpfs "$root/tmp"
python3 "$top/appliance/smoke.py" --data-dir /var/lib/edge --config /etc/edge/edge.conf -- \
  env HOME=/var/lib/edge USER=edge LOGNAME=edge chroot --userspec=edge:edge "$root" /usr/bin/edge \
  || fail "the program in the root filesystem"
[ -s "$root/var/log/edge/factorytx_core.log" ] || fail "nothing logged to /var/log/edge/factorytx_core.log"
ok "logs in /var/log/edge: $(cd "$root/var/log/edge" && echo *)"
for (( i=${#mounted[@]}-1; i>=var_bind; i-- )); do
  umount "${mounted[i]}"
  unset "mounted[i]"
done

# 2. The whole system booted in a container (systemd-nspawn --boot --read-only: the root stays
#    read-only as the squashfs is; /var, the data partition, is bound in writable, as fstab
#    mounts it on the box): systemd starts edge.service
#    with its hardening, takes READY=1, gets watchdog pings past WatchdogSec, stops it cleanly.
#    The container shares the host's network: a drop-in (in this unpacked copy only) moves the
#    port to a free loopback one. The user sys exists already, with the smoke test's password.
command -v systemd-nspawn >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container >/dev/null; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
install -d "$root/etc/systemd/system/edge.service.d"
printf '[Service]\nExecStart=\nExecStart=/usr/bin/edge serve --config /etc/edge/edge.conf --http-port %s --bind 127.0.0.1\n' \
  "$port" > "$root/etc/systemd/system/edge.service.d/check-rootfs.conf"
systemd-nspawn --quiet -D "$root" --read-only --bind="$work/data:/var" --register=no --keep-unit \
  --resolv-conf=off --console=read-only \
  --boot > "$work/console.log" 2>&1 &
nspawn=$!
init=""
in_container() { nsenter -t "$init" -a "$@"; }
stop_container() {
  if [ -n "$init" ]; then in_container systemctl poweroff >/dev/null 2>&1 || true; fi
  timeout 60 tail --pid="$nspawn" -f /dev/null || kill "$nspawn" 2>/dev/null || true
  wait "$nspawn" 2>/dev/null || true
}
for _ in $(seq 100); do
  init=$(pgrep -P "$nspawn" || true)
  [ -n "$init" ] && break
  sleep 0.2
done
[ -n "$init" ] || fail "systemd-nspawn did not start: $(tail -5 "$work/console.log")"
state=""
for _ in $(seq 240); do
  state=$(in_container systemctl is-active edge.service 2>/dev/null || true)
  if [ "$state" = active ] || [ "$state" = failed ]; then break; fi
  sleep 0.5
done
if [ "$state" != active ]; then
  in_container journalctl -u edge.service --no-pager 2>/dev/null | tail -20 >&2 || true
  stop_container
  fail "edge.service in the booted image is '$state'"
fi
ok "booted in systemd-nspawn: edge.service active (READY=1 taken, NotifyAccess=main)"
if ! curl -sf -u sys:smoke-admin-password "http://127.0.0.1:$port/v1/status" | grep -q '"success": *true'; then
  stop_container
  fail "GET /v1/status of edge.service in the booted image"
fi
ok "GET /v1/status answers from edge.service in the booted image"
watchdog=$(in_container systemctl show edge.service -p WatchdogUSec --value)
sleep 35
show="$(in_container systemctl show edge.service -p ActiveState --value) $(in_container systemctl show edge.service -p NRestarts --value)"
if [ "$show" != "active 0" ]; then
  stop_container
  fail "edge.service after 35 s (ActiveState NRestarts): $show"
fi
ok "still active after 35 s, no restart: the watchdog ($watchdog) gets its pings"
exposure=$(in_container systemd-analyze security edge.service --no-pager 2>/dev/null | tail -1 || true)
in_container systemctl stop edge.service
result="$(in_container systemctl show edge.service -p Result --value) $(in_container systemctl show edge.service -p ExecMainStatus --value)"
if [ "$result" != "success 0" ]; then
  stop_container
  fail "stopping edge.service: Result ExecMainStatus = $result"
fi
ok "systemctl stop edge: clean exit (Result=success, status 0)"
[ -z "$exposure" ] || ok "systemd-analyze security edge.service: ${exposure#→ }"
stop_container
echo "check-rootfs: $arch image passed"
