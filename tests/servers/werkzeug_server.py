"""Serve the echo app with Werkzeug's threaded server on 127.0.0.1."""
from __future__ import annotations

import sys

from werkzeug.serving import make_server

from echo_app import make_wsgi_app, tls_files

server = make_server('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 0,
                     make_wsgi_app(), threaded=True,
                     ssl_context=tls_files())
print(f'READY {server.server_port}', flush=True)
server.serve_forever()
