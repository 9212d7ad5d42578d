"""The echo app as a module-level WSGI app for ``gunicorn -w N
cluster_wsgi:app`` (every worker process imports it; no --preload).

Options come from ``EIO_OPTIONS`` (JSON) like every test server:
``engineio.Server(**options)`` with the echo app's handlers
(tests/servers/echo_app.py); the launcher sets ``async_mode`` for the
gunicorn worker class.  Each worker prints ``WORKER <pid>`` once it has
built the app, and HTTP responses (not WebSocket ones) carry
``X-Worker-Pid`` so a test can tell the workers apart.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from echo_app import make_wsgi_app

_PID = str(os.getpid())
_eio_app = make_wsgi_app()


def app(environ: dict[str, Any], start_response: Any) -> Any:
    if environ.get('HTTP_UPGRADE'):
        return _eio_app(environ, start_response)

    def tagged_start_response(status: str, headers: list[tuple[str, str]],
                              *args: Any) -> Any:
        return start_response(status, [*headers, ('X-Worker-Pid', _PID)],
                              *args)

    return _eio_app(environ, tagged_start_response)


# One write(2) of a short line: the workers share one pipe, and print()'s
# separate writes of the text and the newline would interleave.
sys.stdout.flush()
os.write(sys.stdout.fileno(), f'WORKER {os.getpid()}\n'.encode())
