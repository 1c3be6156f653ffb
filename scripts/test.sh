#!/usr/bin/env bash
# test.sh - set up and run the whole test suite, as CI does.
#
#   scripts/test.sh        (on a fresh Debian machine, as root or with sudo)
#
# 1. installs what the build and the tests need (Debian packages, and the
#    browser test's npm packages) when missing;
# 2. builds with warnings as errors and runs every unit and integration
#    test (the integration tests start their own `crisisrun inbox` on a free
#    loopback port);
# 3. builds again with AddressSanitizer and UBSan and runs everything again;
# 4. builds with ThreadSanitizer and runs the tests that exercise the
#    journal's writer thread (fan-outs, resume, kills, storage faults);
# 5. runs the integration tests that drive a real run under valgrind;
# 6. runs every libFuzzer harness for 30 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Test-only packages: valgrind and clang (sanitizers, fuzzing), the JSON
# Schema checker (python3-jsonschema, python3-yaml), strace (plan opens no
# socket), util-linux's `script` (a terminal for the live view), Chromium
# and Node.js (the browser test).
export CRISISRUN_EXTRA_PACKAGES="valgrind clang python3-jsonschema python3-yaml strace \
    bsdutils chromium ${CRISISRUN_EXTRA_PACKAGES:-}"
# Node.js from Debian only where there is none: a machine may carry its own
# Node.js and npm, which Debian's npm package cannot be installed beside.
command -v npm >/dev/null || CRISISRUN_EXTRA_PACKAGES+=" nodejs npm"
scripts/setup.sh build -DCRISISRUN_WERROR=ON
tests/browser/setup.sh

echo "== tests (plain build)"
ctest --test-dir build --output-on-failure -j2 -LE valgrind

echo "== tests (ASan + UBSan build)"
scripts/setup.sh build-asan -DCRISISRUN_WERROR=ON -DCRISISRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2 -LE valgrind

echo "== the journal's writer thread and test_delivery's threaded receiver (ThreadSanitizer build)"
scripts/setup.sh build-tsan -DCRISISRUN_WERROR=ON -DCRISISRUN_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -j2 -LE valgrind \
    -R 'journal|fanout|resume|gauntlet_kill|gauntlet_storage|control_ack|run_faults|commit_wakeup|test_delivery$'

echo "== integration tests under valgrind"
ctest --test-dir build --output-on-failure -j2 -L valgrind

# libFuzzer needs clang, which the set-up above installs; every harness
# runs briefly so that a parser change that crashes is caught here.
if command -v clang >/dev/null; then
    echo "== fuzzing (30 s a harness)"
    scripts/fuzz.sh 30
fi
