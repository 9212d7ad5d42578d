"""Serve the echo app with eventlet's WSGI server on 127.0.0.1, as the
manual's eventlet deployment does (no monkey patching)."""
from __future__ import annotations

import sys

import eventlet
import eventlet.wsgi

from echo_app import make_wsgi_app

app = make_wsgi_app()
listener = eventlet.listen(('127.0.0.1',
                            int(sys.argv[1]) if len(sys.argv) > 1 else 0))
print(f'READY {listener.getsockname()[1]}', flush=True)
eventlet.wsgi.server(listener, app, log_output=False)
