#!/usr/bin/env bash
# Runs the libFuzzer targets built in $BUILD (default build-fuzz). See fuzz/README.md.
#
#   fuzz/run.sh regress             replay fuzz/corpus and fuzz/regressions through every target,
#                                   strict (SLUICE_FUZZ_STRICT=1); exits non-zero if any input fails
#   fuzz/run.sh fuzz TARGET [SECS]  fuzz TARGET for SECS seconds (default 180) on one core; the
#                                   growing corpus goes to $BUILD/fuzz-corpus/TARGET, crashes to
#                                   $BUILD/fuzz-artifacts/TARGET/
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-fuzz}
TARGETS=(fuzz_query fuzz_endpoints fuzz_name_matcher fuzz_time fuzz_json_writer fuzz_line_protocol fuzz_chunk
  fuzz_expr fuzz_render)

dict_for() {
  case "$1" in
    fuzz_query | fuzz_endpoints) echo "-dict=fuzz/dict/protocol.dict" ;;
    fuzz_name_matcher) echo "-dict=fuzz/dict/name_matcher.dict" ;;
    fuzz_time) echo "-dict=fuzz/dict/time.dict" ;;
    fuzz_line_protocol) echo "-dict=fuzz/dict/line_protocol.dict" ;;
    fuzz_expr | fuzz_render) echo "-dict=fuzz/dict/expr.dict" ;;
  esac
}

case "${1:-}" in
  regress)
    status=0
    for t in "${TARGETS[@]}"; do
      inputs=$(find "fuzz/corpus/$t" "fuzz/regressions/$t" -type f 2>/dev/null | sort || true)
      [ -z "$inputs" ] && continue
      for f in $inputs; do
        if ! SLUICE_FUZZ_STRICT=1 "$BUILD/bin/$t" -timeout=5 -rss_limit_mb=2048 "$f" >/dev/null 2>&1; then
          echo "FAIL $t $f"
          status=1
        fi
      done
      echo "done $t"
    done
    exit $status
    ;;
  fuzz)
    t=${2:?target}
    secs=${3:-180}
    mkdir -p "$BUILD/fuzz-corpus/$t" "$BUILD/fuzz-artifacts/$t"
    # fork mode with one worker keeps going after a crash, so one run can report several findings.
    exec "$BUILD/bin/$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 $(dict_for "$t") \
      -artifact_prefix="$BUILD/fuzz-artifacts/$t/" "$BUILD/fuzz-corpus/$t" "fuzz/corpus/$t"
    ;;
  *)
    sed -n '2,9p' "$0"
    exit 2
    ;;
esac
