#!/usr/bin/env bash
# Expression benchmark: Sluice's expression engine against graphite-web 1.1.8 (Debian's
# `graphite-web` under gunicorn, tools/graphite/serve.sh), same data, same expressions, same run,
# both on 127.0.0.1 only. Installs nothing (scripts/install-deps.sh graphite, bench).
#
#   bench/expr_render.sh [BUILD_DIR]   N=10 WARMUP=2 DURATION=4s PROFILE=0 OUT=bench/results-expr-latest.md
#
# Data (identical on both sides): 100 series bench.h000.cpu .. bench.h099.cpu, one day at 10 s
# (8,640 points each), and bench.long.cpu, 30 days at 10 s (259,200 points); random walks in
# [0, 100] with 2 decimals, no gaps, the last point at today's 00:00 UTC (END). One line-protocol
# file (`bench.h000 cpu=12.34 <ts>`: measurement bench.h000, field cpu -> series bench.h000.cpu)
# is POSTed to Sluice's /write (a fresh store, retention "0"; Sluice is then restarted, so every
# read decodes chunks, as it would a day later) and turned into whisper files by
# tools/graphite/make_whisper.py --influx (same names, one archive at 10 s, xFilesFactor 0).
#
# Expressions: sumSeries(bench.h*.cpu) and aliasByNode(movingAverage(sumSeries(bench.h*.cpu),
# '5min'), 1) over the day (END - 1 d, END]; movingAverage(bench.long.cpu, 60) and
# summarize(bench.long.cpu, '1h') over the 30 days (END - 30 d, END]. Every point is returned:
# Sluice POST /query with maxDataPoints 1,000,000 (nothing consolidated), graphite-web
# GET /render?format=json (no maxDataPoints) with &now=END (whisper's retention is relative to it).
#
# Per expression and side: WARMUP requests, then N sequential requests, each a separate curl (a
# new connection: gunicorn's sync workers close every connection anyway); latency = curl's
# time_total, median / p90 / min; the ratio is graphite-web's median over Sluice's. Then wrk
# for DURATION at 1 connection (-t1) and 4 connections (-t2): requests/s. Before that, one answer
# of each side is checked: same number of series, of points, same timestamps, same None
# positions, values equal within 1e-6 relative, and the names (reported, not required).
# With PROFILE=1, perf records Sluice during each 1-connection wrk run (its figure is then lower).
# Last, the micro benchmarks of bin/sluice_expr_bench (bench/expr_bench.cc) when built.
# Sluice runs with its default thread counts; graphite-web with 2 gunicorn sync workers (= cores).
# Every wait is bounded; the whole script takes 3-4 minutes on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SLUICE="$BUILD/bin/sluice"
N="${N:-10}"
WARMUP="${WARMUP:-2}"
DURATION="${DURATION:-4s}"
OUT="${OUT:-$ROOT/bench/results-expr-latest.md}"
PROFILE="${PROFILE:-0}"  # 1: perf record Sluice (self time) during each 1-connection wrk run
PY=/usr/bin/python3

for tool in curl wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh bench" >&2; exit 1; }
done
[ "$PROFILE" = 0 ] || command -v perf >/dev/null || { echo "PROFILE=1 needs perf" >&2; exit 1; }
$PY -c 'import graphite, whisper' 2>/dev/null ||
  { echo "graphite-web missing: run scripts/install-deps.sh graphite" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first (make build)" >&2; exit 1; }

T_START=$(date +%s)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-expr-bench.XXXXXX")"
SLUICE_PID=""
GRAPHITE_STATE=""
PERF_PID=""
cleanup() {
  [ -n "$PERF_PID" ] && kill "$PERF_PID" 2>/dev/null || true
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null || true
  [ -n "$GRAPHITE_STATE" ] && "$ROOT/tools/graphite/serve.sh" stop "$GRAPHITE_STATE" >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "expr_render [$(( $(date +%s) - T_START )) s]: $*" >&2; }
. "$ROOT/bench/graphite_peer.sh"
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
bench_data
load_sluice
start_graphite 2

# --- requests -----------------------------------------------------------------------------------
NAMES=(sumSeries movingAverage summarize nested4)
declare -A EXPR FROM_OF
EXPR[sumSeries]="sumSeries(bench.h*.cpu)";                    FROM_OF[sumSeries]=$DAY_FROM
EXPR[movingAverage]="movingAverage(bench.long.cpu, 60)";      FROM_OF[movingAverage]=$MONTH_FROM
EXPR[summarize]="summarize(bench.long.cpu, '1h')";            FROM_OF[summarize]=$MONTH_FROM
EXPR[nested4]="aliasByNode(movingAverage(sumSeries(bench.h*.cpu), '5min'), 1)"; FROM_OF[nested4]=$DAY_FROM
declare -A INPUT_POINTS=([sumSeries]=864000 [movingAverage]=259200 [summarize]=259200 [nested4]=864000)

cat > "$WORK/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA
for name in "${NAMES[@]}"; do
  cat > "$WORK/$name.json" <<JSON
{"range":{"from":"$(iso "${FROM_OF[$name]}")","to":"$(iso "$END")"},"intervalMs":10000,"maxDataPoints":1000000,"targets":[{"refId":"A","target":"${EXPR[$name]}"}]}
JSON
  q="$($PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "${EXPR[$name]}")"
  echo "http://127.0.0.1:$GPORT/render?target=$q&from=${FROM_OF[$name]}&until=$END&now=$END&format=json" \
    > "$WORK/$name.url"
done

sluice_req() {  # name [-o file]: one request; prints "time_total size_download http_code"
  curl -s -o "${3:-/dev/null}" -w '%{time_total} %{size_download} %{http_code}\n' --max-time 120 \
    -H 'Content-Type: application/json' --data-binary "@$WORK/$1.json" "http://127.0.0.1:$SPORT/query"
}
graphite_req() {
  curl -s -o "${3:-/dev/null}" -w '%{time_total} %{size_download} %{http_code}\n' --max-time 120 \
    "$(cat "$WORK/$1.url")"
}

# The check: one answer of each side.
for name in "${NAMES[@]}"; do
  s=$(sluice_req "$name" -o "$WORK/$name.sluice.json"); g=$(graphite_req "$name" -o "$WORK/$name.graphite.json")
  [ "${s##* }" = 200 ] || { log "$name: Sluice answered ${s##* }: $(head -c 400 "$WORK/$name.sluice.json")"; exit 1; }
  [ "${g##* }" = 200 ] || { log "$name: graphite-web answered ${g##* }: $(head -c 400 "$WORK/$name.graphite.json")"; exit 1; }
done
CHECK="$($PY - "$WORK" "${NAMES[@]}" <<'PY'
import json, math, sys
work, names = sys.argv[1], sys.argv[2:]
all_same = True
for name in names:
    s = json.load(open(f"{work}/{name}.sluice.json"))
    g = json.load(open(f"{work}/{name}.graphite.json"))
    problems = []
    if len(s) != len(g):
        problems.append(f"series {len(s)} vs {len(g)}")
    points = 0
    worst = 0.0
    names_same = all(a.get("target") == b.get("target") for a, b in zip(s, g))
    for a, b in zip(s, g):
        pa, pb = a["datapoints"], b["datapoints"]
        points += len(pa)
        if len(pa) != len(pb):
            problems.append(f"{b['target']}: points {len(pa)} vs {len(pb)}")
            continue
        for (va, ta), (vb, tb) in zip(pa, pb):
            if ta != tb * 1000:
                problems.append(f"{b['target']}: timestamp {ta} vs {tb * 1000}")
                break
            if (va is None) != (vb is None):
                problems.append(f"{b['target']}: None at {tb} on one side only")
                break
            if va is not None:
                rel = abs(va - vb) / max(1.0, abs(vb))
                worst = max(worst, rel)
                if rel > 1e-6:
                    problems.append(f"{b['target']}: {va} vs {vb} at {tb}")
                    break
    if problems:
        all_same = False
    names_note = "same names" if names_same else \
        f"names differ: {[a.get('target') for a in s][:2]} vs {[b.get('target') for b in g][:2]}"
    print(f"{name}: {len(s)} series, {points} points, max relative difference {worst:.1e}, "
          f"{names_note}: " + ("AGREE" if not problems else "DIFFER (" + "; ".join(problems[:3]) + ")"))
print("ALL AGREE" if all_same else "SOME DIFFER")
PY
)"
echo "$CHECK" >&2

PROFILE_TEXT=""
declare -A S_MED S_P90 S_MIN S_BYTES G_MED G_P90 G_MIN G_BYTES S_RPS1 S_RPS4 G_RPS1 G_RPS4
latency() {  # side name -> sets the arrays
  local side="$1" name="$2" times=() line
  for _ in $(seq 1 "$WARMUP"); do "${side}_req" "$name" >/dev/null; done
  : > "$WORK/times"
  for _ in $(seq 1 "$N"); do
    line=$("${side}_req" "$name")
    [ "${line##* }" = 200 ] || { log "$side $name: HTTP ${line##* }"; exit 1; }
    echo "$line" >> "$WORK/times"
  done
  local ms
  ms="$(awk '{printf "%.3f\n", $1 * 1000}' "$WORK/times")"
  local med p min bytes
  med=$(echo "$ms" | median); p=$(echo "$ms" | p90); min=$(echo "$ms" | sort -g | head -1)
  bytes=$(tail -1 "$WORK/times" | awk '{print $2}')
  if [ "$side" = sluice ]; then S_MED[$name]=$med; S_P90[$name]=$p; S_MIN[$name]=$min; S_BYTES[$name]=$bytes
  else G_MED[$name]=$med; G_P90[$name]=$p; G_MIN[$name]=$min; G_BYTES[$name]=$bytes; fi
}
rps() {  # side name conns threads -> requests/s
  local out duration="$DURATION"
  if [ "$1" = sluice ]; then
    out="$(BODY="$WORK/$2.json" timeout 120 wrk -t"$4" -c"$3" -d"$duration" --timeout 60s \
      -s "$WORK/post.lua" "http://127.0.0.1:$SPORT/query")"
  else
    # At least 4 of its median latencies, so a slow side completes a few requests.
    duration=$(awk -v d="${DURATION%s}" -v m="${G_MED[$2]}" 'BEGIN {x = int(m * 4 / 1000) + 1; print (x > d ? x : d) "s"}')
    out="$(timeout 120 wrk -t"$4" -c"$3" -d"$duration" --timeout 60s "$(cat "$WORK/$2.url")")"
  fi
  log "$1 $2 c=$3 ($duration): $(echo "$out" | awk '/requests in/ {print $1, "requests"} /Latency/ {print "latency avg", $2}' | tr '\n' ' ')"
  if echo "$out" | grep -q "Non-2xx"; then log "$1 $2 c=$3: non-2xx responses"; echo "$out" >&2; exit 1; fi
  # No request completed in the time (a slow server at one connection): "-".
  echo "$out" | awk '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {print (n > 0 ? r : "-")}'
}

for name in "${NAMES[@]}"; do
  log "$name: $N requests each side"
  latency sluice "$name"
  latency graphite "$name"
  log "$name: median Sluice ${S_MED[$name]} ms, graphite-web ${G_MED[$name]} ms"
done
for name in "${NAMES[@]}"; do
  log "$name: wrk"
  if [ "$PROFILE" = 1 ]; then
    perf record -p "$SLUICE_PID" -o "$WORK/perf-$name.data" > /dev/null 2>&1 &
    PERF_PID=$!
    sleep 0.5
  fi
  S_RPS1[$name]=$(rps sluice "$name" 1 1)
  if [ "$PROFILE" = 1 ]; then
    kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=""
    PROFILE_TEXT+="$name (self time, top entries):"$'\n'
    PROFILE_TEXT+="$(perf report -i "$WORK/perf-$name.data" --no-children --percent-limit 2 --stdio 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -14 | cut -c1-150)"$'\n\n'
  fi
  S_RPS4[$name]=$(rps sluice "$name" 4 2)
  G_RPS1[$name]=$(rps graphite "$name" 1 1); G_RPS4[$name]=$(rps graphite "$name" 4 2)
done

# --- results ------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "-"}'; }
mpts() { awk -v p="$1" -v ms="$2" 'BEGIN {printf "%.0f", p / ms / 1000}'; }
fmt_int() { $PY -c 'import sys; print(f"{round(float(sys.argv[1])):,}")' "$1"; }
{
  echo "## Expressions: Sluice vs graphite-web $G_VERSION, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"\
       "load average at the start $(cut -d' ' -f1-3 /proc/loadavg). Command:"\
       "\`N=$N WARMUP=$WARMUP DURATION=$DURATION bench/expr_render.sh $BUILD\`."
  echo "Sluice: default threads, embedded store (restarted after the load: reads decode chunks)."
  echo "graphite-web: gunicorn, $G_WORKERS sync workers, whisper files, no memcache."
  echo "Data ends $(iso "$END"); latency = curl time_total of one request on a new connection,"
  echo "$N requests after $WARMUP warm-ups; every point returned (no consolidation)."
  echo
  echo "| expression | window | input points | Sluice median ms (p90, min) | graphite-web median ms (p90, min) | graphite / Sluice | Sluice M input points/s | bytes Sluice / graphite |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  for name in "${NAMES[@]}"; do
    win=$([ "${FROM_OF[$name]}" = "$DAY_FROM" ] && echo "1 d" || echo "30 d")
    echo "| \`${EXPR[$name]}\` | $win | $(fmt_int "${INPUT_POINTS[$name]}") | ${S_MED[$name]} (${S_P90[$name]}, ${S_MIN[$name]}) | ${G_MED[$name]} (${G_P90[$name]}, ${G_MIN[$name]}) | **$(ratio "${G_MED[$name]}" "${S_MED[$name]}")** | $(mpts "${INPUT_POINTS[$name]}" "${S_MED[$name]}") | $(fmt_int "${S_BYTES[$name]}") / $(fmt_int "${G_BYTES[$name]}") |"
  done
  echo
  echo "Throughput (wrk, $DURATION per cell, graphite-web at least 4 of its median latencies; requests/s; requests still running at the end are not"
  echo "counted, \"-\" = none completed):"
  echo
  echo "| expression | Sluice c=1 | graphite-web c=1 | ratio | Sluice c=4 | graphite-web c=4 | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for name in "${NAMES[@]}"; do
    echo "| $name | ${S_RPS1[$name]} | ${G_RPS1[$name]} | $(ratio "${S_RPS1[$name]}" "${G_RPS1[$name]}") | ${S_RPS4[$name]} | ${G_RPS4[$name]} | $(ratio "${S_RPS4[$name]}" "${G_RPS4[$name]}") |"
  done
  echo
  echo "Check (one answer of each side, before the timed requests):"
  echo
  echo '```'
  echo "$CHECK"
  echo '```'
  if [ -n "$PROFILE_TEXT" ]; then
    echo
    echo "### Sluice profile during the 1-connection wrk runs (perf record, self time)"
    echo
    echo '```'
    echo "$PROFILE_TEXT"
    echo '```'
  fi
} > "$OUT"
"$ROOT/tools/graphite/serve.sh" stop "$GRAPHITE_STATE" >/dev/null 2>&1 || true
GRAPHITE_STATE=""
stop_sluice

if [ -x "$BUILD/bin/sluice_expr_bench" ]; then
  log "micro benchmarks"
  {
    echo
    echo "### Micro benchmarks (bin/sluice_expr_bench, items = input points)"
    echo
    echo '```'
    timeout 300 "$BUILD/bin/sluice_expr_bench" --benchmark_min_time=0.2 2>/dev/null | grep -E "^(BM_|Benchmark|---)"
    echo '```'
  } >> "$OUT"
fi
echo "" >> "$OUT"
echo "Script wall time: $(( $(date +%s) - T_START )) s." >> "$OUT"
cat "$OUT"
