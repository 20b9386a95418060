#!/usr/bin/env bash
# Tests a built image (./build.sh image) from its artefacts in dist/:
#   - checksums, GPT layout (EDGE_ROOT squashfs + EDGE_DATA ext4 labelled EDGE_DATA), fsck
#   - systemd-analyze verify of edge.service inside the image, and that it is enabled
#   - /var/lib/edge and /var/log/edge on the data partition, owned by the edge user
#   - systemd-repart grows EDGE_DATA over a larger disk (as at first boot)
#   - runs /usr/bin/edge inside the root filesystem (chroot, user edge, /etc/edge/edge.conf,
#     the data partition at /var) through appliance/smoke.py: READY=1, /v1/config,
#     /v1/config/validate, /v1/status, /machiot when present, orderly stop.
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
mount_into -o loop "$work/data.ext4" "$root/var"
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

mount_into -t proc proc "$root/proc"
mount_into -t sysfs sysfs "$root/sys"
mount_into --bind /dev "$root/dev"
mount_into -t tmpfs tmpfs "$root/run"
mount_into -t tmpfs -o mode=1777 tmpfs "$root/tmp"
# As edge.service runs it (environment as systemd sets it for User=edge): user edge, /etc/edge/edge.conf, data in /var/lib/edge (on EDGE_DATA).
python3 "$top/appliance/smoke.py" --data-dir /var/lib/edge --config /etc/edge/edge.conf -- \
  env HOME=/var/lib/edge USER=edge LOGNAME=edge chroot --userspec=edge:edge "$root" /usr/bin/edge \
  || fail "the program in the root filesystem"
[ -s "$root/var/log/edge/factorytx_core.log" ] || fail "nothing logged to /var/log/edge/factorytx_core.log"
ok "logs in /var/log/edge: $(cd "$root/var/log/edge" && echo *)"
echo "check-rootfs: $arch image passed"
