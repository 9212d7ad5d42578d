"""Serve the echo app with tornado on 127.0.0.1
(``engineio.get_tornado_handler``)."""
from __future__ import annotations

import asyncio

import tornado.httpserver
import tornado.web

import engineio

from asgi_common import listen, make_server, ready


async def main() -> None:
    eio = make_server('tornado')
    app = tornado.web.Application(
        [(r'/engine.io/', engineio.get_tornado_handler(eio))])
    server = tornado.httpserver.HTTPServer(app)
    sock = listen()
    server.add_sockets([sock])
    ready(sock)
    await asyncio.Event().wait()


asyncio.run(main())
