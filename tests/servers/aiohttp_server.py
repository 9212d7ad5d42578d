"""Serve the echo app with aiohttp on 127.0.0.1 (``eio.attach(app)``), on
uvloop as docs/deployment.md recommends (tornado's and hypercorn's tests run
the asyncio loop)."""
from __future__ import annotations

import asyncio

from aiohttp import web

from asgi_common import listen, make_server, ready


async def main() -> None:
    eio = make_server('aiohttp')
    app = web.Application()
    eio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = listen()
    await web.SockSite(runner, sock).start()
    ready(sock)
    await asyncio.Event().wait()


try:
    from uvloop import run
except ImportError:  # not installed: asyncio's own loop
    run = asyncio.run
run(main())
