#!/usr/bin/env bash
# How batch throughput grows with replicas (docs/scaling.md): starts N
# `robinscreen serve` replicas on loopback (127.0.0.1, 127.0.0.2, …, one
# port, as the fleet test does), each with its own data directory holding
# the same synthetic Robinson list, and drives them with the project's
# loadtest (batch mode, one connection with client-side round_robin over
# the N replicas, the streams spread evenly) screening a fixed number of
# contacts, after one unrecorded warm-up pass. Prints contacts/s per N
# (median of the rounds, every round shown) and the ratio to N=1, and
# what one replica holds at this list size (load time and peak RSS,
# version size on disk, serving RSS). "server cores" is the CPU time all
# replicas used during the measured rounds divided by their wall time
# (loadtest's start-up included): at 2.00 the replicas had both cores. A benchmark, not a test: CI does not run it.
#
#   scripts/scaling.sh [--list N] [--contacts N] [--replicas "1 2 3"] [--rounds R]
#                      [--streams S] [--chunk C] [--port P] [--work DIR] [--keep]
#
# Defaults: 200,000 list records, 1,000,000 contacts (10 % listed), replicas
# 1 2 3, 3 rounds, 6 streams (a multiple of 1, 2 and 3, so each replica gets
# as many), chunk 1000; the default run takes one to two minutes. Needs
# 127.0.0.2 and 127.0.0.3 to be usable (Linux routes all of 127/8 to lo). Bigger runs:
# --list 6000000 --contacts 1000000. Every replica and the load generator
# share this machine's cores: the ratios say what N replicas give on this
# machine, not on N machines (docs/scaling.md).
set -euo pipefail

LIST_N=200000
CONTACTS_N=1000000
REPLICAS="1 2 3"
ROUNDS=3
STREAMS=6
CHUNK=1000
PORT=${PORT:-50131}
WORK=""
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --list) LIST_N=$2; shift 2 ;;
    --contacts) CONTACTS_N=$2; shift 2 ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --chunk) CHUNK=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/robinscreen-scaling.XXXXXX); fi
mkdir -p "$WORK/bin"
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_all
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

echo "building into $WORK/bin" >&2
(cd "$ROOT" && go build -o "$WORK/bin/" ./cmd/robinscreen ./cmd/robingen ./loadtest)
BIN=$WORK/bin
PUB=$(date -u +%F)

echo "generating $LIST_N list records and $CONTACTS_N contacts" >&2
"$BIN/robingen" robinson -n "$LIST_N" -seed 1 -published "$PUB" -o "$WORK/list.txt"
"$BIN/robingen" contacts -n "$CONTACTS_N" -listed 0.1 -seed 1 -list-n "$LIST_N" -published "$PUB" -o "$WORK/contacts.csv"

# One load; the other replicas' data directories are copies of it (the
# same file gives the same content-named version on every replica).
# Timed with GNU time where it is installed (peak RSS of the load).
t0=$(date +%s.%N)
if [ -x /usr/bin/time ]; then
  /usr/bin/time -v -o "$WORK/load.time" "$BIN/robinscreen" load --data "$WORK/data1" --robinson "$WORK/list.txt" >"$WORK/load.log" 2>&1
else
  "$BIN/robinscreen" load --data "$WORK/data1" --robinson "$WORK/list.txt" >"$WORK/load.log" 2>&1
fi
t1=$(date +%s.%N)
load_rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f MB", $2/1024}' "$WORK/load.time" 2>/dev/null || true)
ver_dir=$(find "$WORK/data1" -mindepth 2 -maxdepth 2 -type d -path '*robinson*' | head -1)
printf 'one replica, %s list records: load %.1f s, load peak RSS %s, version on disk %s\n' \
  "$LIST_N" "$(echo "$t1 - $t0" | bc)" "${load_rss:-unmeasured}" "$(du -sm "$ver_dir" | awk '{print $1 " MB"}')"

max=0
for n in $REPLICAS; do [ "$n" -gt "$max" ] && max=$n; done
for i in $(seq 2 "$max"); do
  [ -d "$WORK/data$i" ] || cp -a "$WORK/data1" "$WORK/data$i"
done

wait_serving() { # addr
  for _ in $(seq 1 300); do
    if "$BIN/loadtest" batch --addr "$1" --contacts "$WORK/probe.csv" --streams 1 --chunk 10 >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "replica $1 did not start serving" >&2
  return 1
}
head -n 11 "$WORK/contacts.csv" >"$WORK/probe.csv"

# server_cpu prints the CPU seconds (user + system) the running replicas
# have used so far.
server_cpu() {
  local t=0 p
  for p in "${PIDS[@]}"; do
    t=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$p/stat")
  done
  echo "$t"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A MED
printf '%-9s %-11s %-24s %-13s %s\n' replicas "contacts/s" "rounds" "ratio to N=1" "server cores"
for n in $REPLICAS; do
  addrs=""
  for i in $(seq 1 "$n"); do
    a="127.0.0.$i:$PORT"
    "$BIN/robinscreen" serve --data "$WORK/data$i" --listen "$a" 2>>"$WORK/serve$i.log" &
    PIDS+=($!)
    addrs="${addrs:+$addrs,}$a"
  done
  for a in ${addrs//,/ }; do wait_serving "$a"; done
  # One unrecorded pass first: every replica warms up (page cache, heap)
  # before the measured rounds.
  "$BIN/loadtest" batch --addr "$addrs" --contacts "$WORK/contacts.csv" --no-cpr \
    --streams "$STREAMS" --chunk "$CHUNK" >"$WORK/n$n-warmup.txt"
  vals=()
  cpu0=$(server_cpu); w0=$(date +%s.%N)
  for r in $(seq 1 "$ROUNDS"); do
    "$BIN/loadtest" batch --addr "$addrs" --contacts "$WORK/contacts.csv" --no-cpr \
      --streams "$STREAMS" --chunk "$CHUNK" --json "$WORK/n$n-r$r.json" >"$WORK/n$n-r$r.txt"
    v=$(grep -o '"contacts_per_second": *[0-9.]*' "$WORK/n$n-r$r.json" | grep -o '[0-9.]*$')
    errs=$(grep -o '"errors": *[0-9]*' "$WORK/n$n-r$r.json" | head -1 | grep -o '[0-9]*$' || echo 0)
    if [ "${errs:-0}" != 0 ]; then echo "N=$n round $r: $errs contacts failed" >&2; exit 1; fi
    vals+=("$(printf '%.0f' "$v")")
  done
  cores=$(echo "($(server_cpu) - $cpu0) / ($(date +%s.%N) - $w0)" | bc -l)
  if [ "$n" = "${REPLICAS%% *}" ]; then
    served=$(printf 'replica 1 after its rounds: RSS %s, peak %s' \
      "$(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/${PIDS[0]}/status")" \
      "$(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/${PIDS[0]}/status")")
  fi
  stop_all
  m=$(printf '%s\n' "${vals[@]}" | median)
  MED[$n]=$m
  base=${MED[1]:-}
  ratio="-"
  [ -n "$base" ] && ratio=$(awk -v a="$m" -v b="$base" 'BEGIN{printf "%.2f", a/b}')
  printf '%-9s %-11s %-24s %-13s %.2f\n' "$n" "$m" "$(IFS=/; echo "${vals[*]}")" "$ratio" "$cores"
done
[ -n "${served:-}" ] && echo "$served"
exit 0
