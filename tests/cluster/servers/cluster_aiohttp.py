"""The echo app as a module-level aiohttp application for
``gunicorn -k aiohttp.GunicornUVLoopWebWorker -w N cluster_aiohttp:app``
(every worker process imports it).

Options come from ``EIO_OPTIONS`` (JSON) like every test server:
``engineio.AsyncServer(async_mode='aiohttp', **options)`` with the echo
app's handlers.  Each worker prints ``WORKER <pid>`` once it has built the
app, and HTTP responses carry ``X-Worker-Pid``.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from aiohttp import web

from asgi_common import make_server

_PID = str(os.getpid())


@web.middleware
async def tag_worker(request: web.Request, handler: Any) -> Any:
    response = await handler(request)
    if not isinstance(response, web.WebSocketResponse):
        response.headers['X-Worker-Pid'] = _PID
    return response

app = web.Application(middlewares=[tag_worker])
make_server('aiohttp').attach(app)

# One write(2) of a short line: the workers share one pipe.
sys.stdout.flush()
os.write(sys.stdout.fileno(), f'WORKER {os.getpid()}\n'.encode())
