#!/usr/bin/env bash
# Runs every fuzz target of the repository's modules for a short while
# (default 100 000 executions each): a smoke test that the targets still
# build, their seed corpora (testdata/fuzz/) still pass, and some new inputs
# find no crasher.
# A crasher is written under the package's testdata/fuzz/ by Go and fails
# the run. The budget is a count, not a duration: with a duration, Go 1.26's
# fuzzing coordinator can report "context deadline exceeded" at the end of
# the window on a loaded machine without any failing input (Go issue 75804,
# fixed in Go 1.27).
#
#   scripts/fuzz-smoke.sh [EXECUTIONS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-100000}
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
  echo "== fuzz $dir $name (${runs} executions)"
  # The module holding dir (the root one, or a nested one such as clients/).
  mod=$dir
  while [ ! -f "$mod/go.mod" ]; do mod=$(dirname "$mod"); done
  (cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "${runs}x" ".${dir#"$mod"}")
  n=$((n + 1))
done <<< "$targets"
echo "fuzz smoke: $n targets"
