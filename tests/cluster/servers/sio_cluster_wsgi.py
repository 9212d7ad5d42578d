"""One cluster worker: python-socketio's ``Server`` (threading) with
``client_manager=socketio.RedisManager(url)`` and ``cluster=url`` (the
same Redis), under Werkzeug's threaded server on 127.0.0.1; prints
``READY <port>``.

Options (``cluster`` included) come from ``EIO_OPTIONS`` (JSON); the
events are in sio_cluster_app.py.
"""
from __future__ import annotations

import socketio
from sio_cluster_app import install, server_options
from werkzeug.serving import make_server

from socketio_common import setup_logging

setup_logging()
options = server_options('threading')
sio = socketio.Server(
    client_manager=socketio.RedisManager(options['cluster']), **options)
server = make_server('127.0.0.1', 0, install(sio), threaded=True)
print(f'READY {server.server_port}', flush=True)
server.serve_forever()
