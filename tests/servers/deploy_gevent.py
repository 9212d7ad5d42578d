"""Serve the echo app with gevent's pywsgi server on 127.0.0.1, as the
manual's gevent deployment does (no monkey patching).

With ``--websocket-handler`` the server uses gevent-websocket's handler
(``wsgi.websocket`` in the environ); without it, WebSocket runs over the
request's raw socket.
"""
from __future__ import annotations

import sys

from gevent import pywsgi

from echo_app import make_wsgi_app, tls_files

args = [a for a in sys.argv[1:] if not a.startswith('--')]
options: dict[str, object] = {'log': None}
if '--websocket-handler' in sys.argv:
    from geventwebsocket.handler import WebSocketHandler
    options['handler_class'] = WebSocketHandler
if tls := tls_files():
    options['certfile'], options['keyfile'] = tls

server = pywsgi.WSGIServer(('127.0.0.1', int(args[0]) if args else 0),
                           make_wsgi_app(), **options)
server.start()
print(f'READY {server.server_port}', flush=True)
server.serve_forever()
