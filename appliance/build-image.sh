#!/usr/bin/env bash
# ./build.sh image [--arch amd64|arm64] [--binary DIR] [--fresh]: the flashable appliance image.
#
# A Debian bookworm root filesystem made by mmdebstrap from Debian packages (arm64 on an amd64
# host through qemu-user-static + binfmt), with edge at /usr/bin/edge, edge.service enabled,
# conf/ as /etc/edge/ (DATA_DIR, LOG_DIR, HTTP_BIND from appliance/image.conf) and rootfs/
# laid over. Writes to dist/:
#   edge-rootfs-ARCH.squashfs  the root filesystem, read-only, zstd-compressed: partition EDGE_ROOT
#   edge-ARCH.img.zst          a GPT disk image: EDGE_ROOT (that squashfs) + EDGE_DATA (ext4,
#                              mounted at /var, holds /var/lib/edge; grows to fill the disk)
#   edge-ARCH.sha256           sha256sum -c file of both
# The kernel and boot loader are the board's (see README.d/appliance.md). Needs root, and
# network access to the Debian archive only. appliance/check-rootfs.sh tests the result.
#
# The program is Nuitka's standalone folder dist/edge.dist (made by ./build.sh binary, run
# here when it is missing and ARCH is this machine's), or --binary DIR. Nuitka does not
# cross-compile: without an ARCH binary the image is built without /usr/bin/edge, and says so.
#
# Environment: EDGE_DEBIAN_MIRROR, EDGE_DEBIAN_SECURITY (archive URLs), EDGE_ROOT_MB (root
# partition, default 512), EDGE_DATA_MB (data partition as shipped, default 256).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

usage() {
  echo "usage: ./build.sh image [--arch amd64|arm64] [--binary DIR] [--fresh]" >&2
  exit 2
}

host_arch=$(dpkg --print-architecture)
arch=$host_arch
binary=""
fresh=0
while [ $# -gt 0 ]; do
  case $1 in
    --arch) [ $# -ge 2 ] || usage; arch=$2; shift 2 ;;
    --arch=*) arch=${1#--arch=}; shift ;;
    --binary) [ $# -ge 2 ] || usage; binary=$2; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --fresh) fresh=1; shift ;;
    *) usage ;;
  esac
done

suite=bookworm
mirror=${EDGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${EDGE_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
root_mb=${EDGE_ROOT_MB:-512}
data_mb=${EDGE_DATA_MB:-256}
work=$top/build/image-$arch
tree=$work/rootfs
dist=$top/dist

# GPT partition types of the Discoverable Partitions Specification, so systemd-repart (and a
# person with fdisk) can tell the partitions apart; the root PARTUUID is fixed so a boot loader
# entry can name it: root=PARTUUID=... (the kernel resolves that without an initramfs).
var_type=4d21b016-b534-45c2-a9fb-5c16e091fd2d
case $arch in
  amd64) root_type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709 root_uuid=c6c3d325-964b-472d-aa9b-2283cd944644
         data_uuid=80e438a2-0a8a-47b5-96ca-fe45c637ffa8 elf_machine=3e ;;
  arm64) root_type=b921b045-1df0-41c3-af44-4c6f280d3fae root_uuid=b4555992-70f4-4139-8873-b8d62bfd73fe
         data_uuid=75a8516c-cd23-4dfc-bc61-de1a8be4f19a elf_machine=b7 ;;
  *) echo "build-image: unknown architecture $arch (amd64 or arm64)" >&2; exit 2 ;;
esac

# What a headless box needs beyond minbase: systemd as init, udev, networking by DHCP
# (systemd-networkd), name resolution, clock sync (timestamps!), CA certificates for the cloud
# transmit, time zones for TIMEZONE, fsck for the data partition.
packages=systemd,systemd-sysv,udev,dbus,systemd-resolved,systemd-timesyncd,iproute2,netbase,ca-certificates,tzdata,e2fsprogs,kmod,procps,iputils-ping

log() { echo "build-image: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "build-image: needs root (mmdebstrap, ownership of files in the image)" >&2
  exit 1
fi

install_tools() {
  local need=() pkg_cmd
  for pkg_cmd in mmdebstrap:mmdebstrap squashfs-tools:mksquashfs fdisk:sfdisk e2fsprogs:mkfs.ext4 \
                 zstd:zstd arch-test:arch-test; do
    command -v "${pkg_cmd#*:}" >/dev/null 2>&1 || need+=("${pkg_cmd%%:*}")
  done
  if [ "$arch" != "$host_arch" ]; then
    command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
    command -v update-binfmts >/dev/null 2>&1 || need+=(binfmt-support)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ "$arch" != "$host_arch" ]; then
    # Foreign maintainer scripts run through qemu: binfmt_misc must be mounted and enabled.
    [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable "qemu-$(arch_qemu)" >/dev/null 2>&1 || true
    if ! arch-test "$arch" >/dev/null; then
      echo "build-image: this machine cannot run $arch programs (qemu-user-static + binfmt)" >&2
      exit 1
    fi
  fi
}

arch_qemu() { [ "$arch" = arm64 ] && echo aarch64 || echo x86_64; }

# e_machine of an ELF file as two hex digits: 3e x86-64, b7 aarch64.
elf_machine_of() { od -An -t x1 -j 18 -N 1 "$1" | tr -d ' '; }

find_binary() {
  if [ -z "$binary" ] && [ -f dist/edge.dist/edge.bin ] && [ "$(elf_machine_of dist/edge.dist/edge.bin)" = "$elf_machine" ]; then
    binary=dist/edge.dist
  fi
  if [ -z "$binary" ] && [ "$arch" = "$host_arch" ]; then
    log "no dist/edge.dist yet: building it (./build.sh binary)"
    appliance/build-binary.sh
    binary=dist/edge.dist
  fi
  if [ -n "$binary" ]; then
    if [ ! -f "$binary/edge.bin" ] || [ "$(elf_machine_of "$binary/edge.bin")" != "$elf_machine" ]; then
      echo "build-image: $binary/edge.bin is not an executable for $arch" >&2
      exit 1
    fi
    log "program: $binary"
  else
    log "WARNING: no $arch binary (Nuitka builds for the machine it runs on; see README.d/appliance.md):"
    log "WARNING: this root filesystem has NO /usr/bin/edge and edge.service is not enabled"
  fi
}

# The Debian part is cached for a day as a tarball (build/image-cache), so rebuilding the image
# after a change to the program or the recipe takes a minute; --fresh ignores the cache.
bootstrap() {
  local key cache
  key=$(printf '%s\n' "$suite" "$arch" "$packages" "$mirror" "$security" "$(declare -f debian_tarball)" | sha256sum | cut -c1-16)
  cache=$top/build/image-cache/$suite-$arch-$key.tar
  if [ "$fresh" = 1 ] || [ -z "$(find "$cache" -mmin -1440 2>/dev/null)" ]; then
    mkdir -p "$(dirname "$cache")"
    rm -f "$(dirname "$cache")/$suite-$arch-"*.tar
    log "mmdebstrap $suite $arch"
    # mmdebstrap picks the format by the name's ending: keep .tar last.
    debian_tarball "${cache%.tar}.partial.tar"
    mv "${cache%.tar}.partial.tar" "$cache"
  else
    log "Debian $suite $arch from $cache (under a day old; --fresh to rebuild)"
  fi
  rm -rf "$work"
  mkdir -p "$tree"
  tar -C "$tree" --numeric-owner --xattrs --xattrs-include='*' -xpf "$cache"
}

debian_tarball() {
  # Manuals, translations and documentation other than copyrights have no reader on the box.
  mmdebstrap --quiet --mode=root --arch="$arch" --variant=minbase --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$suite" "$1" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main"
}

customize() {
  log "laying rootfs/, conf/, systemd/ and the program over the root filesystem"
  cp -r --no-preserve=ownership rootfs/. "$tree/"
  install -d -m 0755 "$tree/etc/edge"
  cp -r --no-preserve=ownership conf/. "$tree/etc/edge/"
  chmod -R u=rwX,go=rX "$tree/etc/edge"
  appliance/apply-settings.sh "$tree/etc/edge/edge.conf" appliance/image.conf
  install -m 0644 systemd/*.service "$tree/usr/lib/systemd/system/"
  install -d -m 0755 "$tree/usr/share/doc/edge"
  install -m 0644 README.md "$tree/usr/share/doc/edge/README.md"
  if [ -n "$binary" ]; then
    cp -r --no-preserve=ownership "$binary" "$tree/usr/lib/edge"
    chmod -R u=rwX,go=rX "$tree/usr/lib/edge"
    ln -s ../lib/edge/edge.bin "$tree/usr/bin/edge"
  fi

  echo edge > "$tree/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tedge\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$tree/etc/hosts"
  # Empty: on a read-only root systemd gives each boot a transient machine id.
  : > "$tree/etc/machine-id"
  ln -sf ../run/systemd/resolve/stub-resolv.conf "$tree/etc/resolv.conf"

  # Users and directories now, with the host's systemd tools reading the image's files: the
  # root filesystem is read-only once flashed.
  systemd-sysusers --root="$tree"
  systemd-tmpfiles --root="$tree" --create edge.conf
  local units=(systemd-networkd.service systemd-resolved.service systemd-timesyncd.service)
  [ -n "$binary" ] && units+=(edge.service)
  systemctl --root="$tree" enable "${units[@]}" 2>&1 | grep -v '^Created symlink' || true
  if [ -n "$binary" ]; then
    systemd-analyze verify --root="$tree" edge.service
  else
    # verify insists that ExecStart's program exists: a placeholder stands in for the check only.
    printf '#!/bin/sh\nexit 1\n' > "$tree/usr/bin/edge"
    chmod 0755 "$tree/usr/bin/edge"
    systemd-analyze verify --root="$tree" edge.service
    rm "$tree/usr/bin/edge"
  fi
  rm -rf "$tree"/var/cache/apt/*.bin "$tree"/var/lib/apt/lists/* "$tree"/var/log/*.log
}

# /var goes to the data partition; the root filesystem keeps an empty /var to mount it on.
make_partitions() {
  log "data partition EDGE_DATA (ext4, ${data_mb} MiB, holds /var)"
  mkfs.ext4 -q -F -L EDGE_DATA -U "$data_uuid" -E root_owner=0:0 -d "$tree/var" "$work/data.ext4" "${data_mb}M"
  find "$tree/var" -mindepth 1 -delete
  log "root partition EDGE_ROOT (squashfs, zstd)"
  mksquashfs "$tree" "$work/rootfs.squashfs" -noappend -quiet -comp zstd -Xcompression-level 15 \
    -processors "$(nproc)"
  local squash_mb=$(( ($(stat -c %s "$work/rootfs.squashfs") + 1048575) / 1048576 ))
  if [ "$squash_mb" -gt "$root_mb" ]; then
    echo "build-image: root filesystem is $squash_mb MiB, the partition $root_mb MiB (EDGE_ROOT_MB)" >&2
    exit 1
  fi
}

make_disk() {
  local img=$work/edge-$arch.img
  log "disk image: GPT, EDGE_ROOT ${root_mb} MiB + EDGE_DATA ${data_mb} MiB"
  rm -f "$img"
  truncate -s $(( 1 + root_mb + data_mb + 1 ))M "$img"
  sfdisk --quiet --no-reread --no-tell-kernel "$img" <<EOF
label: gpt
start=1MiB, size=${root_mb}MiB, type=$root_type, uuid=$root_uuid, name=EDGE_ROOT
size=${data_mb}MiB, type=$var_type, name=EDGE_DATA
EOF
  dd if="$work/rootfs.squashfs" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$work/data.ext4" of="$img" bs=1M seek=$(( 1 + root_mb )) conv=notrunc,sparse status=none

  mkdir -p "$dist"
  rm -f "$dist/edge-$arch.img.zst" "$dist/edge-rootfs-$arch.squashfs"
  zstd -q -T0 -10 "$img" -o "$dist/edge-$arch.img.zst"
  cp "$work/rootfs.squashfs" "$dist/edge-rootfs-$arch.squashfs"
  (cd "$dist" && sha256sum "edge-$arch.img.zst" "edge-rootfs-$arch.squashfs" > "edge-$arch.sha256")
}

main() {
  local start
  start=$(date +%s)
  install_tools
  find_binary
  bootstrap
  customize
  make_partitions
  make_disk
  log "done in $(( $(date +%s) - start )) s:"
  (cd "$dist" && ls -l "edge-$arch.img.zst" "edge-rootfs-$arch.squashfs" "edge-$arch.sha256")
  [ -n "$binary" ] || log "WARNING: built WITHOUT the edge program (no $arch binary)"
}

# One line, read whole before it runs: editing this file during a build cannot derail it.
main; exit
