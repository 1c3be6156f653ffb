#!/usr/bin/env bash
# tests/browser/setup.sh - installs the browser test's one npm dependency
# (playwright-core, pinned by package-lock.json) into tests/browser/node_modules,
# once: a test set-up step, not something every test run does.  The browser
# itself is the system's Chromium (Debian package `chromium`); playwright-core
# downloads nothing.
set -euo pipefail
cd "$(dirname "$0")"
if [[ -f node_modules/playwright-core/package.json ]] &&
    [[ "$(node -p 'require("./node_modules/playwright-core/package.json").version')" == \
       "$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')" ]]; then
    exit 0
fi
command -v npm >/dev/null || { echo "tests/browser/setup.sh: npm is missing (apt-get install nodejs npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
