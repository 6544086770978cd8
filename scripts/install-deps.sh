#!/usr/bin/env bash
# Installs every Debian package Sluice needs to build, test and benchmark.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

BUILD_PKGS=(g++ cmake make pkg-config
  libboost1.81-dev libsimdjson-dev libre2-dev libtoml11-dev libcli11-dev
  libfmt-dev libspdlog-dev zlib1g-dev libsqlite3-dev libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev)
TEST_PKGS=(curl python3 postgresql)
BENCH_PKGS=(wrk nginx-light influxdb influxdb-client)
# graphite-web 1.1.8 as golden oracle and benchmark peer (tools/graphite/).
GRAPHITE_PKGS=(python3 curl graphite-web python3-whisper gunicorn)

want=("${BUILD_PKGS[@]}")
case "${1:-build}" in
  build) ;;
  # graphite-web too: tests/graphite_side_by_side_test.cc runs it as the reference.
  test) want+=("${TEST_PKGS[@]}" "${GRAPHITE_PKGS[@]}") ;;
  bench) want+=("${TEST_PKGS[@]}" "${BENCH_PKGS[@]}" "${GRAPHITE_PKGS[@]}") ;;
  graphite) want+=("${GRAPHITE_PKGS[@]}") ;;
  *) echo "usage: $0 [build|test|bench|graphite]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
