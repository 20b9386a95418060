#!/usr/bin/env bash
# Vendors uPlot (the UI's chart library) from the npm registry into edge/web/ui/static/:
# `npm pack` of a pinned version, its sha512 checked against the integrity pinned here, then the
# minified script, its stylesheet and its licence copied out. The result is committed, so the
# wheel, the binary and an offline box carry it; nothing is fetched when edge runs. Run it again
# only to change the version (update VERSION and INTEGRITY together).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.6.32
INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==
target=edge/web/ui/static

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$VERSION" >/dev/null)
tarball=$work/uplot-$VERSION.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "fetch_ui_assets: uplot-$VERSION.tgz has integrity $got, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work"
mkdir -p "$target"
cp "$work/package/dist/uPlot.iife.min.js" "$target/uPlot.iife.min.js"
cp "$work/package/dist/uPlot.min.css" "$target/uPlot.min.css"
cp "$work/package/LICENSE" "$target/uPlot.LICENSE"
echo "uplot $VERSION ($INTEGRITY) -> $target"
