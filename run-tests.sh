#!/usr/bin/env bash
# One command: set up everything (scripts/setup.sh), then run the tests.
#
#   ./run-tests.sh              the whole suite on the newest Python found
#                               (.venv), in parallel, then the protocol,
#                               driver and peer tests again on the oldest
#                               supported one (.venv-oldest, Python 3.10)
#   ./run-tests.sh ARGS...      pytest ARGS on .venv only, for instance
#                               ./run-tests.sh tests/sansio, -m 'not slow'
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh test
pytest=(-m pytest -q -p no:cacheprovider)
workers=(-n "${EIO_TEST_WORKERS:-2}")
if [ $# -gt 0 ]; then
    exec .venv/bin/python "${pytest[@]}" "$@"
fi
.venv/bin/python "${pytest[@]}" "${workers[@]}"

if [ -z "${PYTHON_OLDEST:-}" ] && ! scripts/find-python.sh 3.10 >/dev/null; then
    if [ "${CI:-}" = true ]; then
        echo "run-tests: no Python 3.10 found" >&2
        exit 1
    fi
    echo "run-tests: no Python 3.10 found: the oldest-Python pass is not run" >&2
    exit 0
fi
./scripts/setup.sh oldest
exec .venv-oldest/bin/python "${pytest[@]}" "${workers[@]}" -m 'not slow' \
    tests/sansio tests/scenarios tests/wire tests/async_server \
    tests/sync_server tests/hardening tests/client tests/compat
