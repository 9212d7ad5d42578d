#!/usr/bin/env bash
# Set up a fresh machine.
#   scripts/setup.sh demo   a virtual environment (.venv) with the package and
#                           what the demo needs (aiohttp, uvloop); no Node needed.
#   scripts/setup.sh test   (default) the same with every test dependency,
#                           the npm peers (official engine.io, engine.io-client,
#                           socket.io-client, playwright-core) and Chromium.
#   scripts/setup.sh oldest a second environment (.venv-oldest) on the oldest
#                           supported Python, with the test dependencies.
#
# Python: $PYTHON if set, else the newest of python3.13 ... python3.10 found,
# else python3 (.venv-oldest: $PYTHON_OLDEST, else python3.10).
# Versions: every package is pinned by constraints/py<X.Y>.txt for the
# environment's Python, so a new release upstream cannot change a run without
# a change here; scripts/freeze-constraints.sh renews a file.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-test}

newest_python() {
    for v in 3.13 3.12 3.11 3.10; do
        if scripts/find-python.sh "$v"; then
            return
        fi
    done
    echo python3
}

venv=.venv
if [ "$what" = oldest ]; then
    venv=.venv-oldest
    PY=${PYTHON_OLDEST:-$(scripts/find-python.sh 3.10 || echo python3.10)}
else
    PY=${PYTHON:-$(newest_python)}
fi
if [ ! -x "$venv/bin/python" ]; then
    "$PY" -m venv "$venv"
fi
pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
constraints=constraints/py$pyver.txt
if [ -f "$constraints" ]; then
    pin=(-c "$constraints")
else
    echo "setup: no $constraints: installing unpinned versions" >&2
    pin=()
fi
pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@"; }

if [ "$what" = demo ]; then
    pip install --quiet "${pin[@]}" -e '.[aiohttp]'
    exit 0
fi

apt_install() {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
# uWSGI compiles from PyPI; without OpenSSL headers its WebSocket support is
# left out.
dpkg -s libssl-dev >/dev/null 2>&1 || apt_install libssl-dev
# The cluster tests (tests/cluster) run a real Redis and put HAProxy in front
# of several server processes.
missing=()
for pkg in redis-server haproxy; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi

pip install --quiet "${pin[@]}" -e '.[dev]'
# After the package, so that python-socketio & co. keep this python-engineio.
pip install --quiet "${pin[@]}" -r requirements-test.txt
# gunicorn 26 dropped its eventlet worker; the eventlet-worker deployment test
# runs the last gunicorn that has it, kept apart from the main one.
if [ ! -d "$venv/gunicorn-eventlet/gunicorn" ]; then
    pip install --quiet --no-deps --target "$venv/gunicorn-eventlet" 'gunicorn==25.3.0'
fi

command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if [ "$what" = oldest ]; then
    exit 0  # the npm peers and the browser are shared with .venv's setup
fi
for dir in tests/js tests/js3 tests/compat/js benchmarks/loadgen; do
    if [ -f "$dir/package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
./scripts/setup-browser.sh
