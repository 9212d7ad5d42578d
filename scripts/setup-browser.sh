#!/usr/bin/env bash
# Set up what the browser tests (tests/browser) need, on top of setup.sh:
# Debian's Chromium (/usr/bin/chromium, installed with apt-get when missing)
# and the npm packages of tests/browser (playwright-core, engine.io-client).
# playwright-core never downloads a browser: the tests run Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup-browser: /usr/bin/chromium is missing and apt-get is not available" >&2
        exit 1
    fi
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version

if ! command -v npm >/dev/null 2>&1; then
    echo "setup-browser: npm is missing (scripts/setup.sh installs it)" >&2
    exit 1
fi
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
