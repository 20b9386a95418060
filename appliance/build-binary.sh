#!/usr/bin/env bash
# ./build.sh binary: Nuitka compiles edge/ into dist/edge (one self-extracting executable) and
# dist/edge.dist/ (the same program as a standalone folder, which the image ships; its
# executable is edge.bin, since the folder edge/ beside it holds the package's data files).
#
# Installs what it needs: patchelf, ccache and a C compiler (Debian packages, root needed the
# first time) and a build venv (build/binary-venv) holding pyproject.toml's runtime dependencies
# plus its `binary` extra (Nuitka). ccache keeps its objects in build/ccache, so a rebuild after
# a small change takes a fraction of the cold build.
#
# Environment: PYTHON (default python3.11), CCACHE_DIR (default build/ccache),
# NUITKA_JOBS (parallel C compiler jobs, default all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
python=${PYTHON:-python3.11}
venv=$top/build/binary-venv
out=$top/build/nuitka
dist=$top/dist
export CCACHE_DIR=${CCACHE_DIR:-$top/build/ccache}

install_tools() {
  local need=() pkg_cmd
  for pkg_cmd in patchelf:patchelf ccache:ccache gcc:gcc; do
    command -v "${pkg_cmd#*:}" >/dev/null 2>&1 || need+=("${pkg_cmd%%:*}")
  done
  # Debian's python3.11 keeps Python.h in a package of its own.
  "$python" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' \
    || need+=(python3.11-dev)
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "build-binary: need root to install: ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

# The venv is rebuilt only when pyproject.toml or binary_deps.py change.
install_venv() {
  local stamp=$venv/.edge-binary-installed want
  want=$(cat pyproject.toml appliance/binary_deps.py | sha256sum | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  mapfile -t requirements < <("$venv/bin/python" -I appliance/binary_deps.py requirements pyproject.toml)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}"
  echo "$want" > "$stamp"
}

compile() {
  local version args=() line module
  version=$("$venv/bin/python" -I -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' pyproject.toml)
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] || args+=("$line")
  done < appliance/nuitka.args
  while IFS= read -r module; do
    args+=("--include-module=$module")
  done < <("$venv/bin/python" -I appliance/binary_deps.py modules pyproject.toml)
  [ -n "${NUITKA_JOBS:-}" ] && args+=("--jobs=$NUITKA_JOBS")
  mkdir -p "$out" "$CCACHE_DIR"
  # Nuitka finds edge/ from the current directory: the checkout is what gets compiled.
  "$venv/bin/python" -m nuitka "${args[@]}" \
    --product-name=edge --product-version="$version" \
    --output-dir="$out" --output-filename=edge --output-folder-name=edge.dist \
    --report="$out/compilation-report.xml" \
    --assume-yes-for-downloads \
    edge
  "$venv/bin/python" -I appliance/binary_deps.py check "$out/compilation-report.xml" pyproject.toml
}

publish() {
  mkdir -p "$dist"
  rm -rf "$dist/edge.dist.new"
  cp -a "$out/edge.dist" "$dist/edge.dist.new"
  rm -rf "$dist/edge.dist"
  mv "$dist/edge.dist.new" "$dist/edge.dist"
  cp "$out/edge" "$dist/edge.new"
  mv "$dist/edge.new" "$dist/edge"
  (cd "$dist" && sha256sum edge > edge.sha256)
}

main() {
  local start
  start=$(date +%s)
  install_tools
  install_venv
  compile
  publish
  ccache --show-stats 2>/dev/null | grep -iE 'hits|misses' || true
  echo "build-binary: dist/edge ($(du -h "$dist/edge" | cut -f1)) and dist/edge.dist ($(du -sh "$dist/edge.dist" | cut -f1)) in $(( $(date +%s) - start )) s"
  "$dist/edge" version
}

# One line, read whole before it runs: editing this file during a build cannot derail it.
main; exit
