"""Engine.IO attached to an aiohttp application, on uvloop when it is
installed (``pip install 'engineio[aiohttp]'``): the fastest deployment.

    python examples/server/aiohttp_app.py [PORT]      (default: $PORT or 5000)
"""
from __future__ import annotations

import asyncio
import os
import socket
import sys

from aiohttp import web

import engineio

eio = engineio.AsyncServer(async_mode='aiohttp', logger=True)
app = web.Application()
eio.attach(app)


async def index(request: web.Request) -> web.Response:
    return web.Response(text='aiohttp is here; Engine.IO listens on /engine.io/')

app.router.add_get('/', index)


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
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    web.run_app(app, sock=sock, print=None, access_log=None, loop=loop)
