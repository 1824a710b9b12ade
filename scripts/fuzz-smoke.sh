#!/usr/bin/env bash
# Runs every fuzz target of the module for a short while (default 5 s
# each): a smoke test that the targets still build, their seed corpora
# (testdata/fuzz/) still pass, and a few seconds of new inputs find no
# crasher. A crasher is written under the package's testdata/fuzz/ by Go
# and fails the run.
#
#   scripts/fuzz-smoke.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-5}
# Every "func FuzzX(" in a _test.go file, as package directory and name.
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort |
  while read -r f; do
    for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
      echo "$(dirname "$f") $name"
    done
  done)
n=0
while read -r dir name; do
  [ -n "$dir" ] || continue
  echo "== fuzz $dir $name (${secs}s)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$dir"
  n=$((n + 1))
done <<< "$targets"
echo "fuzz smoke: $n targets"
