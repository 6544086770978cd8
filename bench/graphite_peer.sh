#!/usr/bin/env bash
# Shared by bench/expr_render.sh and bench/render_bench.sh (sourced, not run): the same data set
# for Sluice and graphite-web, both servers started on 127.0.0.1, and small statistics helpers.
# The caller sets ROOT, SLUICE, WORK and PY, defines log(), and stops the servers in its EXIT trap
# (SLUICE_PID, GRAPHITE_STATE).
#
#   bench_data         100 series bench.h000..h099.cpu x 8,640 points (one day at 10 s) and
#                      bench.long.cpu x 259,200 points (30 days at 10 s), random walks ending at END
#                      (a midnight), as line protocol in $WORK/data.lp and whisper files
#   start_sluice, stop_sluice, load_sluice (write the data, then restart so reads decode chunks)
#   start_graphite [workers]   sets GRAPHITE_STATE GPORT GPID G_WORKERS G_SERVER G_VERSION

END=$(( $(date +%s) / 86400 * 86400 ))
DAY_FROM=$(( END - 86400 ))
MONTH_FROM=$(( END - 30 * 86400 ))

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
p90() { sort -g | awk '{a[NR]=$1} END {i=int(NR*0.9+0.999); if (i<1) i=1; print a[i]}'; }

bench_data() {
  log "generating 1,123,200 points of line protocol"
  $PY - "$WORK/data.lp" "$END" <<'PY'
import random, sys
path, end = sys.argv[1], int(sys.argv[2])
def walk(seed, n):
    rnd = random.Random(seed)
    v = rnd.uniform(0, 100)
    for _ in range(n):
        v = min(100.0, max(0.0, v + rnd.uniform(-2, 2)))
        yield round(v, 2)
with open(path, "w") as f:
    for h in range(100):
        start = end - 8639 * 10
        f.writelines(f"bench.h{h:03d} cpu={v!r} {start + 10 * k}\n"
                     for k, v in enumerate(walk(1000 + h, 8640)))
    start = end - 259199 * 10
    f.writelines(f"bench.long cpu={v!r} {start + 10 * k}\n" for k, v in enumerate(walk(7, 259200)))
PY
  split -l 100000 "$WORK/data.lp" "$WORK/part."

  log "writing whisper files"
  timeout 300 $PY "$ROOT/tools/graphite/make_whisper.py" "$WORK/whisper" --influx "$WORK/data.lp" \
    --step 10 >&2
}

start_sluice() {
  printf '[store]\nretention = "0"\n' > "$WORK/sluice.toml"
  SPORT="$(free_port)"
  "$SLUICE" serve --listen "127.0.0.1:$SPORT" --data "$WORK/sluice-data" --config "$WORK/sluice.toml" \
    --log-level warn > "$WORK/sluice.out" 2> "$WORK/sluice.err" &
  SLUICE_PID=$!
  for _ in $(seq 1 200); do grep -q "listening" "$WORK/sluice.out" 2>/dev/null && return 0; sleep 0.05; done
  cat "$WORK/sluice.err" >&2
  log "sluice did not start"
  exit 1
}
stop_sluice() {  # SIGTERM (the shutdown checkpoints every head into chunks), up to 120 s
  kill "$SLUICE_PID" 2>/dev/null || true
  for _ in $(seq 1 1200); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SLUICE_PID" 2>/dev/null; then log "sluice did not stop in 120 s"; kill -9 "$SLUICE_PID" || true; fi
  wait "$SLUICE_PID" 2>/dev/null || true
  SLUICE_PID=""
}

load_sluice() {
  log "loading Sluice"
  start_sluice
  for part in "$WORK"/part.*; do
    code=$(curl -s -o "$WORK/write.out" -w '%{http_code}' --max-time 60 --data-binary "@$part" \
      "http://127.0.0.1:$SPORT/write?db=bench&precision=s")
    [ "$code" = 204 ] || { log "write answered $code: $(cat "$WORK/write.out")"; exit 1; }
  done
  stop_sluice
  start_sluice
}

start_graphite() {
  log "starting graphite-web"
  G_LINE="$(timeout 120 "$ROOT/tools/graphite/serve.sh" start "$WORK/whisper" --state "$WORK/graphite" --workers "${1:-2}")"
  GRAPHITE_STATE="$WORK/graphite"
  GPORT="$(echo "$G_LINE" | tr ' ' '\n' | awk -F= '$1 == "port" {print $2}')"
  GPID="$(echo "$G_LINE" | tr ' ' '\n' | awk -F= '$1 == "pid" {print $2}')"
  G_WORKERS="$(echo "$G_LINE" | tr ' ' '\n' | awk -F= '$1 == "workers" {print $2}')"
  G_SERVER="$(echo "$G_LINE" | tr ' ' '\n' | awk -F= '$1 == "server" {print $2}')"
  G_VERSION="$(dpkg-query -W -f '${Version}' graphite-web 2>/dev/null || echo '?')"
}
