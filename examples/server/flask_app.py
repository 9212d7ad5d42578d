"""Engine.IO in a Flask application, threading mode.

    python examples/server/flask_app.py [PORT]     (default: $PORT or 5000)

The Flask application keeps its routes; ``WSGIApp`` takes the Engine.IO
path (``/engine.io/``) and passes every other request to Flask. Both
transports work under Werkzeug's threaded server: the WSGI server must run
requests in threads, because a polling client has a GET and a POST open at
the same time.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

import engineio

eio = engineio.Server(async_mode='threading', logger=True)
app = Flask(__name__)
app.wsgi_app = engineio.WSGIApp(eio, app.wsgi_app)  # type: ignore[method-assign]


@app.route('/')
def index() -> str:
    return 'Flask is here; Engine.IO listens on /engine.io/'


@eio.on('connect')
def connect(sid: str, environ: dict[str, Any]) -> None:
    print('connect', sid, environ.get('REMOTE_ADDR'), flush=True)


@eio.on('message')
def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


@eio.on('disconnect')
def disconnect(sid: str, reason: str) -> None:
    print('disconnect', sid, reason, flush=True)


if __name__ == '__main__':
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 5000))
    # app.run(threaded=True) does the same; make_server also tells us the
    # port when 0 asked for any free one.
    server = make_server('127.0.0.1', port, app, threaded=True)
    port = server.server_port
    print(f'READY {port} http://127.0.0.1:{port}/', flush=True)
    server.serve_forever()
