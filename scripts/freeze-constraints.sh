#!/usr/bin/env bash
# Renew the pins of one environment: constraints/py<X.Y>.txt from what an
# unpinned install of the test dependencies resolves to today.
#   scripts/freeze-constraints.sh [python]   (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -e '.[dev]' -r requirements-test.txt
pyver=$("$tmp/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
mkdir -p constraints
{
    echo "# Pins for Python $pyver, made by scripts/freeze-constraints.sh on $(date -u +%F)."
    "$tmp/venv/bin/python" -m pip freeze --exclude-editable | grep -v '^python-engineio=='
} > "constraints/py$pyver.txt"
echo "wrote constraints/py$pyver.txt"
