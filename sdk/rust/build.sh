#!/usr/bin/env bash
# Builds Rust analyzers (cdylib examples of this crate) to wasm.
#
#   sdk/rust/build.sh [-t wasm32-unknown-unknown|wasm32-wasi] [-o DIR] [example ...]
#
# Default: every examples/<name>/main.rs, wasm32-unknown-unknown, into
# sdk/rust/target/wasm/<name>.wasm. The manifest section comes from the
# export_analyzer! macro (#[link_section = "tidemark.manifest"]): rustc and
# lld keep it, so no post-link step is needed; the script checks it is there.
# Uses /usr/bin/cargo and /usr/bin/rustc (Debian's toolchain with the wasm
# targets) unless CARGO / RUSTC say otherwise; never fetches crates.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export CARGO=${CARGO:-/usr/bin/cargo}
export RUSTC=${RUSTC:-/usr/bin/rustc}
target=wasm32-unknown-unknown
out="$here/target/wasm"
while getopts "t:o:" opt; do
  case $opt in
    t) target=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "usage: $0 [-t target] [-o dir] [example ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in examples/*/; do
    d=${d%/}
    [ -f "$d/main.rs" ] && names+=("$(basename "$d")")
  done
fi
[ -x "$CARGO" ] || { echo "build.sh: no cargo at $CARGO (apt-get install rustc cargo libstd-rust-dev-wasm32)" >&2; exit 1; }
mkdir -p "$out"
for n in "${names[@]}"; do
  "$CARGO" build --offline --quiet --release --target "$target" --example "$n"
  src="target/$target/release/examples/$n.wasm"
  grep -q "tidemark.manifest" "$src" || { echo "build.sh: $src has no tidemark.manifest section" >&2; exit 1; }
  cp "$src" "$out/$n.wasm.tmp" && mv "$out/$n.wasm.tmp" "$out/$n.wasm"   # never a half-written module
  echo "built $out/$n.wasm ($(wc -c <"$out/$n.wasm") bytes, $target)"
done
