#!/usr/bin/env bash
# fuzz.sh [SECONDS] - build every libFuzzer harness once and run each for
# SECONDS (default 30), one after the other; print a summary.
#
#   scripts/fuzz.sh 30       (CI: needs clang; 5 harnesses = 2.5 minutes)
#   scripts/fuzz.sh 600      (a longer hunt)
#
# The harnesses are tests/fuzz/fuzz_*.c, built in build-fuzz/ (FUZZ_BUILD_DIR
# overrides) and run by tests/fuzz/run.sh; each run's output is kept in
# build-fuzz/logs/.  Exit status: 0 when no harness found anything, 1 when
# one did (its crash input is in build-fuzz/artifacts/: add it to
# tests/data/fuzz-regressions/NAME/, see docs/fuzzing.md), 2 when clang or
# the build is missing.
set -uo pipefail
seconds=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
export FUZZ_BUILD_DIR=$build

case $seconds in
'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;;
esac
if ! command -v clang >/dev/null; then
    echo "fuzz.sh: clang is not installed (the harnesses need libFuzzer)" >&2
    exit 2
fi

harnesses=()
for src in "$root"/tests/fuzz/fuzz_*.c; do
    harnesses+=("$(basename "$src" .c)")
done

echo "== building ${#harnesses[@]} fuzz harnesses in $build"
if ! CC=clang cmake -S "$root" -B "$build" -G Ninja -DCRISISRUN_FUZZ=ON -DCRISISRUN_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
    ! ninja -C "$build" -j2 "${harnesses[@]}"; then
    echo "fuzz.sh: the build failed" >&2
    exit 2
fi

mkdir -p "$build/logs"
status=0
summary=()
for h in "${harnesses[@]}"; do
    log=$build/logs/$h.log
    echo "== $h: ${seconds}s"
    FUZZ_SKIP_BUILD=1 "$root/tests/fuzz/run.sh" "$h" "$seconds" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
    if [ "$rc" = 0 ]; then
        summary+=("$(printf '%-16s ok     %10s runs  %s' "$h" "${runs:-?}" "${cov:-}")")
    else
        status=1
        crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n1)
        summary+=("$(printf '%-16s FAILED (exit %s) %s' "$h" "$rc" "${crash:-see $log}")")
        echo "-- $h failed; the end of $log:"
        tail -n 40 "$log"
    fi
done

echo "== fuzzing summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
exit $status
