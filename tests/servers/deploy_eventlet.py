"""Serve the echo app with eventlet's WSGI server on 127.0.0.1, as the
manual's eventlet deployment does (no monkey patching)."""
from __future__ import annotations

import sys

import eventlet
import eventlet.wsgi

from echo_app import make_wsgi_app, tls_files

app = make_wsgi_app()
listener = eventlet.listen(('127.0.0.1',
                            int(sys.argv[1]) if len(sys.argv) > 1 else 0))
if tls := tls_files():
    listener = eventlet.wrap_ssl(listener, certfile=tls[0], keyfile=tls[1],
                                server_side=True)
print(f'READY {listener.getsockname()[1]}', flush=True)
eventlet.wsgi.server(listener, app, log_output=False)
