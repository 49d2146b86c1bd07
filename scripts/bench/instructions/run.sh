#!/bin/bash
# Instructions PostgreSQL executes per lead for the worker's two advance statements (docs/performance.md,
# "The reports' trigger on leads' updates"): a lead inserted as the ingest does, moved to routing with its
# offer (a delivery and an event), then settled delivered (an event and a postback), as lr_advance writes
# them, one lead per transaction. CPU figures on a shared machine move with its load; the count of
# instructions (valgrind's callgrind, on a private server of its own) does not.
#
#   scripts/bench/instructions/run.sh [variant.sql ...]
#
# Makes a PostgreSQL cluster in a temporary directory, runs its server under callgrind on port 5499,
# applies prisma/migrations (then each variant.sql, if given: a change to try) and runs the lead script
# with pgbench (prepared statements, as the worker) for 100 and for 600 leads, each on a new connection to
# a fresh copy of the database. The difference over 500 leads is the instructions per lead, without the
# connection's start. LEAD_SCRIPT=lead-split.pgbench runs the advance statements as the worker sends them
# since the split by the step's shape (lr_advance_offer, then lr_advance_settle). Needs valgrind, pgbench and PostgreSQL 15's binaries; run as root (the server runs
# as the postgres user) or as the postgres user.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${PORT:-5499}
DIR=$(mktemp -d /tmp/lr-instructions.XXXXXX)
chmod 755 "$DIR"
as_pg() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$DIR"; runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
mkdir -p "$DIR/cg"
as_pg valgrind --tool=callgrind --callgrind-out-file="$DIR/cg/cg.%p" "$BIN/postgres" -D "$DIR/data" -p "$PORT" \
  -k "$DIR" -c listen_addresses=127.0.0.1 -c autovacuum=off >"$DIR/server.log" 2>&1 &
stop() { # a fast shutdown of the server, waited for (its port is free again)
  local pid
  pid=$(head -1 "$DIR/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -rf "$DIR"
}
trap stop EXIT
PSQL="psql -h 127.0.0.1 -p $PORT -U postgres -q -v ON_ERROR_STOP=1"
for _ in $(seq 1 120); do [ -s "$DIR/data/postmaster.pid" ] && $PSQL -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
(cd "$ROOT" && DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/lr_instructions" npm run --silent db:migrate >/dev/null)
$PSQL -d lr_instructions -f "$HERE/setup.sql" >/dev/null
for variant in "$@"; do $PSQL -d lr_instructions -f "$variant" >/dev/null; done

run() { # leads -> instructions of the backend that ran them
  local n=$1 pid file
  $PSQL -d postgres -c "DROP DATABASE IF EXISTS lr_run" -c "CREATE DATABASE lr_run TEMPLATE lr_instructions" >/dev/null
  PGAPPNAME=lr_instructions pgbench -h 127.0.0.1 -p "$PORT" -U postgres -n -c1 -t "$n" -M prepared \
    -f "$HERE/${LEAD_SCRIPT:-lead.pgbench}" lr_run >"$DIR/pgbench.log" 2>&1 &
  local bench=$!
  pid=""
  while [ -z "$pid" ]; do
    pid=$($PSQL -d postgres -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'lr_instructions'" || true)
    sleep 0.1
  done
  wait $bench
  grep -q "actually processed: $n/$n" "$DIR/pgbench.log" || { cat "$DIR/pgbench.log" >&2; exit 1; }
  file="$DIR/cg/cg.$pid"
  for _ in $(seq 1 100); do [ -s "$file" ] && grep -q '^totals:' "$file" && break; sleep 0.2; done
  grep '^totals:' "$file" | awk '{print $2}'
}
small=$(run 100)
large=$(run 600)
echo "instructions per lead: $(( (large - small) / 500 )) (100 leads: $small, 600 leads: $large)"
