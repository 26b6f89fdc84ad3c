#!/usr/bin/env bash
# Regenerates host/console/dist from web/ with the exact package versions of
# package-lock.json. Commit the result: the Go build embeds it and does not
# need npm. TestDistIsFresh (host/console) fails when this was forgotten.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
