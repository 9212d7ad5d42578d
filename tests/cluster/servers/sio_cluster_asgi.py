"""One cluster worker: python-socketio's ``AsyncServer`` (asgi) with
``client_manager=socketio.AsyncRedisManager(url)`` and ``cluster=url``
(the same Redis), under uvicorn on 127.0.0.1; prints ``READY <port>``.

Options (``cluster`` included) come from ``EIO_OPTIONS`` (JSON); the
events are in sio_cluster_app.py.
"""
from __future__ import annotations

import socketio
import uvicorn
from sio_cluster_app import install_async, server_options

from socketio_common import listen, setup_logging

setup_logging()
options = server_options('asgi')
sio = socketio.AsyncServer(
    client_manager=socketio.AsyncRedisManager(options['cluster']), **options)
app = install_async(sio)
sock = listen()
server = uvicorn.Server(uvicorn.Config(app, log_level='warning',
                                       lifespan='off',
                                       timeout_graceful_shutdown=1))
# Connections made from now on wait in the backlog until uvicorn accepts
# them, so announcing before it runs is safe.
print(f'READY {sock.getsockname()[1]}', flush=True)
server.run(sockets=[sock])
