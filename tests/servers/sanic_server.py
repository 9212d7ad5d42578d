"""Serve the echo app with sanic on 127.0.0.1 (``eio.attach(app)``)."""
from __future__ import annotations

from sanic import Sanic

from asgi_common import listen, make_server, ready

eio = make_server('sanic')
app = Sanic('engineio_echo')
eio.attach(app)
sock = listen()
ready(sock)
app.run(sock=sock, single_process=True, access_log=False, motd=False)
