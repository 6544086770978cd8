#!/usr/bin/env bash
# SQL source benchmark: /query on PostgreSQL targets over 1,000,000 rows, against psql alone.
#
#   bench/sql_bench.sh [BUILD_DIR]
#
# Makes a throwaway PostgreSQL cluster (initdb in a temporary directory, as the `postgres` user
# when run as root, on a free 127.0.0.1 port, fsync off), loads two tables and serves them:
#   one:  1,000,000 rows (time, value) of one series, one row a second (11.6 days)
#   many: 1,000,000 rows (time, host, value) over 100 labelled series (10,000 rows each)
# Each /query reads the whole range and is consolidated to maxDataPoints 1,000 per series. wrk
# drives it at 1 and 16 connections for DURATION; rows/s = requests/s x 1,000,000. The baseline is
# the same SQL (the statement Sluice runs, with the bound times written as literals) through psql
# into /dev/null: the median of REPS runs one at a time, and REPS rounds of 16 at once. psql runs in
# its default aligned format and unaligned (-A -t, its fastest). Everything stops by itself.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SLUICE="$BUILD/bin/sluice"
DURATION="${DURATION:-20s}"
REPS="${REPS:-5}"
OUT="${OUT:-$ROOT/bench/results-sql-latest.md}"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL is not installed: run scripts/install-deps.sh bench" >&2; exit 1; }
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh bench" >&2; exit 1; }
done
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first (make build)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/sluice-sql-bench.XXXXXX)"
chmod 755 "$WORK"
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
SLUICE_PID=""
cleanup() {
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null || true
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- PostgreSQL -----------------------------------------------------------------------------------
PGPORT="$(free_port)"
(cd "$WORK" && "${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 \
  --locale=C --no-sync >"$WORK/initdb.log" 2>&1) || { cat "$WORK/initdb.log" >&2; exit 1; }
(cd "$WORK" && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o \
  "-p $PGPORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c shared_buffers=256MB -c max_connections=60" \
  start >/dev/null) || { cat "$WORK/pg.log" >&2; exit 1; }
DSN="host=127.0.0.1 port=$PGPORT dbname=bench user=postgres"
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" "host=127.0.0.1 port=$PGPORT dbname=postgres user=postgres" -c "CREATE DATABASE bench"

echo "loading 2 x 1,000,000 rows..." >&2
"${PSQL[@]}" "$DSN" <<'SQL'
CREATE TABLE one (t timestamptz NOT NULL, v double precision);
INSERT INTO one
SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * interval '1 second', sin(i * 0.001) * 100 + i % 7
FROM generate_series(0, 999999) AS i;
CREATE INDEX ON one (t);
CREATE TABLE many (t timestamptz NOT NULL, host text NOT NULL, v double precision);
INSERT INTO many
SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + (i / 100) * interval '100 seconds',
       'host-' || lpad((i % 100)::text, 3, '0'), cos(i * 0.0001) * 50 + i % 11
FROM generate_series(0, 999999) AS i;
CREATE INDEX ON many (t);
VACUUM ANALYZE one;
VACUUM ANALYZE many;
SQL

FROM="2026-01-01T00:00:00.000Z"
TO="2026-01-12T13:46:39.000Z"  # the last row of both tables
SQL_ONE="SELECT t AS time, v AS value FROM one WHERE t BETWEEN '$FROM' AND '$TO' ORDER BY t"
SQL_MANY="SELECT t AS time, host, v AS value FROM many WHERE t BETWEEN '$FROM' AND '$TO' ORDER BY t"

# --- Sluice ---------------------------------------------------------------------------------------
cat > "$WORK/sluice.toml" <<'TOML'
[data]
demo = false
[store]
kind = "none"
[query]
timeout = "5min"
max_points_per_request = 100000000
[[sources]]
name = "bench"
kind = "postgresql"
connection = "${SLUICE_PG_DSN}"
pool_size = 16
statement_timeout_ms = 300000
  [[sources.targets]]
  name = "bench.one"
  sql = "SELECT t AS time, v AS value FROM one WHERE $__timeFilter(t) ORDER BY t"
  [[sources.targets]]
  name = "bench.many"
  sql = "SELECT t AS time, host, v AS value FROM many WHERE $__timeFilter(t) ORDER BY t"
TOML
for target in one many; do
  cat > "$WORK/$target.json" <<JSON
{"range":{"from":"$FROM","to":"$TO"},"intervalMs":1000,"maxDataPoints":1000,"targets":[{"refId":"A","target":"bench.$target"}]}
JSON
done
cat > "$WORK/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

SPORT="$(free_port)"
SLUICE_PG_DSN="$DSN" "$SLUICE" serve --config "$WORK/sluice.toml" --listen "127.0.0.1:$SPORT" \
  --log-level warn > "$WORK/sluice.out" 2> "$WORK/sluice.err" &
SLUICE_PID=$!
for _ in $(seq 1 100); do grep -q "listening" "$WORK/sluice.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening" "$WORK/sluice.out" || { cat "$WORK/sluice.err" >&2; exit 1; }

# Checks the answers (and warms the driver's per-statement format choice).
for target in one many; do
  want=1; [ "$target" = many ] && want=100
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/$target.json" \
    "http://127.0.0.1:$SPORT/query" > "$WORK/$target.out"
  python3 - "$WORK/$target.out" "$want" <<'PY'
import json, sys
series = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
assert len(series) == want, f"{len(series)} series, want {want}"
points = [len(s["datapoints"]) for s in series]
assert all(500 <= p <= 1000 for p in points), f"points per series: {min(points)}..{max(points)}"
PY
done

# --- measurements ---------------------------------------------------------------------------------
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wrk at `conns` connections: prints "req/s avg_ms p50_ms p99_ms".
wrk_run() {  # target conns
  local threads=1
  [ "$2" -gt 1 ] && threads=2
  local out
  out="$(BODY="$WORK/$1.json" wrk -t"$threads" -c"$2" -d"$DURATION" --timeout 120s --latency \
    -s "$WORK/post.lua" "http://127.0.0.1:$SPORT/query")"
  if echo "$out" | grep -qE "Non-2xx|Socket errors"; then echo "$out" >&2; exit 1; fi
  echo "$out" | awk '
    function ms(x) { if (x ~ /us$/) return x / 1000; if (x ~ /ms$/) return x + 0; if (x ~ /m$/) return x * 60000; return x * 1000 }
    /Requests\/sec/ {rps=$2} /^ +Latency +[0-9]/ {avg=ms($2)} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)}
    END {printf "%.2f %.0f %.0f %.0f\n", rps, avg, p50, p99}'
}

# One psql run of `sql` into /dev/null, in ms.
psql_ms() {  # sql [psql options...]
  local sql="$1"; shift
  local start end
  start=$(date +%s%N)
  "$PGBIN/psql" -X "$@" "$DSN" -c "$sql" > /dev/null
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}
psql_median_ms() { for _ in $(seq 1 "$REPS"); do psql_ms "$@"; done | median; }
# `REPS` rounds of 16 concurrent psql runs: prints the median wall time of a round in ms.
psql_16_ms() {
  for _ in $(seq 1 "$REPS"); do
    local start end
    start=$(date +%s%N)
    local pids=()
    for _ in $(seq 1 16); do
      "$PGBIN/psql" -X "$@" > /dev/null &
      pids+=($!)
    done
    wait "${pids[@]}"
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
  done | median
}

{
  echo "## SQL sources: PostgreSQL /query vs psql, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores (shared by PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), Sluice and the client);"\
       "1,000,000 rows per request, consolidated to 1,000 points per series; wrk $DURATION per row;"\
       "psql medians of $REPS runs."
  echo
  echo "| table | client | connections | req/s | latency avg / p50 / p99 (ms) | rows/s |"
  echo "|---|---|---:|---:|---:|---:|"
} > "$OUT"

for target in one many; do
  sql="$SQL_ONE"; [ "$target" = many ] && sql="$SQL_MANY"
  for conns in 1 16; do
    result="$(wrk_run "$target" "$conns")"
    read -r rps avg p50 p99 <<< "$result"
    rows=$(awk -v r="$rps" 'BEGIN {printf "%.0f", r * 1000000}')
    echo "| $target | Sluice /query | $conns | $rps | $avg / $p50 / $p99 | $rows |" >> "$OUT"
    echo "$target c=$conns: sluice $rps req/s, avg $avg ms" >&2
  done
  for mode in aligned unaligned; do
    opts=(); [ "$mode" = unaligned ] && opts=(-A -t)
    one_ms=$(psql_median_ms "$sql" "${opts[@]}")
    rows=$(awk -v m="$one_ms" 'BEGIN {printf "%.0f", 1000000 / (m / 1000)}')
    echo "| $target | psql ($mode) | 1 | $(awk -v m="$one_ms" 'BEGIN {printf "%.2f", 1000 / m}') | $one_ms | $rows |" >> "$OUT"
    round_ms=$(psql_16_ms "${opts[@]}" "$DSN" -c "$sql")
    rows=$(awk -v m="$round_ms" 'BEGIN {printf "%.0f", 16000000 / (m / 1000)}')
    echo "| $target | psql ($mode) | 16 | $(awk -v m="$round_ms" 'BEGIN {printf "%.2f", 16000 / m}') | $round_ms (round of 16) | $rows |" >> "$OUT"
    echo "$target psql $mode: $one_ms ms alone, $round_ms ms per round of 16" >&2
  done
done

echo >> "$OUT"
echo "Sluice peak RSS (VmHWM): $(( $(awk '/^VmHWM/ {print $2}' "/proc/$SLUICE_PID/status") / 1024 )) MB." >> "$OUT"
cat "$OUT"
