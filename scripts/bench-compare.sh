#!/usr/bin/env bash
# Before/after figures for a change to matching or storage: builds
# robinscreen at two revisions, generates one synthetic list and one contact
# file with the newer robingen, and measures each revision on the same data,
# alternating, ROUNDS times:
#   - offline load of the list: seconds and peak RSS (/usr/bin/time -v);
#   - batch screening (loadtest batch, chunk 1000, 2 streams): contacts/s;
#   - unary at a fixed rate (loadtest unary, 10 s): p50/p99;
#   - the server's RSS after the batch.
# Every revision is driven by the newer revision's loadtest.
# The newer revision is measured twice: as the older one (the list alone)
# and with a synthetic CPR road register loaded too ("new+streets"), when
# its robingen writes one.
# A benchmark, not a test: CI does not run it (docs/benchmarks-e2e.md).
#
#   scripts/bench-compare.sh [--old REV] [--new REV] [--list N] [--contacts N]
#                            [--rounds R] [--rate RPS] [--work DIR]
#
# Defaults: old = the commit before the matching-v2 change (fe8948d), new =
# HEAD (the work tree as committed), a 6,000,000-record list, 1,000,000
# contacts with 10 % listed, 3 rounds, unary at 10 000 requests/s. Results:
# WORK/results/compare.md (table of medians) and WORK/results/*.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OLD=fe8948d NEW=HEAD LIST_N=6000000 CONTACTS_N=1000000 ROUNDS=3 RATE=10000 WORK=/tmp/rs-compare
while [ $# -gt 0 ]; do
  case "$1" in
    --old) OLD=$2; shift 2 ;;
    --new) NEW=$2; shift 2 ;;
    --list) LIST_N=$2; shift 2 ;;
    --contacts) CONTACTS_N=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    *) echo "usage: $0 [--old REV] [--new REV] [--list N] [--contacts N] [--rounds R] [--rate RPS] [--work DIR]" >&2; exit 2 ;;
  esac
done
log() { echo "[$(date -u +%T)] $*" >&2; }
[ -x /usr/bin/time ] || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time; }
mkdir -p "$WORK/results"
OUT=$WORK/results
PORT=50071

# Binaries: each revision in its own worktree.
build() { # name rev
  local dir=$WORK/src-$1
  rm -rf "$dir"; git -C "$root" worktree prune
  git -C "$root" worktree add -q --detach "$dir" "$2"
  (cd "$dir" && go build -o "$WORK/bin-$1/" ./cmd/robinscreen ./cmd/robingen ./loadtest)
  echo "$1 = $(git -C "$dir" log -1 --format='%h %s' | cut -c1-80)" >> "$OUT/revisions.txt"
  git -C "$root" worktree remove --force "$dir"
}
: > "$OUT/revisions.txt"
log "building $OLD and $NEW"
build old "$OLD"
build new "$NEW"

DAY=$(date -u +%F)
LIST=$WORK/list-$LIST_N.txt
CONTACTS=$WORK/contacts-$CONTACTS_N-l$LIST_N.csv
[ -s "$LIST" ] || { log "generating $LIST_N list records"; "$WORK/bin-new/robingen" robinson -n "$LIST_N" -published "$DAY" -o "$LIST"; }
[ -s "$CONTACTS" ] || { log "generating $CONTACTS_N contacts"; "$WORK/bin-new/robingen" contacts -n "$CONTACTS_N" -listed 0.1 -list-n "$LIST_N" -published "$DAY" -o "$CONTACTS"; }
STREETS=$WORK/streets-$LIST_N.txt
WITH_STREETS=0
if "$WORK/bin-new/robingen" streets -published "$DAY" -o "$STREETS" 2>/dev/null; then WITH_STREETS=1; fi

# One load generator for every revision: the newer one. The client is the
# measuring instrument and shares the two cores with the server, so two
# clients would add their own difference (the older loadtest used up to
# 4 % less CPU at 10 000 calls/s) to the servers'.
LOADTEST=$WORK/bin-new/loadtest

PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK/data"' EXIT

run() { # name round [streets]
  local b=$WORK/bin-$1 tag=$1${3:+-streets}-$2 name=$1${3:++streets}
  rm -rf "$WORK/data"
  log "$tag: load"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$OUT/$tag-load.time" "$b/robinscreen" load --data "$WORK/data" --robinson "$LIST" > /dev/null 2> "$OUT/$tag-load.log"
  t1=$(date +%s.%N)
  if [ -n "${3:-}" ]; then
    "$b/robinscreen" load --data "$WORK/data" --streets "$STREETS" > /dev/null 2>> "$OUT/$tag-load.log"
  fi
  local load_s rss
  load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  rss=$(awk -F': ' '/Maximum resident/{printf "%.0f", $2/1024}' "$OUT/$tag-load.time")
  "$b/robinscreen" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" 2> "$OUT/$tag-serve.log" &
  PID=$!
  for _ in $(seq 200); do grep -q 'serving' "$OUT/$tag-serve.log" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  log "$tag: batch"
  "$LOADTEST" batch --addr "127.0.0.1:$PORT" --contacts "$CONTACTS" --no-cpr --chunk 1000 --streams 2 --json "$OUT/$tag-batch.json" > /dev/null
  local serve_rss
  serve_rss=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$PID/status)
  log "$tag: unary at $RATE/s"
  "$LOADTEST" unary --addr "127.0.0.1:$PORT" --contacts "$CONTACTS" --no-cpr --rate "$RATE" --duration 10s --json "$OUT/$tag-unary.json" > /dev/null
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  local rate p50 p99 errs
  rate=$(grep -o '"contacts_per_second": *[0-9.]*' "$OUT/$tag-batch.json" | grep -o '[0-9.]*$')
  p50=$(grep -o '"p50_ms": *[0-9.]*' "$OUT/$tag-unary.json" | head -1 | grep -o '[0-9.]*$')
  p99=$(grep -o '"p99_ms": *[0-9.]*' "$OUT/$tag-unary.json" | head -1 | grep -o '[0-9.]*$')
  errs=$(grep -o '"errors": *[0-9]*' "$OUT/$tag-unary.json" | head -1 | grep -o '[0-9]*$')
  echo "$name $2 $load_s $rss $rate $p50 $p99 $serve_rss $errs" >> "$OUT/runs.txt"
}

: > "$OUT/runs.txt"
for r in $(seq "$ROUNDS"); do
  run old "$r"
  run new "$r"
  [ "$WITH_STREETS" = 1 ] && run new "$r" streets
done

# Medians per revision, and new/old ratios.
median() { sort -n | awk '{a[NR]=$1} END{if(NR%2){print a[(NR+1)/2]}else{printf "%.2f\n",(a[NR/2]+a[NR/2+1])/2}}'; }
col() { awk -v n="$1" -v c="$2" '$1==n{print $c}' "$OUT/runs.txt" | median; }
{
  echo "# bench-compare: $LIST_N list records, $CONTACTS_N contacts, $ROUNDS rounds, unary at $RATE/s"
  echo
  sed 's/^/    /' "$OUT/revisions.txt"
  echo
  echo "| median | old | new | new/old | new+streets | new+streets/old |"
  echo "|---|---:|---:|---:|---:|---:|"
  for spec in "load seconds (list):3" "load peak RSS MB:4" "batch contacts/s:5" "unary p50 ms:6" "unary p99 ms:7" "serving RSS MB:8" "unary errors:9"; do
    name=${spec%:*} c=${spec##*:}
    o=$(col old "$c") n=$(col new "$c") ns=$(col new+streets "$c")
    ratio() { awk -v o="$1" -v n="$2" 'BEGIN{if(o>0&&n!="")printf "%.2f", n/o; else print "-"}'; }
    echo "| $name | $o | $n | $(ratio "$o" "$n") | ${ns:--} | $(ratio "$o" "$ns") |"
  done
  echo
  echo "Runs (name round load_s load_rss_mb batch_rate p50_ms p99_ms serve_rss_mb unary_errors):"
  echo
  sed 's/^/    /' "$OUT/runs.txt"
} > "$OUT/compare.md"
cat "$OUT/compare.md"
