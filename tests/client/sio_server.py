"""A python-socketio server on this project's Engine.IO server (Werkzeug,
threading), for tests/client/test_socketio_compat.py.

Prints ``READY <port>``; the port can be given as the first argument.
"""
from __future__ import annotations

import sys
from typing import Any

import socketio
from werkzeug.serving import make_server

sio = socketio.Server(async_mode='threading', ping_interval=1,
                      ping_timeout=1)


@sio.on('echo')
def echo(sid: str, data: Any) -> Any:
    return data  # the acknowledgement


@sio.on('kick')
def kick(sid: str) -> None:
    sio.disconnect(sid)


@sio.on('ask')
def ask(sid: str) -> None:
    sio.emit('question', to=sid)


@sio.on('bin')
def binary(sid: str, data: Any) -> None:
    sio.emit('bin_reply', data, to=sid)


port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
server = make_server('127.0.0.1', port, socketio.WSGIApp(sio), threaded=True)
print(f'READY {server.server_port}', flush=True)
server.serve_forever()
