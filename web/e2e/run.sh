#!/usr/bin/env bash
# Browser tests of the console against a running `tidemark demo`:
# builds the binary, starts the demo on a free port with a throw-away data
# dir, waits for /readyz, runs e2e/*.test.mjs with node's test runner and
# headless Chromium (playwright-core, no downloaded browser), stops the demo.
# Screenshots: test-output/console/. Run from anywhere:  web/e2e/run.sh
#
#   E2E_SERVER=demo|fake   what to test against (default demo; fake is the
#                          console's own synthetic server, for UI work)
#   E2E_PORT               HTTP port (default: a free one)
#   E2E_DEMO_SPEED         simulated seconds per wall second of the demo (default 15)
#   E2E_DEMO_DURATION      an older demo without --keep: how long it feeds (300s)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
server="${E2E_SERVER:-demo}"
# A free port unless given, so runs beside another demo do not collide.
port="${E2E_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
url="http://127.0.0.1:$port"
out="$root/test-output/console"
mkdir -p "$out"

if [ ! -x /usr/bin/chromium ]; then
	echo "e2e: installing chromium (Debian package)"
	apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
(cd web && npm ci --no-audit --no-fund --loglevel=error)

tmp="$(mktemp -d)"
pid=""
stop() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap stop EXIT

case "$server" in
demo)
	go build -o bin/tidemark ./cmd/tidemark
	[ -x bin/influxd ] || make influxd
	# The generated-traffic demo runs its scenario (anomalies, so alerts)
	# and, with --keep, serves the console until stopped; slower than its
	# default speed so the alerts come after the browser has subscribed.
	# An older demo (sample lines in a loop) has no --keep: bound it in time.
	help="$(bin/tidemark demo -h 2>&1 || true)"
	if grep -q -- '-keep' <<<"$help"; then
		args=(--keep --speed "${E2E_DEMO_SPEED:-15}")
	else
		args=(--duration "${E2E_DEMO_DURATION:-300s}")
	fi
	TIDEMARK_HTTP_LISTEN="127.0.0.1:$port" bin/tidemark demo --influxd "$root/bin/influxd" --data "$tmp" \
		"${args[@]}" >"$out/server.log" 2>&1 &
	pid=$!
	;;
fake)
	go build -o "$tmp/fakeserve" ./host/console/internal/fakeserve
	"$tmp/fakeserve" -listen "127.0.0.1:$port" >"$out/server.log" 2>&1 &
	pid=$!
	;;
*)
	echo "e2e: E2E_SERVER must be demo or fake, not $server" >&2
	exit 2
	;;
esac

echo "e2e: waiting for $url/readyz ($server, log in $out/server.log)"
for i in $(seq 1 180); do
	if curl -fsS "$url/readyz" >/dev/null 2>&1; then break; fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "e2e: $server exited before it was ready:" >&2
		tail -30 "$out/server.log" >&2
		exit 1
	fi
	if [ "$i" = 180 ]; then
		echo "e2e: $url/readyz not ready after 90s:" >&2
		curl -sS "$url/readyz" >&2 || true
		tail -30 "$out/server.log" >&2
		exit 1
	fi
	sleep 0.5
done

cd web
TIDEMARK_URL="$url" SCREENSHOT_DIR="$out" node --test --test-concurrency=1 e2e/
