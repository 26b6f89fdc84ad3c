#!/bin/sh
# Builds everything the container image ships and stages it under a root
# directory laid out like the image's filesystem. deploy/Dockerfile's build
# stage runs exactly this script (RUN ./deploy/build.sh /out), so CI can run
# the same commands without a container engine:
#
#   deploy/build.sh [OUT]     # OUT defaults to dist/rootfs
#
# Result:
#   OUT/usr/local/bin/tidemark
#   OUT/etc/tidemark/tidemark.toml          (configs/docker.toml)
#   OUT/usr/share/tidemark/plugins/*.wasm   (built-in analyzers; the image
#                                            seeds its plugins volume from them)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/dist/rootfs}
case $out in /*) ;; *) out=$PWD/$out ;; esac

cd "$src"
# Static binary for a minimal runtime image; no VCS stamping, since a build
# context usually has no .git.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:--trimpath -buildvcs=false}"
make build plugins

rm -rf "$out"
mkdir -p "$out/usr/local/bin" "$out/etc/tidemark" "$out/usr/share/tidemark/plugins"
cp bin/tidemark "$out/usr/local/bin/tidemark"
chmod 0755 "$out/usr/local/bin/tidemark"
cp configs/docker.toml "$out/etc/tidemark/tidemark.toml"
n=0
for f in plugins/*.wasm; do
	[ -e "$f" ] || continue
	cp "$f" "$out/usr/share/tidemark/plugins/"
	n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	echo "build.sh: make plugins produced no plugins/*.wasm" >&2
	exit 1
fi
chmod 0644 "$out/etc/tidemark/tidemark.toml" "$out"/usr/share/tidemark/plugins/*.wasm
echo "build.sh: staged tidemark and $n plugin(s) in $out"
