"""Engine.IO in a tornado application.

    python examples/server/tornado_app.py [PORT]      (default: $PORT or 5000)
"""
from __future__ import annotations

import asyncio
import os
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web

import engineio

eio = engineio.AsyncServer(async_mode='tornado', logger=True)


class IndexHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write('tornado is here; Engine.IO listens on /engine.io/')


@eio.on('message')
async def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    await eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


async def main(port: int) -> None:
    app = tornado.web.Application([
        (r'/engine.io/', engineio.get_tornado_handler(eio)),
        (r'/', IndexHandler),
    ])
    sockets = tornado.netutil.bind_sockets(port, '127.0.0.1')
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    print(f'READY {port} http://127.0.0.1:{port}/', flush=True)
    await asyncio.Event().wait()  # serve until interrupted


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1] if len(sys.argv) > 1
                         else os.environ.get('PORT', 5000))))
