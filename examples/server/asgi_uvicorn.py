"""Engine.IO as an ASGI application under uvicorn.

    python examples/server/asgi_uvicorn.py [PORT]     (default: $PORT or 5000)
    uvicorn asgi_uvicorn:app --host 127.0.0.1 --port 5000   (from this folder)

Any ASGI server (uvicorn, hypercorn, daphne) runs ``app``.
"""
from __future__ import annotations

import os
import socket
import sys

import uvicorn

import engineio

eio = engineio.AsyncServer(async_mode='asgi', logger=True)
app = engineio.ASGIApp(eio)


@eio.on('message')
async def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    await eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


if __name__ == '__main__':
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 5000))
    # Bind first, so port 0 (any free port) can be reported.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    port = sock.getsockname()[1]
    print(f'READY {port} http://127.0.0.1:{port}/engine.io/', flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level='warning')).run(sockets=[sock])
