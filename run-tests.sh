#!/usr/bin/env bash
# One command: set up (venv + npm peers), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
