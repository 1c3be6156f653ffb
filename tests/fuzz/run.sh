#!/usr/bin/env bash
# run.sh HARNESS SECONDS - build a libFuzzer harness with clang and run it.
#
#   tests/fuzz/run.sh fuzz_loader 180
#
# Builds in build-fuzz/ (CRISISRUN_FUZZ=ON), seeds a working corpus from
# tests/fuzz/corpus/, tests/data/ and playbooks/, and fuzzes for SECONDS.
# Crashes land in build-fuzz/artifacts/; turn each one into a test file in
# tests/data/invalid/ with its expected diagnostics.  Exit status is the
# fuzzer's: non-zero when it found something.
set -euo pipefail
harness=${1:?usage: tests/fuzz/run.sh HARNESS SECONDS}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=clang cmake -S "$root" -B "$build" -G Ninja -DCRISISRUN_FUZZ=ON -DCRISISRUN_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j2 "$harness"

corpus=$build/corpus-$harness
mkdir -p "$corpus" "$build/artifacts"
for f in "$root"/tests/fuzz/corpus/* "$root"/tests/data/valid/*.yaml \
    "$root"/tests/data/invalid/*.yaml "$root"/playbooks/*.yaml; do
    [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done

dict=()
[ -f "$root/tests/fuzz/${harness#fuzz_}.dict" ] && dict=(-dict="$root/tests/fuzz/${harness#fuzz_}.dict")

cd "$build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/$harness" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/" -print_final_stats=1 \
    "$corpus"
