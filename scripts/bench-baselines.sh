#!/usr/bin/env bash
# Answers one screening question — which contacts share a blocking key
# (postcode, house number, surname word) with the Robinson list — with
# PostgreSQL 15, Redis 7 and robinscreen on the same synthetic data, timing
# load and screening of each (docs/benchmarks-e2e.md). A benchmark, not a
# test: CI does not run it.
#
#   scripts/bench-baselines.sh [--list N] [--contacts N] [--full] [--work DIR] [--keep]
#
# --full uses the 6,000,000-record list. Defaults: 1,000,000 list records,
# 1,000,000 contacts (10 % listed). Needs root (or sudo) on Debian 12 to
# install postgresql-15, redis-server and time with apt-get when missing; Go
# builds the project's binaries. PostgreSQL and Redis run on loopback ports
# with their data under the work directory and are stopped at the end.
#
# The baselines get the keys already normalised by robinscreen's own
# normaliser (cmd/benchkeys keys): they only store and look up strings;
# robinscreen parses, normalises and matches every record and contact.
# Results: WORK/results/results.md (table), *.json (raw).
set -euo pipefail

LIST_N=1000000
CONTACTS_N=1000000
LISTED=0.1
WORK=""
KEEP=0
CHUNK=${CHUNK:-1000}
STREAMS=${STREAMS:-4}
PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
OUR_PORT=${OUR_PORT:-50099}
while [ $# -gt 0 ]; do
  case "$1" in
    --list) LIST_N=$2; shift 2 ;;
    --contacts) CONTACTS_N=$2; shift 2 ;;
    --full) LIST_N=6000000; shift ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/robinbench.XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
chmod 755 "$WORK"
BIN=$WORK/bin
OUT=$WORK/results
mkdir -p "$BIN" "$OUT"
log() { printf '%s  %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.3f", b-a}'; }
# jget FILE KEY: the first numeric value of "KEY": in a JSON file.
jget() { { grep -o "\"$2\": *[0-9.e+-]*" "$1" || echo 0; } | head -1 | sed 's/.*: *//'; }
# jsub FILE OBJECT KEY: KEY's number inside the flat-ish JSON object OBJECT.
jsub() { { grep -o "\"$2\": *{[^}]*" "$1" || true; } | { grep -o "\"$3\": *[0-9.e+-]*" || echo 0; } | head -1 | sed 's/.*: *//'; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- 1. Packages (Debian 12: postgresql-15 and redis-server 7.0).
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || need+=(redis-server)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi
PGBIN=/usr/lib/postgresql/15/bin
PGVER=$("$PGBIN/postgres" --version)
REDISVER=$(redis-server --version | sed 's/ sha=.*//')

# --- 2. Binaries and data.
log "building into $BIN"
(cd "$root" && go build -o "$BIN/" ./cmd/robinscreen ./cmd/robingen ./cmd/benchkeys ./loadtest)
DAY=$(date -u +%F)
LIST=$WORK/list-$LIST_N.txt
CONTACTS=$WORK/contacts-$CONTACTS_N-l$LIST_N.csv
[ -s "$LIST" ] || { log "generating $LIST_N list records"; "$BIN/robingen" robinson -n "$LIST_N" -published "$DAY" -o "$LIST"; }
[ -s "$CONTACTS" ] || { log "generating $CONTACTS_N contacts"; "$BIN/robingen" contacts -n "$CONTACTS_N" -listed "$LISTED" -list-n "$LIST_N" -published "$DAY" -o "$CONTACTS"; }
log "normalising keys (cmd/benchkeys keys; not charged to the baselines)"
"$BIN/benchkeys" keys --list "$LIST" --contacts "$CONTACTS" --out-list "$WORK/list-keys.tsv" --out-contacts "$WORK/contact-keys.tsv" > "$OUT/keys.json"
chmod 644 "$WORK"/*.tsv "$LIST" "$CONTACTS"

cleanup() {
  [ -n "${OUR_PID:-}" ] && kill "$OUR_PID" 2>/dev/null || true
  [ -d "$WORK/pg" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK/pg" "$WORK/redis" "$WORK/data"; fi
}
trap cleanup EXIT

# --- 3. robinscreen: load, serve, batch over gRPC, then in process.
log "robinscreen load"
rm -rf "$WORK/data"
t=$(now)
/usr/bin/time -v -o "$OUT/ours-load.time" "$BIN/robinscreen" load --data "$WORK/data" --robinson "$LIST" > "$OUT/ours-load.out" 2>/dev/null
OUR_LOAD=$(since "$t")
OUR_LOAD_RSS_MB=$(awk -F': ' '/Maximum resident/{printf "%.0f", $2/1024}' "$OUT/ours-load.time")
"$BIN/robinscreen" serve --data "$WORK/data" --listen "127.0.0.1:$OUR_PORT" 2> "$OUT/ours-serve.log" &
OUR_PID=$!
for _ in $(seq 100); do grep -q '"serving"\|msg=serving' "$OUT/ours-serve.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
OUR_IDLE_RSS_MB=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$OUR_PID/status)
cpu0=$(awk '{print $14+$15}' /proc/$OUR_PID/stat)
log "loadtest batch (chunk $CHUNK, $STREAMS streams)"
"$BIN/loadtest" batch --addr "127.0.0.1:$OUR_PORT" --contacts "$CONTACTS" --no-cpr --chunk "$CHUNK" --streams "$STREAMS" --json "$OUT/ours-batch.json" > "$OUT/ours-batch.txt"
cpu1=$(awk '{print $14+$15}' /proc/$OUR_PID/stat)
TCK=$(getconf CLK_TCK)
OUR_SERVER_CPU=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$TCK" 'BEGIN{printf "%.2f", (b-a)/t}')
OUR_SERVE_RSS_MB=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$OUR_PID/status)
OUR_SERVE_HWM_MB=$(awk '/VmHWM/{printf "%.0f", $2/1024}' /proc/$OUR_PID/status)
kill "$OUR_PID"; wait "$OUR_PID" 2>/dev/null || true; OUR_PID=""
OUR_SCREEN=$(jget "$OUT/ours-batch.json" seconds)
OUR_RATE=$(jget "$OUT/ours-batch.json" contacts_per_second)
OUR_CLIENT_CPU=$(jget "$OUT/ours-batch.json" client_cpu_seconds)
log "robinscreen in process (benchkeys inproc)"
"$BIN/benchkeys" inproc --data "$WORK/data" --contacts "$CONTACTS" --no-cpr --list-keys "$WORK/list-keys.tsv" > "$OUT/ours-inproc.json"

# --- 4. PostgreSQL 15: COPY + CREATE INDEX; COPY contacts + semi-join.
log "PostgreSQL: initdb and start on 127.0.0.1:$PG_PORT"
rm -rf "$WORK/pg" "$WORK/pgsock"; mkdir -p "$WORK/pg" "$WORK/pgsock"; chown postgres "$WORK/pg" "$WORK/pgsock"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w start -o \
  "-p $PG_PORT -k $WORK/pgsock -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c work_mem=256MB \
   -c maintenance_work_mem=1GB -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
   -c wal_level=minimal -c max_wal_senders=0 -c max_parallel_maintenance_workers=2" >/dev/null
psqlc() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/pgsock" -p "$PG_PORT" -d postgres -At -c "$1"; }
psqlc 'CREATE UNLOGGED TABLE robinson (key text COLLATE "C" NOT NULL)'
psqlc 'CREATE UNLOGGED TABLE contacts (ref text NOT NULL, key text COLLATE "C" NOT NULL)'
log "PostgreSQL load"
t=$(now); psqlc "COPY robinson FROM '$WORK/list-keys.tsv'"; PG_COPY=$(since "$t")
t=$(now); psqlc 'CREATE INDEX robinson_key ON robinson (key)'; PG_INDEX=$(since "$t")
t=$(now); psqlc 'ANALYZE robinson'; PG_ANALYZE=$(since "$t")
PG_LOAD=$(awk -v a="$PG_COPY" -v b="$PG_INDEX" -v c="$PG_ANALYZE" 'BEGIN{printf "%.3f", a+b+c}')
log "PostgreSQL screening"
Q='SELECT count(DISTINCT c.ref) FROM contacts c WHERE EXISTS (SELECT 1 FROM robinson r WHERE r.key = c.key)'
t=$(now); psqlc "COPY contacts FROM '$WORK/contact-keys.tsv'"; PG_CCOPY=$(since "$t")
t=$(now); PG_LISTED=$(psqlc "$Q"); PG_QUERY=$(since "$t")
PG_SCREEN=$(awk -v a="$PG_CCOPY" -v b="$PG_QUERY" 'BEGIN{printf "%.3f", a+b}')
psqlc "EXPLAIN (ANALYZE, COSTS OFF) $Q" > "$OUT/pg-explain.txt"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null

# --- 5. Redis 7: SADD via redis-cli --pipe; pipelined SMISMEMBER.
log "Redis: start on 127.0.0.1:$REDIS_PORT"
rm -rf "$WORK/redis"; mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
  --daemonize no --loglevel warning > "$WORK/redis/server.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN/benchkeys" redis-proto --keys "$WORK/list-keys.tsv" --out "$WORK/redis/sadd.resp" > /dev/null
log "Redis load"
t=$(now); redis-cli -p "$REDIS_PORT" --pipe < "$WORK/redis/sadd.resp" > "$OUT/redis-load.txt"; REDIS_LOAD=$(since "$t")
REDIS_KEYS=$(redis-cli -p "$REDIS_PORT" scard robinson)
REDIS_RSS_MB=$(awk '/VmRSS/{printf "%.0f", $2/1024}' /proc/$REDIS_PID/status)
log "Redis screening"
"$BIN/benchkeys" redis-screen --addr "127.0.0.1:$REDIS_PORT" --keys "$WORK/contact-keys.tsv" > "$OUT/redis-screen.json"
REDIS_SCREEN=$(jget "$OUT/redis-screen.json" seconds)
REDIS_LISTED=$(jget "$OUT/redis-screen.json" contacts_with_a_listed_key)
kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=""

# --- 6. Table.
INC=$(jsub "$OUT/ours-inproc.json" cold seconds)
INCNS=$(jsub "$OUT/ours-inproc.json" cold cpu_ns_per_contact)
IN1=$(jsub "$OUT/ours-inproc.json" single seconds)
INP=$(jsub "$OUT/ours-inproc.json" parallel seconds)
IN1NS=$(jsub "$OUT/ours-inproc.json" single cpu_ns_per_contact)
FLNS=$(jsub "$OUT/ours-inproc.json" floor cpu_ns_per_contact)
FLLISTED=$(jsub "$OUT/ours-inproc.json" floor contacts_with_a_listed_key)
BLOCK=$(jget "$OUT/ours-batch.json" DECISION_BLOCK)
REVIEW=$(jget "$OUT/ours-batch.json" DECISION_REVIEW)
SRV_NS=$(awk -v c="$OUR_SERVER_CPU" -v n="$CONTACTS_N" 'BEGIN{printf "%.0f", c/n*1e9}')
f3() { awk -v a="$1" 'BEGIN{printf "%.3f", a}'; }
f0() { awk -v a="$1" 'BEGIN{printf "%.0f", a}'; }
OUR_SCREEN=$(f3 "$OUR_SCREEN"); REDIS_SCREEN=$(f3 "$REDIS_SCREEN"); OUR_RATE=$(f0 "$OUR_RATE")
OUR_CLIENT_CPU=$(awk -v a="$OUR_CLIENT_CPU" 'BEGIN{printf "%.2f", a}')
IN1=$(f3 "$IN1"); INP=$(f3 "$INP"); IN1NS=$(f0 "$IN1NS"); FLNS=$(f0 "$FLNS"); INC=$(f3 "$INC"); INCNS=$(f0 "$INCNS")
r() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", a+b}'; }
OUR_TOTAL=$(sum "$OUR_LOAD" "$OUR_SCREEN"); PG_TOTAL=$(sum "$PG_LOAD" "$PG_SCREEN"); REDIS_TOTAL=$(sum "$REDIS_LOAD" "$REDIS_SCREEN")
{
  echo "# Baselines: $LIST_N list records, $CONTACTS_N contacts ($LISTED listed)"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(go version | cut -d' ' -f3), $PGVER, $REDISVER"
  echo
  echo "| system | load s | screening s | load + screening s | contacts/s (screening) | screening: time ÷ robinscreen | total: time ÷ robinscreen | answer |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  echo "| robinscreen (gRPC batch, chunk $CHUNK × $STREAMS streams) | $OUR_LOAD | $OUR_SCREEN | $OUR_TOTAL | $(awk -v n="$CONTACTS_N" -v s="$OUR_SCREEN" 'BEGIN{printf "%.0f", n/s}') | 1.00 | 1.00 | $BLOCK BLOCK, $REVIEW REVIEW (full match rules) |"
  echo "| PostgreSQL 15 (COPY + index; COPY + semi-join) | $PG_LOAD | $PG_SCREEN | $PG_TOTAL | $(awk -v n="$CONTACTS_N" -v s="$PG_SCREEN" 'BEGIN{printf "%.0f", n/s}') | $(r "$PG_SCREEN" "$OUR_SCREEN") | $(r "$PG_TOTAL" "$OUR_TOTAL") | $PG_LISTED contacts with a listed key |"
  echo "| Redis 7 (SADD --pipe; pipelined SMISMEMBER) | $REDIS_LOAD | $REDIS_SCREEN | $REDIS_TOTAL | $(awk -v n="$CONTACTS_N" -v s="$REDIS_SCREEN" 'BEGIN{printf "%.0f", n/s}') | $(r "$REDIS_SCREEN" "$OUR_SCREEN") | $(r "$REDIS_TOTAL" "$OUR_TOTAL") | $REDIS_LISTED contacts with a listed key |"
  echo
  echo "Phases: PostgreSQL COPY list $PG_COPY s, CREATE INDEX $PG_INDEX s, ANALYZE $PG_ANALYZE s; COPY contacts $PG_CCOPY s, query $PG_QUERY s. Redis: $REDIS_KEYS distinct keys, RSS after load $REDIS_RSS_MB MB."
  echo
  echo "robinscreen: load peak RSS $OUR_LOAD_RSS_MB MB; serving RSS idle $OUR_IDLE_RSS_MB MB, after the batch $OUR_SERVE_RSS_MB MB (peak $OUR_SERVE_HWM_MB MB);"
  echo "server CPU for the batch $OUR_SERVER_CPU s = $SRV_NS ns/contact, loadtest client CPU $OUR_CLIENT_CPU s; end-to-end $OUR_RATE contacts/s."
  echo "In process (no gRPC, benchkeys inproc): engine 1 thread cold $INC s ($INCNS ns CPU/contact), warm $IN1 s ($IN1NS ns CPU/contact), $(nproc) threads warm $INP s;"
  echo "floor (parse + keys + Go map, 1 thread) $FLNS ns CPU/contact, $FLLISTED contacts with a listed key."
  echo "Server CPU ÷ in-process engine CPU: $(r "$SRV_NS" "$INCNS") (cold), $(r "$SRV_NS" "$IN1NS") (warm); ÷ floor: $(r "$SRV_NS" "$FLNS")."
} | tee "$OUT/results.md"
log "results in $OUT"
