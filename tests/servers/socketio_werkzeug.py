"""python-socketio's ``Server`` on this package, served by Werkzeug's
threaded server on 127.0.0.1 (``socketio.WSGIApp``).

Usage: ``python socketio_werkzeug.py [PORT]``; prints ``READY <port>``.
Options for ``socketio.Server`` come from ``SIO_OPTIONS`` (JSON).
"""
from __future__ import annotations

import socketio
from werkzeug.serving import make_server

from socketio_common import OPTIONS, install, port_arg, setup_logging

setup_logging()
options = dict(OPTIONS)
options.setdefault('async_mode', 'threading')
sio = socketio.Server(**options)
install(sio)
server = make_server('127.0.0.1', port_arg(), socketio.WSGIApp(sio),
                     threaded=True)
print(f'READY {server.server_port}', flush=True)
server.serve_forever()
