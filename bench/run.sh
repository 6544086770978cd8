#!/usr/bin/env bash
# Load benchmark: Sluice against nginx serving the same response bytes as static files (the ceiling).
#
#   bench/run.sh [BUILD_DIR]          (make bench runs it after building)
#
# Workloads (PROTOCOL.md /query, demo data, fixed absolute ranges so every request is identical):
#   tiny: one target, 6 h, maxDataPoints 2           (~200-byte response)
#   wide: 4 targets, 24 h of 10 s data, maxDataPoints 10,000 (4 x 8,640 points, ~830 KB)
# Each is driven by wrk at 16 and 64 connections, REPS times for DURATION each; the median req/s is
# reported with the ratio to nginx. Also: RSS idle and peak RSS under the wide load, and the micro
# benchmarks. Everything runs on 127.0.0.1 only and stops by itself.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SLUICE="$BUILD/bin/sluice"
DURATION="${DURATION:-5s}"
REPS="${REPS:-3}"
THREADS="${THREADS:-2}"
OUT="${OUT:-$ROOT/bench/results-latest.md}"

for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh bench" >&2; exit 1; }
done
[ -x "$SLUICE" ] || { echo "no $SLUICE: build first (make build)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/sluice-bench.XXXXXX)"
SLUICE_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$SLUICE_PID" ] && kill "$SLUICE_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- request bodies: fixed ranges ending at a fixed instant -----------------------------------
TO="2026-11-23T12:00:00.000Z"
cat > "$WORK/tiny.json" <<JSON
{"range":{"from":"2026-11-23T06:00:00.000Z","to":"$TO"},"intervalMs":10800000,"maxDataPoints":2,"targets":[{"refId":"A","target":"upper_25"}]}
JSON
cat > "$WORK/wide.json" <<JSON
{"range":{"from":"2026-11-22T12:00:00.000Z","to":"2026-11-23T11:59:59.999Z"},"intervalMs":8640,"maxDataPoints":10000,"targets":[{"refId":"A","target":"upper_25"},{"refId":"B","target":"upper_50"},{"refId":"C","target":"upper_75"},{"refId":"D","target":"upper_90"}]}
JSON
cat > "$WORK/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

# --- Sluice -------------------------------------------------------------------------------------
SPORT="$(free_port)"
"$SLUICE" serve --listen "127.0.0.1:$SPORT" --data "$WORK/data" --demo --log-level warn \
  > "$WORK/sluice.out" 2> "$WORK/sluice.err" &
SLUICE_PID=$!
for _ in $(seq 1 100); do grep -q "listening" "$WORK/sluice.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening" "$WORK/sluice.out" || { cat "$WORK/sluice.err" >&2; exit 1; }
sleep 0.5
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
IDLE_RSS_KB="$(rss_kb "$SLUICE_PID")"

mkdir -p "$WORK/www"
curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/tiny.json" \
  "http://127.0.0.1:$SPORT/query" > "$WORK/www/tiny.json"
curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$WORK/wide.json" \
  "http://127.0.0.1:$SPORT/query" > "$WORK/www/wide.json"
TINY_BYTES=$(stat -c %s "$WORK/www/tiny.json")
WIDE_BYTES=$(stat -c %s "$WORK/www/wide.json")

# --- nginx: the same bytes as static files ------------------------------------------------------
NPORT="$(free_port)"
mkdir -p "$WORK/nginx"
chmod -R a+rX "$WORK"
cat > "$WORK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes $THREADS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000000;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/www;
    location / { default_type application/json; }
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NPORT/tiny.json" >/dev/null && break; sleep 0.1; done

# --- runs -----------------------------------------------------------------------------------------
# Prints the median requests/s of REPS wrk runs.
measure() {  # name url connections [body]
  local url="$2" conns="$3" body="${4:-}" results=()
  for _ in $(seq 1 "$REPS"); do
    local out
    if [ -n "$body" ]; then
      out="$(BODY="$body" wrk -t"$THREADS" -c"$conns" -d"$DURATION" -s "$WORK/post.lua" "$url")"
    else
      out="$(wrk -t"$THREADS" -c"$conns" -d"$DURATION" "$url")"
    fi
    if echo "$out" | grep -q "Non-2xx"; then echo "$1: non-2xx responses" >&2; echo "$out" >&2; exit 1; fi
    results+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
  done
  printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

{
  echo "## Load: Sluice vs nginx (same bytes), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);"\
       "wrk -t$THREADS, $DURATION x $REPS runs (median); nginx worker_processes $THREADS, Sluice default threads."
  echo "Response bytes: tiny $TINY_BYTES, wide $WIDE_BYTES."
  echo
  echo "| workload | connections | Sluice req/s | nginx req/s | Sluice / nginx |"
  echo "|---|---:|---:|---:|---:|"
} > "$OUT"

for workload in tiny wide; do
  for conns in 16 64; do
    s=$(measure "sluice-$workload" "http://127.0.0.1:$SPORT/query" "$conns" "$WORK/$workload.json")
    n=$(measure "nginx-$workload" "http://127.0.0.1:$NPORT/$workload.json" "$conns")
    ratio=$(awk -v a="$s" -v b="$n" 'BEGIN {printf "%.2f", a/b}')
    echo "| $workload | $conns | $s | $n | $ratio |" >> "$OUT"
    echo "$workload c=$conns: sluice $s req/s, nginx $n req/s, ratio $ratio" >&2
  done
done
PEAK_RSS_KB="$(hwm_kb "$SLUICE_PID")"

{
  echo
  echo "Sluice RSS: idle $((IDLE_RSS_KB / 1024)) MB; peak (VmHWM) after all runs $((PEAK_RSS_KB / 1024)) MB."
  echo
  if [ -x "$BUILD/bin/sluice_bench" ]; then
    echo "## Micro benchmarks (bin/sluice_bench)"
    echo
    echo '```'
    "$BUILD/bin/sluice_bench" --benchmark_min_time=0.5 2>/dev/null | grep -E "^(BM_|Benchmark|---)"
    echo '```'
  fi
} >> "$OUT"
cat "$OUT"
