"""python-socketio's ``AsyncServer`` on this package, mounted with
``socketio.ASGIApp`` and served by uvicorn on 127.0.0.1.

Usage: ``python socketio_uvicorn.py [PORT]``; prints ``READY <port>``.
Options for ``socketio.AsyncServer`` come from ``SIO_OPTIONS`` (JSON).
"""
from __future__ import annotations

import socketio
import uvicorn

from socketio_common import OPTIONS, install_async, listen, port_arg, setup_logging

setup_logging()
options = dict(OPTIONS)
options.setdefault('async_mode', 'asgi')
sio = socketio.AsyncServer(**options)
install_async(sio)
app = socketio.ASGIApp(sio)
sock = listen(port_arg())
server = uvicorn.Server(uvicorn.Config(app, log_level='warning',
                                       lifespan='off',
                                       timeout_graceful_shutdown=1))
# Connections made from now on wait in the backlog until uvicorn accepts
# them, so announcing before it runs is safe.
print(f'READY {sock.getsockname()[1]}', flush=True)
server.run(sockets=[sock])
