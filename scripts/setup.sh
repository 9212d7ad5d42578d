#!/usr/bin/env bash
# Set up a fresh machine.
#   scripts/setup.sh demo   a virtual environment (.venv) with the package and
#                           what the demo needs (uvicorn); no Node needed.
#   scripts/setup.sh test   (default) the same with every test dependency,
#                           the npm peers (official engine.io, engine.io-client,
#                           socket.io-client, playwright-core) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }

if [ "$what" = demo ]; then
    pip install --quiet -e '.[asgi]'
    exit 0
fi

apt_install() {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
# uWSGI compiles from PyPI; without OpenSSL headers its WebSocket support is
# left out.
dpkg -s libssl-dev >/dev/null 2>&1 || apt_install libssl-dev

pip install --quiet -e '.[dev]'
# After the package, so that python-socketio & co. keep this python-engineio.
pip install --quiet -r requirements-test.txt
# gunicorn 26 dropped its eventlet worker; the eventlet-worker deployment test
# runs the last gunicorn that has it, kept apart from the main one.
if [ ! -d .venv/gunicorn-eventlet/gunicorn ]; then
    pip install --quiet --no-deps --target .venv/gunicorn-eventlet 'gunicorn==25.3.0'
fi

command -v npm >/dev/null 2>&1 || apt_install nodejs npm
for dir in tests/js tests/js3 tests/compat/js benchmarks/loadgen; do
    if [ -f "$dir/package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
./scripts/setup-browser.sh
