"""Serve the echo app with uvicorn on 127.0.0.1.

Arguments are passed to ``uvicorn.Config``: ``loop=asyncio http=h11``...
"""
from __future__ import annotations

import sys

import uvicorn

from asgi_common import listen, make_asgi_app, ready
from echo_app import tls_files

options = dict(arg.split('=', 1) for arg in sys.argv[1:])
if tls := tls_files():
    options['ssl_certfile'], options['ssl_keyfile'] = tls
sock = listen()
config = uvicorn.Config(make_asgi_app(), log_level='warning', **options)
server = uvicorn.Server(config)
ready(sock)
server.run(sockets=[sock])
