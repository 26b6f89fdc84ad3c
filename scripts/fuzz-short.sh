#!/usr/bin/env bash
# Runs every Go fuzz target briefly (FUZZTIME each, default 5s), so CI
# exercises the fuzzers beyond their seed corpora without taking long.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | while read -r f; do
	dir=$(dirname "$f")
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "fuzz $dir $name ($FUZZTIME)"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir" >/tmp/fuzz-$$.log 2>&1 || { cat /tmp/fuzz-$$.log; exit 1; }
	done
done
