#!/usr/bin/env bash
# Tests the Node.js client against the real server binary: installs the npm
# packages from package-lock.json, builds robinscreen and runs node --test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
(cd "$root" && go build -o "$tmp/robinscreen" ./cmd/robinscreen)
ROBINSCREEN_BIN="$tmp/robinscreen" node --test test/
