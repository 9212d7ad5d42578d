"""The demo server plus the page of the official engine.io-client bundle,
for tests/browser/drive.js ``--scenario official``.

Serves on 127.0.0.1 (port from argv, default: any free port) and prints
``READY <port>``. The bundle comes from this folder's ``node_modules``
(installed by ``npm ci``); it is never committed.
"""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn

from engineio.demo import create_app

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / 'node_modules' / 'engine.io-client' / 'dist' / 'engine.io.js'

if not BUNDLE.is_file():
    sys.exit(f'{BUNDLE} is missing: run "npm ci" in {HERE}')

_, app = create_app(static_files={
    '/official.html': str(HERE / 'official.html'),
    '/official/engine.io.js': str(BUNDLE),
})
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 0))
sock.listen(128)
print(f'READY {sock.getsockname()[1]}', flush=True)
uvicorn.Server(uvicorn.Config(app, log_level='warning')).run(sockets=[sock])
