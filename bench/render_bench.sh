#!/usr/bin/env bash
# Graphite /render benchmark: Sluice's Graphite API against graphite-web 1.1.8 (Debian's
# `graphite-web` under gunicorn, tools/graphite/serve.sh), same data, same requests, one run, both
# on 127.0.0.1 only. Installs nothing (scripts/install-deps.sh bench).
#
#   bench/render_bench.sh [BUILD_DIR]      N=10 WARMUP=2 DURATION=8s OUT=bench/results-render-latest.md
#
# Data (identical on both sides, generated as bench/expr_render.sh does): 100 series
# bench.h000.cpu .. bench.h099.cpu, one day at 10 s (8,640 points each), and bench.long.cpu,
# 30 days at 10 s (259,200 points); random walks in [0, 100] with 2 decimals, the last point at
# today's 00:00 UTC (END). One line-protocol file (`bench.h000 cpu=12.34 <ts>`: measurement
# bench.h000, field cpu -> series bench.h000.cpu) is POSTed to Sluice's /write (a fresh store,
# retention "0"; Sluice is then restarted, so reads decode chunks) and turned into whisper files
# by tools/graphite/make_whisper.py --influx (same names, one archive at 10 s, xFilesFactor 0).
#
# Requests: the same URL to both, GET /render?target=…&from=…&until=END&format=json&now=END
# (`now` for whisper, whose retention is relative to it; the range is absolute):
#   plain       bench.h000.cpu over the day (8,640 points out)
#   sumSeries   sumSeries(bench.h*.cpu) over the day (864,000 in, 8,640 out)
#   movingAvg   movingAverage(bench.long.cpu, 60) over 30 days, maxDataPoints=1000
#   nested      aliasByNode(movingAverage(sumSeries(bench.h*.cpu), '5min'), 1) over the day
# First one answer of each side is compared: same series names in order, timestamps, None
# positions, values within 1e-9 relative. Latency: WARMUP requests, then N sequential curl
# requests (each a new connection), median and p90 of time_total. Throughput: wrk with 1
# connection (-t1) and 16 connections (-t2), requests/s, for DURATION or, where requests are slow,
# 3 rounds of the queue (3 x connections x median latency / workers, at most 40 s); after each
# cell the script waits until the server burns no CPU (wrk leaves requests queued in gunicorn's
# backlog, which would slow the next cell). Ratios are Sluice over graphite-web. Sluice runs with its default thread counts; graphite-web with 2 gunicorn sync
# workers (= cores). Every wait is bounded; the whole script takes 4-6 minutes on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SLUICE="$BUILD/bin/sluice"
N="${N:-10}"
WARMUP="${WARMUP:-2}"
DURATION="${DURATION:-8s}"
OUT="${OUT:-$ROOT/bench/results-render-latest.md}"
PY=/usr/bin/python3

for tool in curl wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh bench" >&2; exit 1; }
done
$PY -c 'import graphite, whisper' 2>/dev/null ||
  { echo "graphite-web missing: run scripts/install-deps.sh bench" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first (make build)" >&2; exit 1; }

T_START=$(date +%s)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-render-bench.XXXXXX")"
SLUICE_PID=""
GRAPHITE_STATE=""
cleanup() {
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null || true
  [ -n "$GRAPHITE_STATE" ] && "$ROOT/tools/graphite/serve.sh" stop "$GRAPHITE_STATE" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "render_bench [$(( $(date +%s) - T_START )) s]: $*" >&2; }
. "$ROOT/bench/graphite_peer.sh"
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
bench_data
load_sluice
start_graphite 2

# --- requests -----------------------------------------------------------------------------------
NAMES=(plain sumSeries movingAvg nested)
declare -A EXPR FROM_OF MDP OUT_POINTS
EXPR[plain]="bench.h000.cpu";                                  FROM_OF[plain]=$DAY_FROM
EXPR[sumSeries]="sumSeries(bench.h*.cpu)";                     FROM_OF[sumSeries]=$DAY_FROM
EXPR[movingAvg]="movingAverage(bench.long.cpu, 60)";           FROM_OF[movingAvg]=$MONTH_FROM
EXPR[nested]="aliasByNode(movingAverage(sumSeries(bench.h*.cpu), '5min'), 1)"; FROM_OF[nested]=$DAY_FROM
MDP[movingAvg]=1000
declare -A INPUT_POINTS=([plain]=8640 [sumSeries]=864000 [movingAvg]=259200 [nested]=864000)
for name in "${NAMES[@]}"; do
  q="$($PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${EXPR[$name]}")"
  path="/render?target=$q&from=${FROM_OF[$name]}&until=$END&format=json&now=$END"
  [ -n "${MDP[$name]:-}" ] && path="$path&maxDataPoints=${MDP[$name]}"
  echo "$path" > "$WORK/$name.path"
done
port_of() { if [ "$1" = sluice ]; then echo "$SPORT"; else echo "$GPORT"; fi; }
req() {  # side name [file]: one request on a new connection; prints "time_total size http_code"
  curl -s -o "${3:-/dev/null}" -w '%{time_total} %{size_download} %{http_code}\n' --max-time 120 \
    "http://127.0.0.1:$(port_of "$1")$(cat "$WORK/$2.path")"
}

for name in "${NAMES[@]}"; do
  for side in sluice graphite; do
    r=$(req "$side" "$name" "$WORK/$name.$side.json")
    [ "${r##* }" = 200 ] || { log "$name: $side answered ${r##* }: $(head -c 400 "$WORK/$name.$side.json")"; exit 1; }
  done
done
CHECK="$($PY - "$WORK" "${NAMES[@]}" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
all_same = True
for name in names:
    s = json.load(open(f"{work}/{name}.sluice.json"))
    g = json.load(open(f"{work}/{name}.graphite.json"))
    problems = []
    if [a.get("target") for a in s] != [b.get("target") for b in g]:
        problems.append(f"names {[a.get('target') for a in s][:3]} vs {[b.get('target') for b in g][:3]}")
    points = 0
    worst = 0.0
    for a, b in zip(s, g):
        pa, pb = a["datapoints"], b["datapoints"]
        points += len(pb)
        if len(pa) != len(pb):
            problems.append(f"{b['target']}: points {len(pa)} vs {len(pb)}")
            continue
        for (va, ta), (vb, tb) in zip(pa, pb):
            if ta != tb:
                problems.append(f"{b['target']}: timestamp {ta} vs {tb}")
                break
            if (va is None) != (vb is None):
                problems.append(f"{b['target']}: None at {tb} on one side only")
                break
            if va is not None and va != vb:
                rel = abs(va - vb) / max(abs(va), abs(vb))
                worst = max(worst, rel)
                if rel > 1e-9:
                    problems.append(f"{b['target']}: {va} vs {vb} at {tb}")
                    break
    if problems:
        all_same = False
    print(f"{name}: {len(g)} series, {points} points, max relative difference {worst:.1e}: "
          + ("AGREE" if not problems else "DIFFER (" + "; ".join(problems[:3]) + ")"))
print("ALL AGREE" if all_same else "SOME DIFFER")
PY
)"
echo "$CHECK" >&2

declare -A MED P90 BYTES RPS1 RPS16
latency() {  # side name
  local side="$1" name="$2" line
  for _ in $(seq 1 "$WARMUP"); do req "$side" "$name" >/dev/null; done
  : > "$WORK/times"
  for _ in $(seq 1 "$N"); do
    line=$(req "$side" "$name")
    [ "${line##* }" = 200 ] || { log "$side $name: HTTP ${line##* }"; exit 1; }
    echo "$line" >> "$WORK/times"
  done
  local ms
  ms="$(awk '{printf "%.3f\n", $1 * 1000}' "$WORK/times")"
  MED[$side.$name]=$(echo "$ms" | median)
  P90[$side.$name]=$(echo "$ms" | p90)
  BYTES[$side.$name]=$(tail -1 "$WORK/times" | awk '{print $2}')
}
cpu_ticks() {  # pid: CPU ticks used so far by it and its children (gunicorn's master and workers)
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$(( total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
wait_idle() {  # pid: until it burns < 3 ticks in 0.5 s (at most 120 s). wrk leaves requests queued
  local before after  # in gunicorn's backlog when it stops; they must not slow the next cell.
  for _ in $(seq 1 240); do
    before=$(cpu_ticks "$1"); sleep 0.5; after=$(cpu_ticks "$1")
    [ $(( after - before )) -lt 3 ] && return 0
  done
  log "pid $1 still busy after 120 s"
}
cell_seconds() {  # side name conns: DURATION, or long enough for 3 rounds of the queue (<= 40 s)
  local base=${DURATION%s}
  awk -v b="$base" -v c="$3" -v ms="${MED[$1.$2]}" -v w="$4" \
    'BEGIN {n = int(3 * c * ms / w / 1000 + 0.999); if (n < b) n = b; if (n > 40) n = 40; print n}'
}
rps() {  # side name conns threads -> requests/s ("-" when none completed)
  local out secs workers
  if [ "$1" = sluice ]; then workers=$(nproc); else workers=$G_WORKERS; fi
  secs=$(cell_seconds "$1" "$2" "$3" "$workers")
  echo "$1 $2 c=$3: ${secs}s" >> "$WORK/cells"
  out="$(timeout 180 wrk -t"$4" -c"$3" -d"${secs}s" --timeout 60s \
    "http://127.0.0.1:$(port_of "$1")$(cat "$WORK/$2.path")")"
  if [ "$1" = sluice ]; then wait_idle "$SLUICE_PID"; else wait_idle "$GPID"; fi
  if echo "$out" | grep -q "Non-2xx"; then log "$1 $2 c=$3: non-2xx responses"; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {print (n > 0 ? r : "-")}'
}

for name in "${NAMES[@]}"; do
  log "$name: latency, $N requests each side"
  latency sluice "$name"
  latency graphite "$name"
  log "$name: median Sluice ${MED[sluice.$name]} ms, graphite-web ${MED[graphite.$name]} ms"
done
for name in "${NAMES[@]}"; do
  log "$name: wrk"
  for side in sluice graphite; do
    RPS1[$side.$name]=$(rps "$side" "$name" 1 1)
    RPS16[$side.$name]=$(rps "$side" "$name" 16 2)
  done
  log "$name: c=16 Sluice ${RPS16[sluice.$name]}/s, graphite-web ${RPS16[graphite.$name]}/s"
done

# --- results ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "-"}'; }
fmt_int() { $PY -c 'import sys; print(f"{round(float(sys.argv[1])):,}")' "$1"; }
{
  echo "## /render: Sluice vs graphite-web $G_VERSION, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"\
       "load average at the start $(cut -d' ' -f1-3 /proc/loadavg). Command:"\
       "\`N=$N WARMUP=$WARMUP DURATION=$DURATION bench/render_bench.sh $BUILD\`."
  echo "Sluice: default threads, embedded store (restarted after the load: reads decode chunks)."
  echo "graphite-web: $G_SERVER, $G_WORKERS sync workers, whisper files, no memcache. Data ends"
  echo "$(iso "$END"); the same GET /render URL to both."
  echo
  echo "| request | input points | Sluice median ms (p90) | graphite-web median ms (p90) | latency ratio | bytes |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in "${NAMES[@]}"; do
    mdp=""; [ -n "${MDP[$name]:-}" ] && mdp=", maxDataPoints ${MDP[$name]}"
    echo "| $name: \`${EXPR[$name]}\`$mdp | $(fmt_int "${INPUT_POINTS[$name]}") | ${MED[sluice.$name]} (${P90[sluice.$name]}) | ${MED[graphite.$name]} (${P90[graphite.$name]}) | **$(ratio "${MED[graphite.$name]}" "${MED[sluice.$name]}")** | $(fmt_int "${BYTES[sluice.$name]}") |"
  done
  echo
  echo "Throughput (wrk, requests/s; $DURATION per cell, or 3 rounds of the queue where requests are"
  echo "slow: 3 × connections × median latency / workers, at most 40 s; the script waits until the"
  echo "server is idle after each cell; requests still running at the end are not counted):"
  echo
  echo "| request | Sluice c=1 | graphite-web c=1 | ratio | Sluice c=16 | graphite-web c=16 | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for name in "${NAMES[@]}"; do
    echo "| $name | ${RPS1[sluice.$name]} | ${RPS1[graphite.$name]} | **$(ratio "${RPS1[sluice.$name]}" "${RPS1[graphite.$name]}")** | ${RPS16[sluice.$name]} | ${RPS16[graphite.$name]} | **$(ratio "${RPS16[sluice.$name]}" "${RPS16[graphite.$name]}")** |"
  done
  echo
  echo "Check (one answer of each side, before the timed requests):"
  echo
  echo '```'
  echo "$CHECK"
  echo '```'
  echo
  echo "Script wall time: $(( $(date +%s) - T_START )) s."
} > "$OUT"
cat "$OUT"
