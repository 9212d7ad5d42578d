"""The echo app as a module-level ASGI app for ``uvicorn --workers N
cluster_asgi:app`` (an import string: every worker process imports it).

Options come from ``EIO_OPTIONS`` (JSON) like every test server:
``engineio.AsyncServer(async_mode='asgi', **options)`` with the echo app's
handlers (tests/servers/echo_app.py).  Each worker prints
``WORKER <pid>`` once it has built the app, and HTTP responses carry
``X-Worker-Pid`` so a test can tell the workers apart.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from asgi_common import make_asgi_app

_PID = str(os.getpid()).encode()
_eio_app = make_asgi_app()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope['type'] != 'http':
        await _eio_app(scope, receive, send)
        return

    async def tagged_send(message: dict[str, Any]) -> None:
        if message['type'] == 'http.response.start':
            message = dict(message)
            message['headers'] = [*message.get('headers', []),
                                  (b'x-worker-pid', _PID)]
        await send(message)

    await _eio_app(scope, receive, tagged_send)


# One write(2) of a short line: the workers share one pipe, and print()'s
# separate writes of the text and the newline would interleave.
sys.stdout.flush()
os.write(sys.stdout.fileno(), f'WORKER {os.getpid()}\n'.encode())
