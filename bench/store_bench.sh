#!/usr/bin/env bash
# Storage benchmark: Sluice's embedded store against InfluxDB 1.6 (Debian's `influxdb`), same data,
# same run, both on 127.0.0.1 only. Installs nothing (scripts/install-deps.sh bench does).
#
#   bench/store_bench.sh [BUILD_DIR]        REPS=3 PROFILE=0 OUT=bench/results-store-latest.md
#
# 1. Ingest: the same line-protocol payload (tools/lp_load.cc: measurement cpu, tags cpu=c0..c9 and
#    host=h0..h9 = 100 series, one field `usage` per line, random walks rounded to 2 decimals, 10 s
#    apart, precision=s, time-major, 5,000 lines = 5,000 points per POST; POINTS_PER_SERIES x 100
#    points in all, 5 M by default) POSTed to /write over K keep-alive connections (K = 4 and 1) to
#    a fresh server each run; points/s = points / wall time of the load, median of REPS runs.
#    Sluice runs with [http] io_threads = 1 and worker_threads = 1 (the "one core" figure), with
#    sync = "full" (the default) and "normal", plus one row with the default thread counts (group
#    commit across workers); InfluxDB with its defaults (wal-fsync-delay 0s, GOMAXPROCS = cores).
#    The server's CPU time during the load (utime+stime from /proc) is reported as cores used.
# 2. Disk: 10 series (host=h0..h9) x 30 days of 10 s data (259,200 points each) into fresh servers;
#    Sluice is then stopped (its shutdown checkpoints every head into chunks, and SQLite folds its
#    -wal file into the db) and its data dir measured; InfluxDB runs with cache-snapshot-write-
#    cold-duration 5s and compact-full-write-cold-duration 10s (defaults: 10m and 4h, the idle time
#    after which it does the same by itself) and is measured once its TSM files have settled.
#    Bytes are allocated bytes (du --block-size=1; InfluxDB preallocates sparse series files).
# 3. Read: 30 days of ONE of those series (host=h3, 259,200 points) consolidated to <= 1,000 points:
#    Sluice POST /query (maxDataPoints 1000) vs InfluxDB GET /query SELECT mean(usage) ... GROUP BY
#    time(2592s) (and time(1h), the bucket width Sluice picks, whose answer must equal Sluice's);
#    READS sequential requests on one keep-alive connection after 5 warm-ups, median.
# 4. The micro benchmarks of bin/sluice_store_bench when built.
# Every wait is bounded; the whole script takes 2-3 minutes on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SLUICE="$BUILD/bin/sluice"
REPS="${REPS:-3}"
POINTS_PER_SERIES="${POINTS_PER_SERIES:-50000}"  # x 100 series
READS="${READS:-50}"
PROFILE="${PROFILE:-0}"  # 1: perf record Sluice during an extra 4-connection sync=full ingest run
OUT="${OUT:-$ROOT/bench/results-store-latest.md}"

for tool in influxd curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh bench" >&2; exit 1; }
done
[ "$PROFILE" = 0 ] || command -v perf >/dev/null || { echo "PROFILE=1 needs perf" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first (make build)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-store-bench.XXXXXX")"
SLUICE_PID=""
INFLUX_PID=""
PERF_PID=""
cleanup() {
  [ -n "$PERF_PID" ] && kill "$PERF_PID" 2>/dev/null || true
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null || true
  [ -n "$INFLUX_PID" ] && kill "$INFLUX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { echo "store_bench: $*" >&2; }
# The value of key=value in a line of lp_load output.
kv() { echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
TICKS="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Allocated bytes of the given paths, counted once.
alloc_bytes() { du -c --block-size=1 -s "$@" | awk 'END {print $1}'; }
fmt_int() { python3 -c 'import sys; print(f"{round(float(sys.argv[1])):,}")' "$1"; }

# --- the load generator -------------------------------------------------------------------------
LP_LOAD="$BUILD/bin/lp_load"
if [ ! -x "$LP_LOAD" ]; then
  LP_LOAD="$WORK/lp_load"
  log "compiling tools/lp_load.cc"
  "${CXX:-c++}" -O2 -std=c++20 -pthread "$ROOT/tools/lp_load.cc" -o "$LP_LOAD"
fi

# The data ends at today's midnight UTC; the 30-day read covers (END - 30 d, END].
END=$(( $(date +%s) / 86400 * 86400 ))
FROM=$(( END - 30 * 86400 + 10 ))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }

# --- servers ------------------------------------------------------------------------------------
# Ingest runs checkpoint every 16 MiB of write-ahead data (about 1.5 M points) instead of 64 MiB:
# a run (5 M points, ~50 MiB) would otherwise end before its first checkpoint and leave that work to
# the shutdown, unmeasured; sustained ingest pays it all the time.
write_sluice_config() {  # file sync threads(1|default) checkpoint_wal_bytes
  {
    if [ "$3" = 1 ]; then printf '[http]\nio_threads = 1\nworker_threads = 1\n'; fi
    printf '[store]\nretention = "0"\nsync = "%s"\ncheckpoint_wal_bytes = "%s"\n' "$2" "$4"
  } > "$1"
}
write_sluice_config "$WORK/sluice-full.toml" full 1 16MiB
write_sluice_config "$WORK/sluice-normal.toml" normal 1 16MiB
# For comparison only: the default thread counts (one I/O thread per core, max(4, cores) workers),
# where concurrent writes share commits (group commit).
write_sluice_config "$WORK/sluice-full-default-threads.toml" full default 16MiB
# The disk and read data set: every store option at its default but retention.
write_sluice_config "$WORK/sluice-disk.toml" full 1 64MiB

start_sluice() {  # data_dir config
  SPORT="$(free_port)"
  "$SLUICE" serve --listen "127.0.0.1:$SPORT" --data "$1" --config "$2" --log-level warn \
    > "$WORK/sluice.out" 2> "$WORK/sluice.err" &
  SLUICE_PID=$!
  for _ in $(seq 1 200); do grep -q "listening" "$WORK/sluice.out" 2>/dev/null && return 0; sleep 0.05; done
  cat "$WORK/sluice.err" >&2
  log "sluice did not start"
  exit 1
}
stop_pid() {  # pid: SIGTERM, up to 120 s, then SIGKILL
  local pid="$1"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "pid $pid did not stop in 120 s; killing"; kill -9 "$pid" || true; fi
  wait "$pid" 2>/dev/null || true
}
stop_sluice() { stop_pid "$SLUICE_PID"; SLUICE_PID=""; }

start_influx() {  # dir settle(0|1)
  local dir="$1" settle="$2" cold=""
  IPORT="$(free_port)"
  local rpc_port
  rpc_port="$(free_port)"
  if [ "$settle" = 1 ]; then
    cold=$'  cache-snapshot-write-cold-duration = "5s"\n  compact-full-write-cold-duration = "10s"'
  fi
  mkdir -p "$dir"
  cat > "$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc_port"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
$cold
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$IPORT"
  log-enabled = false
[continuous_queries]
  enabled = false
CONF
  influxd -config "$dir/influxdb.conf" > "$dir/influxd.log" 2>&1 &
  INFLUX_PID=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$IPORT/ping" && break; sleep 0.1; done
  curl -sf -XPOST "http://127.0.0.1:$IPORT/query" --data-urlencode 'q=CREATE DATABASE bench' >/dev/null \
    || { tail -20 "$dir/influxd.log" >&2; log "influxd did not start"; exit 1; }
}
stop_influx() { stop_pid "$INFLUX_PID"; INFLUX_PID=""; }

# --- 1. ingest ----------------------------------------------------------------------------------
INGEST_ROWS=()
SLUICE_FULL4=""; INFLUX4=""; SLUICE_FULL4_CORES=""; INFLUX4_CORES=""
PROFILE_TEXT=""
ingest() {  # system(sluice-full|sluice-normal|influx) conns
  local system="$1" conns="$2" pps=() cores=() client=() line="" dir pid t0 t1 wall reps
  reps="$(seq 1 "$REPS")"
  # The profiled run is an extra one, left out of the figures (perf slows the server down).
  if [ "$PROFILE" = 1 ] && [ "$system" = sluice-full ] && [ "$conns" = 4 ]; then reps="profile $reps"; fi
  for rep in $reps; do
    dir="$WORK/ingest-$system-$conns-$rep"
    if [ "$system" = influx ]; then start_influx "$dir" 0; pid=$INFLUX_PID; port=$IPORT
    else start_sluice "$dir" "$WORK/$system.toml"; pid=$SLUICE_PID; port=$SPORT; fi
    if [ "$rep" = profile ]; then
      perf record -g -p "$pid" -o "$WORK/perf.data" > /dev/null 2>&1 &
      PERF_PID=$!
    fi
    t0=$(cpu_ticks "$pid")
    line="$(timeout 600 "$LP_LOAD" write --port "$port" --path '/write?db=bench&precision=s' \
      --conns "$conns" --hosts 10 --cpus 10 --points-per-series "$POINTS_PER_SERIES" --end-s "$END")" \
      || { log "$system: load failed: $line"; exit 1; }
    t1=$(cpu_ticks "$pid")
    if [ -n "$PERF_PID" ]; then
      kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=""
      PROFILE_TEXT="$(perf report -i "$WORK/perf.data" --no-children --sort sym --percent-limit 1.5 \
        --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | cut -c1-140 | head -25)"
    fi
    wall=$(kv wall_s "$line")
    if [ "$rep" = profile ]; then
      stop_sluice
      rm -rf "$dir"
      continue
    fi
    pps+=("$(kv points_per_s "$line")")
    cores+=("$(awk -v t=$((t1 - t0)) -v hz="$TICKS" -v w="$wall" 'BEGIN {printf "%.2f", t / hz / w}')")
    client+=("$(kv client_cpu_s "$line")")
    log "$system c=$conns rep $rep: $(kv points_per_s "$line") points/s, server $((t1 - t0)) ticks in ${wall}s"
    if [ "$system" = influx ]; then stop_influx; else stop_sluice; fi
    rm -rf "$dir"
  done
  local m c cl
  m=$(printf '%s\n' "${pps[@]}" | median)
  c=$(printf '%s\n' "${cores[@]}" | median)
  cl=$(printf '%s\n' "${client[@]}" | median)
  INGEST_ROWS+=("| $system | $conns | $(fmt_int "$m") | $(printf '%s\n' "${pps[@]}" | sort -g | awk '{printf "%s%d", (NR > 1 ? ", " : ""), $1}') | $c | $cl |")
  if [ "$system" = sluice-full ] && [ "$conns" = 4 ]; then SLUICE_FULL4=$m; SLUICE_FULL4_CORES=$c; fi
  if [ "$system" = influx ] && [ "$conns" = 4 ]; then INFLUX4=$m; INFLUX4_CORES=$c; fi
  PAYLOAD="$(kv points "$line") points, $(kv requests "$line") requests, $(kv bytes "$line") bytes"
}

log "ingest: $((POINTS_PER_SERIES * 100)) points per run, $REPS runs per row"
for conns in 4 1; do
  for system in sluice-full sluice-normal influx; do ingest "$system" "$conns"; done
done
ingest sluice-full-default-threads 4

# --- 2. disk: 10 series x 30 days ----------------------------------------------------------------
log "disk: loading 10 x 259,200 points into both"
DISK_POINTS=2592000
start_sluice "$WORK/disk-sluice" "$WORK/sluice-disk.toml"
start_influx "$WORK/disk-influx" 1
S_LOAD="$(timeout 600 "$LP_LOAD" write --port "$SPORT" --conns 4 --hosts 10 --cpus 1 \
  --points-per-series 259200 --end-s "$END")"
I_LOAD="$(timeout 600 "$LP_LOAD" write --port "$IPORT" --conns 4 --hosts 10 --cpus 1 \
  --points-per-series 259200 --end-s "$END")"
LOADED_AT=$(date +%s)
stop_sluice  # checkpoints every head into chunks; the last connection's close removes -wal
S_BYTES=$(alloc_bytes "$WORK/disk-sluice")
S_DB_STATS="$(python3 - "$WORK/disk-sluice/sluice.db" "$WORK/vacuumed.db" <<'PY'
import shutil, sqlite3, sys, os
db, copy = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
page = c.execute("pragma page_size").fetchone()[0]
pages = c.execute("pragma page_count").fetchone()[0]
free = c.execute("pragma freelist_count").fetchone()[0]
chunks, points, blob = c.execute("select count(*), sum(count), sum(length(data)) from chunks").fetchone()
wal = c.execute("select count(*) from wal").fetchone()[0]
c.close()
shutil.copyfile(db, copy)
v = sqlite3.connect(copy)
v.execute("vacuum")
v.close()
print(f"page_size={page} pages={pages} free_pages={free} chunks={chunks} chunk_points={points} "
      f"chunk_bytes={blob} wal_rows={wal} vacuumed_bytes={os.path.getsize(copy)}")
PY
)"
rm -f "$WORK/vacuumed.db"
S_VACUUMED=$(kv vacuumed_bytes "$S_DB_STATS")
S_CHUNK_BYTES=$(kv chunk_bytes "$S_DB_STATS")

# InfluxDB: wait (at most 120 s) until every shard has one TSM file, none is being written, and
# nothing changed for 6 s, and at least 15 s have passed since the load (cold durations 5 s, 10 s).
I_SETTLED="no (measured after 120 s)"
prev=""; same=0
for _ in $(seq 1 60); do
  sleep 2
  now="$(cd "$WORK/disk-influx" && find data/bench wal/bench -type f -printf '%p %s\n' | sort | md5sum)"
  shards=$(find "$WORK/disk-influx/data/bench/autogen" -mindepth 1 -maxdepth 1 -type d | wc -l)
  tsm=$(find "$WORK/disk-influx/data/bench/autogen" -name '*.tsm' | wc -l)
  tmp=$(find "$WORK/disk-influx/data/bench" -name '*.tmp' | wc -l)
  if [ "$now" = "$prev" ]; then same=$((same + 1)); else same=0; fi
  prev="$now"
  if [ "$same" -ge 3 ] && [ "$tsm" = "$shards" ] && [ "$tmp" = 0 ] && [ $(( $(date +%s) - LOADED_AT )) -ge 15 ]; then
    I_SETTLED="yes, $(( $(date +%s) - LOADED_AT )) s after the load"
    break
  fi
done
I_BYTES=$(alloc_bytes "$WORK/disk-influx/data/bench" "$WORK/disk-influx/wal/bench")
I_DATA_BYTES=$(alloc_bytes "$WORK/disk-influx/data/bench")
I_WAL_BYTES=$(alloc_bytes "$WORK/disk-influx/wal/bench")
I_TSM_BYTES=$(find "$WORK/disk-influx/data/bench" -name '*.tsm' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
I_SHARDS=$(find "$WORK/disk-influx/data/bench/autogen" -mindepth 1 -maxdepth 1 -type d | wc -l)
bpp() { awk -v b="$1" -v n="$DISK_POINTS" 'BEGIN {printf "%.2f", b / n}'; }

# --- 3. read: one series, 30 days, consolidated -------------------------------------------------
start_sluice "$WORK/disk-sluice" "$WORK/sluice-disk.toml"
cat > "$WORK/read.json" <<JSON
{"range":{"from":"$(iso "$FROM")","to":"$(iso "$END")"},"intervalMs":2592000,"maxDataPoints":1000,"targets":[{"refId":"A","target":"cpu.usage"}],"adhocFilters":[{"key":"host","operator":"=","value":"h3"}]}
JSON
cat > "$WORK/count.json" <<JSON
{"range":{"from":"$(iso "$FROM")","to":"$(iso "$END")"},"maxDataPoints":10,"targets":[{"refId":"A","target":"consolidateBy(cpu.usage, 'count')"}],"adhocFilters":[{"key":"host","operator":"=","value":"h3"}]}
JSON
influx_path() { python3 -c 'import sys, urllib.parse; print("/query?db=bench&epoch=ms&q=" + urllib.parse.quote(sys.argv[1]))' "$1"; }
WHERE="host='h3' AND time >= ${FROM}s AND time <= ${END}s"
Q_MAIN="SELECT mean(usage) FROM cpu WHERE $WHERE GROUP BY time(2592s)"
Q_HOUR="SELECT mean(usage) FROM cpu WHERE $WHERE GROUP BY time(1h)"
Q_COUNT="SELECT count(usage) FROM cpu WHERE $WHERE"

S_READ="$(timeout 300 "$LP_LOAD" query --port "$SPORT" --path /query --body-file "$WORK/read.json" --n "$READS" --save "$WORK/s-read.json")"
I_READ="$(timeout 300 "$LP_LOAD" query --port "$IPORT" --path "$(influx_path "$Q_MAIN")" --n "$READS" --save "$WORK/i-read.json")"
I_READ_HOUR="$(timeout 300 "$LP_LOAD" query --port "$IPORT" --path "$(influx_path "$Q_HOUR")" --n "$READS" --save "$WORK/i-hour.json")"
"$LP_LOAD" query --port "$SPORT" --path /query --body-file "$WORK/count.json" --n 1 --warmup 0 --save "$WORK/s-count.json" >/dev/null
"$LP_LOAD" query --port "$IPORT" --path "$(influx_path "$Q_COUNT")" --n 1 --warmup 0 --save "$WORK/i-count.json" >/dev/null
CHECK="$(python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/s-read.json"))
i = json.load(open(f"{w}/i-read.json"))["results"][0]["series"][0]["values"]
h = json.load(open(f"{w}/i-hour.json"))["results"][0]["series"][0]["values"]
sc = sum(v for v, t in json.load(open(f"{w}/s-count.json"))[0]["datapoints"])
ic = json.load(open(f"{w}/i-count.json"))["results"][0]["series"][0]["values"][0][1]
sp = s[0]["datapoints"]
same = len(sp) == len(h) and all(t == ht and abs(v - hv) <= 1e-9 * max(1, abs(hv)) for (v, t), (ht, hv) in zip(sp, h))
print(f"sluice_points={len(sp)} influx_points={len(i)} influx_hour_points={len(h)} "
      f"sluice_count={int(sc)} influx_count={int(ic)} agree={'yes' if same else 'NO'}")
PY
)"
log "read check: $CHECK"
stop_sluice
stop_influx

# --- results ------------------------------------------------------------------------------------
S_MS=$(kv median_ms "$S_READ"); I_MS=$(kv median_ms "$I_READ")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
yes_no() { if awk "BEGIN {exit !($1)}"; then echo yes; else echo "**no**"; fi; }
S_BPP=$(bpp "$S_BYTES"); S_VBPP=$(bpp "$S_VACUUMED"); I_BPP=$(bpp "$I_BYTES"); I_TSM_BPP=$(bpp "$I_TSM_BYTES")
FS="$(df -T "$WORK" | awk 'NR == 2 {print $2}')"
{
  echo "## Storage: Sluice's embedded store vs InfluxDB $(influxd version 2>/dev/null | awk '{print $2}'), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), data on $FS"\
       "($(dirname "$WORK")). Command: \`REPS=$REPS POINTS_PER_SERIES=$POINTS_PER_SERIES READS=$READS bench/store_bench.sh $BUILD\`."
  echo "Sluice: \`[http] io_threads = 1, worker_threads = 1\`, \`[store] retention = \"0\"\`, sync as listed;"
  echo "ingest runs with \`checkpoint_wal_bytes = \"16MiB\"\` so that each run pays its checkpoints (see the script)."
  echo "InfluxDB: its defaults (wal-fsync-delay 0s, tsm1, inmem index), loopback binds, reporting, _internal"
  echo "monitoring, HTTP and query logs off."
  echo
  echo "| figure | Sluice | InfluxDB | Sluice vs InfluxDB | goal | met |"
  echo "|---|---:|---:|---:|---|---|"
  echo "| ingest, line protocol over HTTP, 4 connections, sync=full (points/s) | $(fmt_int "$SLUICE_FULL4") ($SLUICE_FULL4_CORES cores busy) | $(fmt_int "$INFLUX4") ($INFLUX4_CORES cores busy) | $(ratio "$SLUICE_FULL4" "$INFLUX4")x faster | >= 1,000,000/s on one core; faster | $(yes_no "$SLUICE_FULL4 >= 1000000 && $SLUICE_FULL4 > $INFLUX4") |"
  echo "| bytes on disk per point, 10 series x 30 days of 10 s data, at rest | $S_BPP ($S_VBPP after VACUUM) | $I_BPP ($I_TSM_BPP TSM files only) | $(ratio "$S_BYTES" "$I_BYTES")x the size ($(ratio "$S_BYTES" "$I_TSM_BYTES")x TSM only) | <= 3; smaller | $(yes_no "$S_BPP <= 3 && $S_BYTES < $I_TSM_BYTES") |"
  echo "| read 30 d of one 10 s series (259,200 points) to <= 1,000 points, median ms | $S_MS | $I_MS | $(ratio "$I_MS" "$S_MS")x faster | < 5 ms; faster | $(yes_no "$S_MS < 5 && $S_MS < $I_MS") |"
  echo
  echo "### Ingest (median of $REPS runs, fresh server each run)"
  echo
  echo "Payload per run: $PAYLOAD (identical for both systems). Cores busy = server CPU time / wall"
  echo "time of the load; client CPU = lp_load's own CPU seconds during the load."
  echo
  echo "| server | connections | points/s (median) | all runs | cores busy | client CPU s |"
  echo "|---|---:|---:|---|---:|---:|"
  printf '%s\n' "${INGEST_ROWS[@]}"
  echo
  echo "### Disk (10 series x 259,200 points = 2,592,000 points)"
  echo
  echo "Load of this data set, 4 connections: Sluice $(fmt_int "$(kv points_per_s "$S_LOAD")") points/s, InfluxDB $(fmt_int "$(kv points_per_s "$I_LOAD")") points/s."
  echo
  echo "| | bytes | bytes/point |"
  echo "|---|---:|---:|"
  echo "| Sluice data dir after shutdown (sluice.db; -wal folded in) | $(fmt_int "$S_BYTES") | $S_BPP |"
  echo "| Sluice sluice.db after VACUUM (copy) | $(fmt_int "$S_VACUUMED") | $S_VBPP |"
  echo "| Sluice chunk payload only (sum of chunks.data) | $(fmt_int "$S_CHUNK_BYTES") | $(bpp "$S_CHUNK_BYTES") |"
  echo "| InfluxDB data/bench + wal/bench | $(fmt_int "$I_BYTES") | $I_BPP |"
  echo "| InfluxDB data/bench (TSM + series file) | $(fmt_int "$I_DATA_BYTES") | $(bpp "$I_DATA_BYTES") |"
  echo "| InfluxDB wal/bench | $(fmt_int "$I_WAL_BYTES") | $(bpp "$I_WAL_BYTES") |"
  echo "| InfluxDB TSM files only ($I_SHARDS shards) | $(fmt_int "$I_TSM_BYTES") | $I_TSM_BPP |"
  echo
  echo "Sluice db: $S_DB_STATS. InfluxDB settled: $I_SETTLED."
  echo
  echo "### Read (host=h3, $(iso "$FROM") .. $(iso "$END"), $READS sequential requests after 5 warm-ups, one connection)"
  echo
  echo "| query | median ms | p90 ms | min ms | response bytes |"
  echo "|---|---:|---:|---:|---:|"
  echo "| Sluice POST /query, maxDataPoints 1000 (1 h buckets) | $S_MS | $(kv p90_ms "$S_READ") | $(kv min_ms "$S_READ") | $(kv bytes "$S_READ") |"
  echo "| InfluxDB \`$Q_MAIN\` | $I_MS | $(kv p90_ms "$I_READ") | $(kv min_ms "$I_READ") | $(kv bytes "$I_READ") |"
  echo "| InfluxDB \`$Q_HOUR\` | $(kv median_ms "$I_READ_HOUR") | $(kv p90_ms "$I_READ_HOUR") | $(kv min_ms "$I_READ_HOUR") | $(kv bytes "$I_READ_HOUR") |"
  echo
  echo "Check: $CHECK (agree: Sluice's points equal InfluxDB's GROUP BY time(1h) answer)."
  if [ -n "$PROFILE_TEXT" ]; then
    echo
    echo "### Sluice profile, 4-connection sync=full ingest (an extra run; perf record -g, self time)"
    echo
    echo '```'
    echo "$PROFILE_TEXT"
    echo '```'
  fi
  if [ -x "$BUILD/bin/sluice_store_bench" ]; then
    echo
    echo "### Micro benchmarks (bin/sluice_store_bench)"
    echo
    echo '```'
    timeout 300 "$BUILD/bin/sluice_store_bench" --benchmark_min_time=0.5 2>/dev/null | grep -E "^(BM_|Benchmark|---)"
    echo '```'
  fi
} > "$OUT"
cat "$OUT"
