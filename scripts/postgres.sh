#!/usr/bin/env bash
# Starts a throw-away PostgreSQL for the tests that need one (the shared
# suppression list, store/suppresspg and cmd/robinscreen) and exports its
# URL as ROBINSCREEN_TEST_POSTGRES. Source it:
#
#   source scripts/postgres.sh   # then pg_stop when done (scripts/test.sh traps it)
#
# PostgreSQL comes from Debian's packages: installed with apt-get when no
# server is found. The cluster lives in a new temporary directory, listens
# on 127.0.0.1 only, trusts local connections and runs as the current user
# (as the postgres user when that is root, which PostgreSQL refuses).
# (|| true: sourced from scripts under set -e -o pipefail, where a failed
# ls would end them before the install.)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then
    echo "postgres.sh: no PostgreSQL server after apt-get install postgresql" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
PG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/robinscreen-pg.XXXXXX")
if [ "$(id -u)" = 0 ]; then
  chown postgres "$PG_WORK"
  pg_run() { runuser -u postgres -- "$@"; }
else
  pg_run() { "$@"; }
fi
pg_run "$pg_bin/initdb" -D "$PG_WORK/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
pg_port=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  try=$((20000 + RANDOM % 20000))
  if pg_run "$pg_bin/pg_ctl" -D "$PG_WORK/data" -l "$PG_WORK/server.log" -w -t 30 start \
      -o "-p $try -k $PG_WORK -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null; then
    pg_port=$try
    break
  fi
done
if [ -z "$pg_port" ]; then
  echo "postgres.sh: PostgreSQL did not start; log:" >&2
  cat "$PG_WORK/server.log" >&2
  return 1 2>/dev/null || exit 1
fi
export ROBINSCREEN_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
echo "postgres.sh: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port ($PG_WORK)" >&2
pg_stop() {
  pg_run "$pg_bin/pg_ctl" -D "$PG_WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_WORK"
}
