"""Engine.IO attached to a Sanic application.

    python examples/server/sanic_app.py [PORT]        (default: $PORT or 5000)
"""
from __future__ import annotations

import os
import socket
import sys

from sanic import Sanic
from sanic.response import text

import engineio

eio = engineio.AsyncServer(async_mode='sanic', logger=True)
app = Sanic('engineio_example')
eio.attach(app)


@app.get('/')
async def index(request: object) -> object:
    return text('Sanic is here; Engine.IO listens on /engine.io/')


@eio.on('message')
async def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    await eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


if __name__ == '__main__':
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 5000))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    port = sock.getsockname()[1]
    print(f'READY {port} http://127.0.0.1:{port}/', flush=True)
    # One process: Sanic's worker processes would each need the socket.
    app.run(sock=sock, single_process=True, access_log=False, motd=False)
