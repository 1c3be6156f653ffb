#!/usr/bin/env bash
# test.sh - set up and run the whole test suite.
#
# Builds twice: a normal build (warnings as errors) and an ASan+UBSan build,
# and runs every unit and integration test in both.  Integration tests start
# their own `crisisrun inbox` on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."

CRISISRUN_EXTRA_PACKAGES="valgrind clang python3-jsonschema python3-yaml strace ${CRISISRUN_EXTRA_PACKAGES:-}" \
    scripts/setup.sh build -DCRISISRUN_WERROR=ON
ctest --test-dir build --output-on-failure -j2

scripts/setup.sh build-asan -DCRISISRUN_WERROR=ON -DCRISISRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2
