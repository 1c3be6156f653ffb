#!/usr/bin/env bash
# setup.sh - install what crisisrun needs on Debian (when missing) and build it.
#
#   scripts/setup.sh [BUILD_DIR] [CMAKE_OPTION...]
#
# Installs the Debian packages of DESIGN.md with apt-get (as root, or through
# sudo) only when one is missing, then configures and builds with CMake.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config
          libyaml-dev libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev
          libjansson-dev libssl-dev libcmocka-dev
          ca-certificates sqlite3 curl python3 ${CRISISRUN_EXTRA_PACKAGES:-})
# python3-jsonschema and python3-yaml check the JSON Schema independently of
# the loader (tests only); they are part of the test set-up in test.sh.

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${1:-build}
shift || true
cmake -S . -B "$BUILD_DIR" -G Ninja "$@" >/dev/null
cmake --build "$BUILD_DIR"
