#!/usr/bin/env bash
# Builds the built-in analyzers into plugins/<name>.wasm (wasip1 reactor,
# Go c-shared) and appends each one's manifest.json as the tidemark.manifest
# custom section. Usage: plugins/build.sh [name ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in plugins/*/; do
    d=${d%/}
    [ -f "$d/main.go" ] && [ -f "$d/manifest.json" ] && names+=("$(basename "$d")")
  done
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$GO build -o "$tmp/tidemark-manifest" ./abi/cmd/tidemark-manifest

for n in "${names[@]}"; do
  [ -f "plugins/$n/main.go" ] || { echo "build.sh: no analyzer plugins/$n" >&2; exit 1; }
  out="plugins/$n.wasm"
  GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $GO build -buildmode=c-shared -trimpath -o "$tmp/$n.wasm" "./plugins/$n"
  "$tmp/tidemark-manifest" -m "plugins/$n/manifest.json" -o "$tmp/$n.m.wasm" "$tmp/$n.wasm"
  mv "$tmp/$n.m.wasm" "$out"   # atomic in the watched dir: never a half-written module
  echo "built $out ($(wc -c <"$out") bytes)"
done
