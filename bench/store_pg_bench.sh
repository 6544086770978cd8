#!/usr/bin/env bash
# The embedded store on PostgreSQL against the SQLite store: ingest points/s and read latency, same
# data, same run, everything on 127.0.0.1. Installs nothing (PostgreSQL 15 from Debian's
# `postgresql`, as for the tests).
#
#   bench/store_pg_bench.sh [BUILD_DIR]        REPS=3 POINTS_PER_SERIES=20000 READS=50
#
# A throwaway PostgreSQL cluster (initdb in a temp dir, run as the `postgres` user when we are root,
# default durability: fsync on, synchronous_commit on) on a free port. For each store, with
# [store] sync = "full" and the default thread counts:
# 1. Ingest: tools/lp_load.cc POSTs line protocol (100 series: host=h0..h9 x cpu=c0..c9, 10 s
#    apart, 5,000 points per request, POINTS_PER_SERIES x 100 points) to /write over 4 keep-alive
#    connections into a fresh store; points/s = points / wall time, median of REPS runs.
# 2. Read: one series (host=h3, cpu=c3: all POINTS_PER_SERIES points) consolidated to <= 1,000
#    points by POST /query, READS sequential requests after 5 warm-ups, median and p90 — once with
#    the data just written (PostgreSQL: all in recent rows) and once compacted into chunks
#    (SQLite: after a restart, whose shutdown checkpoints; PostgreSQL: after a compaction).
# Every wait is bounded.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SLUICE="$BUILD/bin/sluice"
REPS="${REPS:-3}"
POINTS_PER_SERIES="${POINTS_PER_SERIES:-20000}"
READS="${READS:-50}"

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL: run scripts/install-deps.sh test" >&2; exit 1; }
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first (make build)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-store-pg-bench.XXXXXX")"
chmod 755 "$WORK"
SLUICE_PID=""
PG_STARTED=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null || true
  [ -n "$PG_STARTED" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { echo "store_pg_bench: $*" >&2; }
kv() { echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fmt_int() { python3 -c 'import sys; print(f"{round(float(sys.argv[1])):,}")' "$1"; }

LP_LOAD="$BUILD/bin/lp_load"
if [ ! -x "$LP_LOAD" ]; then
  LP_LOAD="$WORK/lp_load"
  log "compiling tools/lp_load.cc"
  "${CXX:-c++}" -O2 -std=c++20 -pthread "$ROOT/tools/lp_load.cc" -o "$LP_LOAD"
fi

# --- PostgreSQL -----------------------------------------------------------------------------------
PGPORT="$(free_port)"
mkdir -p "$WORK/pg" "$WORK/sock"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg" "$WORK/sock"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/sock/pg.log" -w -t 60 \
  -o "-p $PGPORT -k $WORK/sock -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
PG_STARTED=1
psql_q() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -XAtq "$@"; }
PG_VERSION="$(psql_q -c 'SHOW server_version')"

# --- servers --------------------------------------------------------------------------------------
start_sluice() {  # data_dir config store
  SPORT="$(free_port)"
  "$SLUICE" serve --listen "127.0.0.1:$SPORT" --data "$1" --config "$2" --store "$3" \
    --log-level warn > "$WORK/sluice.out" 2> "$WORK/sluice.err" &
  SLUICE_PID=$!
  for _ in $(seq 1 200); do grep -q "listening" "$WORK/sluice.out" 2>/dev/null && return 0; sleep 0.05; done
  cat "$WORK/sluice.err" >&2
  log "sluice did not start"
  exit 1
}
stop_sluice() {
  kill "$SLUICE_PID" 2>/dev/null || true
  for _ in $(seq 1 1200); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SLUICE_PID" 2>/dev/null || true
  wait "$SLUICE_PID" 2>/dev/null || true
  SLUICE_PID=""
}
# Compaction stays out of the ingest window (it is measured in the read step).
printf '[store]\nretention = "0"\ncheckpoint_interval = "1h"\ncheckpoint_wal_bytes = "1GiB"\n' \
  > "$WORK/ingest.toml"
printf '[store]\nretention = "0"\ncheckpoint_interval = "1s"\n' > "$WORK/compact.toml"

END=$(( $(date +%s) / 86400 * 86400 ))
SPAN_S=$(( POINTS_PER_SERIES * 10 ))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
python3 - "$(iso $(( END - SPAN_S )))" "$(iso "$END")" > "$WORK/read.json" <<'PY'
import json, sys
print(json.dumps({"range": {"from": sys.argv[1], "to": sys.argv[2]}, "maxDataPoints": 1000,
                  "intervalMs": 1000, "targets": [{"target": "cpu.usage", "refId": "A"}],
                  "adhocFilters": [{"key": "host", "operator": "=", "value": "h3"},
                                   {"key": "cpu", "operator": "=", "value": "c3"}]}))
PY

load() {  # port -> points/s
  local line
  line="$(timeout 900 "$LP_LOAD" write --port "$1" --path '/write?db=bench&precision=s' --conns 4 \
    --hosts 10 --cpus 10 --points-per-series "$POINTS_PER_SERIES" --end-s "$END")" \
    || { log "load failed: $line"; exit 1; }
  kv points_per_s "$line"
}
read_ms() {  # port -> "median p90"
  local line
  line="$(timeout 600 "$LP_LOAD" query --port "$1" --path /query --body-file "$WORK/read.json" \
    --n "$READS" --warmup 5)" || { log "read failed: $line"; exit 1; }
  echo "$(kv median_ms "$line") $(kv p90_ms "$line")"
}

declare -A INGEST READ_FRESH READ_COMPACT
run_store() {  # name
  local name="$1" pps=() location
  for rep in $(seq 1 "$REPS"); do
    if [ "$name" = postgresql ]; then
      psql_q -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
      location="postgresql://postgres@127.0.0.1:$PGPORT/bench"
    else
      rm -rf "$WORK/data"
      location=sqlite
    fi
    start_sluice "$WORK/data" "$WORK/ingest.toml" "$location"
    pps+=("$(load "$SPORT")")
    log "$name rep $rep: ${pps[-1]} points/s"
    if [ "$rep" = "$REPS" ]; then
      READ_FRESH[$name]="$(read_ms "$SPORT")"
      log "$name read, just written: ${READ_FRESH[$name]} ms (median p90)"
    fi
    stop_sluice
  done
  INGEST[$name]="$(printf '%s\n' "${pps[@]}" | median)"
  start_sluice "$WORK/data" "$WORK/compact.toml" "$location"
  if [ "$name" = postgresql ]; then
    for _ in $(seq 1 600); do
      [ "$(psql_q -d bench -c 'SELECT count(*) FROM sluice_recent')" = 0 ] && break
      sleep 0.5
    done
    [ "$(psql_q -d bench -c 'SELECT count(*) FROM sluice_recent')" = 0 ] \
      || { log "postgresql: compaction did not finish in 300 s"; exit 1; }
  fi
  READ_COMPACT[$name]="$(read_ms "$SPORT")"
  log "$name read, compacted: ${READ_COMPACT[$name]} ms (median p90)"
  stop_sluice
}
run_store sqlite
run_store postgresql

POINTS=$(( POINTS_PER_SERIES * 100 ))
echo "Command: bench/store_pg_bench.sh ($(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $PG_VERSION on"
echo "loopback, $(nproc) cores shared by Sluice, PostgreSQL and the load generator). $POINTS points"
echo "per ingest run (100 series), 4 connections, sync = \"full\", median of $REPS; reads: one series"
echo "of $POINTS_PER_SERIES points consolidated to <= 1,000, median of $READS."
echo
echo "| store | ingest points/s | read, just written: median / p90 ms | read, compacted: median / p90 ms |"
echo "|---|---:|---:|---:|"
for name in sqlite postgresql; do
  read -r fm fp <<< "${READ_FRESH[$name]}"
  read -r cm cp <<< "${READ_COMPACT[$name]}"
  echo "| $name | $(fmt_int "${INGEST[$name]}") | $fm / $fp | $cm / $cp |"
done
