#!/usr/bin/env bash
# Runs Debian's graphite-web 1.1.8 (/render, /metrics/find, /tags, ...) on 127.0.0.1 over a
# whisper directory, in the background, for benchmarks and side-by-side tests.
#
#   tools/graphite/serve.sh start WHISPER_DIR [--port P] [--workers N] [--state DIR]
#       Prints one line "pid=<pid> port=<port> url=http://127.0.0.1:<port> state=<dir>
#       server=<gunicorn|runserver> workers=<n>" once /version answers (at most 60 s), else
#       exits 1 and shows the server log. Port: a free ephemeral one unless --port.
#       Workers: 2 by default (the machine has 2 cores).
#   tools/graphite/serve.sh stop STATE_DIR
#       SIGTERM to the recorded pid (SIGKILL after 10 s) and removes STATE_DIR.
#
# Server: gunicorn (Debian package `gunicorn`, sync workers), the way graphite-web is deployed
# in production; Django's single-process runserver only when gunicorn is missing (then
# workers=1; SLUICE_GRAPHITE_SERVER=runserver forces it). Settings live in the state dir (a temp dir): SECRET_KEY, STORAGE_DIR, sqlite
# database with graphite-web's tag database (series listed in WHISPER_DIR/.tagged-series by
# make_whisper.py are registered), no memcache, no carbonlink (CARBONLINK_HOSTS empty; see
# README.md), performance logs off, exceptions logged to STATE_DIR/log/exception.log.
# Everything else is graphite-web's default (DEFAULT_XFILES_FACTOR 0, worker pool, finders).
#
# Whisper returns nothing older than now - retention: for old data pass &now=<epoch> on
# /render (make_whisper.py prints the newest timestamp).
#
# Needs: scripts/install-deps.sh graphite
set -euo pipefail

PY=/usr/bin/python3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd_stop() {
  local state="$1"
  [ -f "$state/pid" ] || { echo "serve.sh: no pid file in $state" >&2; exit 1; }
  local pid
  pid="$(cat "$state/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ -f "$state/.sluice-graphite-state" ]; then
    rm -rf "$state"
  fi
  echo "stopped pid=$pid"
}

cmd_start() {
  [ $# -ge 1 ] || usage
  local wsp port="" workers=2 state=""
  wsp="$(cd "$1" && pwd)"
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port="$2"; shift 2 ;;
      --workers) workers="$2"; shift 2 ;;
      --state) state="$2"; shift 2 ;;
      *) usage ;;
    esac
  done
  $PY -c 'import graphite, django, whisper' 2>/dev/null ||
    { echo "serve.sh: graphite-web missing: run scripts/install-deps.sh graphite" >&2; exit 1; }
  if [ -z "$state" ]; then
    state="$(mktemp -d /tmp/sluice-graphite-serve.XXXXXX)"
  else
    mkdir -p "$state"
    state="$(cd "$state" && pwd)"
  fi
  touch "$state/.sluice-graphite-state"
  mkdir -p "$state/log"
  if [ -z "$port" ]; then
    port="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  fi

  cat >"$state/sluice_graphite_settings.py" <<EOF
# Written by tools/graphite/serve.sh; graphite.settings imports it (GRAPHITE_SETTINGS_MODULE).
SECRET_KEY = 'sluice-graphite-serve-not-secret'
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
TIME_ZONE = 'UTC'
STORAGE_DIR = '$state'
LOG_DIR = '$state/log'
INDEX_FILE = '$state/index'
WHISPER_DIR = '$wsp/'
STANDARD_DIRS = ['$wsp/']
DATABASES = {'default': {'NAME': '$state/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}
MEMCACHE_HOSTS = []
CARBONLINK_HOSTS = []
REPLICATION_FACTOR = 0
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
LOG_INFO_PERFORMANCE = False
LOG_ROTATION = False
FUNCTION_PLUGINS = []
EOF

  export PYTHONPATH="$state${PYTHONPATH:+:$PYTHONPATH}"
  export GRAPHITE_SETTINGS_MODULE=sluice_graphite_settings
  export DJANGO_SETTINGS_MODULE=graphite.settings
  export PYTHONWARNINGS=ignore

  # database (tag db) and tagged series
  $PY - "$wsp/.tagged-series" <<'EOF'
import os, sys
import django
django.setup()
from django.core.management import call_command
call_command('migrate', verbosity=0, interactive=False)
listing = sys.argv[1]
if os.path.exists(listing):
    from graphite.storage import STORE
    for line in open(listing):
        if line.strip():
            STORE.tagdb.tag_series(line.strip())
EOF

  local server pid
  if [ -x /usr/bin/gunicorn ] && [ "${SLUICE_GRAPHITE_SERVER:-}" != runserver ]; then
    server=gunicorn
    (cd "$state" && exec $PY /usr/bin/gunicorn --workers "$workers" --worker-class sync \
        --bind "127.0.0.1:$port" --timeout 300 --graceful-timeout 5 --log-level warning \
        --pythonpath "$state" graphite.wsgi:application) >"$state/server.log" 2>&1 &
    pid=$!
  else
    server=runserver
    workers=1
    (cd "$state" && exec $PY -m django runserver --noreload --nothreading "127.0.0.1:$port") \
      >"$state/server.log" 2>&1 &
    pid=$!
  fi
  echo "$pid" >"$state/pid"

  for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "serve.sh: graphite-web exited; log:" >&2
      cat "$state/server.log" >&2
      exit 1
    fi
    if curl -sf -o /dev/null "http://127.0.0.1:$port/version/"; then
      echo "pid=$pid port=$port url=http://127.0.0.1:$port state=$state server=$server workers=$workers"
      return 0
    fi
    sleep 0.1
  done
  echo "serve.sh: graphite-web not ready after 60 s; log:" >&2
  cat "$state/server.log" >&2
  kill -TERM "$pid" 2>/dev/null || true
  exit 1
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  *) usage ;;
esac
