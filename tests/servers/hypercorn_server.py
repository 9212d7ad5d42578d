"""Serve the echo app with hypercorn on 127.0.0.1."""
from __future__ import annotations

import asyncio

from hypercorn.asyncio import serve
from hypercorn.config import Config

from asgi_common import listen, make_asgi_app, ready

sock = listen()
config = Config()
config.bind = [f'fd://{sock.fileno()}']
config.loglevel = 'WARNING'
config.graceful_timeout = 1
ready(sock)
asyncio.run(serve(make_asgi_app(), config))  # type: ignore[arg-type]
