"""Engine.IO mounted in a FastAPI application.

    python examples/server/fastapi_mount.py [PORT]    (default: $PORT or 5000)

FastAPI keeps its routes; the Engine.IO server is mounted at ``/engine.io``,
where clients look for it by default. (Wrapping works too:
``app = engineio.ASGIApp(eio, fastapi_app)`` sends everything that is not
Engine.IO to FastAPI.)
"""
from __future__ import annotations

import os
import socket
import sys

import uvicorn
from fastapi import FastAPI

import engineio

eio = engineio.AsyncServer(async_mode='asgi', logger=True)
app = FastAPI()
app.mount('/engine.io', engineio.ASGIApp(eio))


@app.get('/hello')
async def hello() -> dict[str, str]:
    return {'hello': 'from FastAPI'}


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
    print(f'READY {port} http://127.0.0.1:{port}/hello', flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level='warning')).run(sockets=[sock])
