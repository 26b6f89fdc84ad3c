#!/usr/bin/env bash
# Installs what the SDK conformance test (and the AS SDK's own tests) need,
# only where it is missing, so running it again is cheap:
#   - Rust with the wasm32-unknown-unknown standard library (Debian packages)
#   - node + npm, and the AssemblyScript compiler from sdk/assemblyscript's lockfile
# Usage: bash sdk/conformance/setup.sh   (as root, or with sudo available)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

missing=()
# The Debian rustc at /usr/bin is the one with libstd-rust-dev-wasm32; a
# rustup toolchain on PATH is used instead only if it has the target.
has_wasm_rust() {
  for rustc in /usr/bin/rustc "$(command -v rustc || true)"; do
    [ -x "$rustc" ] || continue
    sysroot="$("$rustc" --print sysroot 2>/dev/null)" || continue
    [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ] && return 0
  done
  return 1
}
if ! has_wasm_rust; then missing+=(rustc cargo libstd-rust-dev-wasm32); fi
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

as="$root/sdk/assemblyscript"
want="$(node -p "require('$as/package-lock.json').packages['node_modules/assemblyscript'].version")"
have="$(node -p "try { require('$as/node_modules/assemblyscript/package.json').version } catch { '' }")"
if [ "$want" != "$have" ]; then
  echo "setup.sh: npm ci in sdk/assemblyscript (assemblyscript $want)"
  (cd "$as" && npm ci --no-audit --no-fund)
fi
echo "setup.sh: ok (rust wasm32, node $(node --version), assemblyscript $want)"
