#!/usr/bin/env bash
# Set up everything the tests and the demo need on a fresh machine:
# a virtual environment with the package and its test dependencies, and the
# npm test peers (the official engine.io / engine.io-client packages).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
if [ -f requirements-test.txt ]; then
    .venv/bin/python -m pip install --quiet -r requirements-test.txt
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
    fi
fi
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
