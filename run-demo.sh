#!/usr/bin/env bash
# One command: set up (.venv with the package, aiohttp and uvloop), then serve the
# Engine.IO demo on 127.0.0.1 (port from $PORT, default 8000).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh demo
exec .venv/bin/python -m engineio.demo --host 127.0.0.1 --port "${PORT:-8000}" "$@"
