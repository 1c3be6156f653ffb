#!/usr/bin/env bash
# run.sh HARNESS SECONDS - build a libFuzzer harness with clang and run it.
#
#   tests/fuzz/run.sh fuzz_loader 180
#
# Builds in build-fuzz/ (CRISISRUN_FUZZ=ON; FUZZ_BUILD_DIR overrides; with
# FUZZ_SKIP_BUILD=1 the harness must already be built there), seeds a
# working corpus from tests/fuzz/corpus/NAME/ and tests/data/fuzz-regressions/NAME/
# (NAME is the harness without "fuzz_"; the loader also takes tests/data/
# and playbooks/), and fuzzes for SECONDS with tests/fuzz/NAME.dict.
# Crashes land in build-fuzz/artifacts/; copy each one into
# tests/data/fuzz-regressions/NAME/ (tests/unit/test_fuzz_regressions.c
# replays it) and fix the bug (docs/fuzzing.md).  Exit status is the
# fuzzer's: non-zero when it found something.
set -euo pipefail
harness=${1:?usage: tests/fuzz/run.sh HARNESS SECONDS}
seconds=${2:-60}
name=${harness#fuzz_}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
    CC=clang cmake -S "$root" -B "$build" -G Ninja -DCRISISRUN_FUZZ=ON -DCRISISRUN_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    ninja -C "$build" -j2 "$harness"
fi

corpus=$build/corpus-$harness
mkdir -p "$corpus" "$build/artifacts"
seeds=("$root/tests/fuzz/corpus/$name"/* "$root/tests/data/fuzz-regressions/$name"/*)
if [ "$name" = loader ]; then
    seeds+=("$root"/tests/data/valid/*.yaml "$root"/tests/data/invalid/*.yaml
        "$root"/playbooks/*.yaml)
fi
for f in "${seeds[@]}"; do
    [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done

dict=()
[ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")
# The CSV import reports every bad row through error(): its stderr is
# closed (libFuzzer keeps its own output and the sanitizers' reports).
quiet=()
[ "$name" = csv ] && quiet=(-close_fd_mask=2)
# Room for one field over CSV_MAX_FIELD (64 KiB) in a CSV file.
max_len=65536
[ "$name" = csv ] && max_len=80000

cd "$build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/$harness" "${dict[@]}" "${quiet[@]}" -max_total_time="$seconds" \
    -max_len=$max_len -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/$harness-" \
    -print_final_stats=1 "$corpus"
