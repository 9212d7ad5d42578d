"""The echo app mounted at ``/eio`` inside a Starlette (or, with the
argument ``fastapi``, a FastAPI) application, served by uvicorn.

The host application answers ``/hello`` itself, so a test can check that
both applications work side by side.
"""
from __future__ import annotations

import sys

import uvicorn
from starlette.responses import PlainTextResponse

from asgi_common import listen, make_asgi_app, ready


def hello(request: object) -> PlainTextResponse:
    return PlainTextResponse('hello from the host app')


if sys.argv[1:] == ['fastapi']:
    from fastapi import FastAPI

    app = FastAPI()
    app.add_api_route('/hello', hello)
    app.mount('/eio', make_asgi_app())
else:
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    app = Starlette(routes=[Route('/hello', hello),
                            Mount('/eio', app=make_asgi_app())])

sock = listen()
server = uvicorn.Server(uvicorn.Config(app, log_level='warning'))
ready(sock)
server.run(sockets=[sock])
