#!/usr/bin/env bash
# One command: set up everything (scripts/setup.sh), then run the whole
# test suite with pytest.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh test
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
