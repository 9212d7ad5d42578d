"""The echo app mounted in a Flask application, served the way the manual
shows: ``app.wsgi_app = engineio.WSGIApp(eio, app.wsgi_app)`` and
``app.run(threaded=True)``."""
from __future__ import annotations

import socket

from flask import Flask

import engineio

from echo_app import OPTIONS, install

eio = engineio.Server(**OPTIONS)
install(eio)
app = Flask(__name__)
app.wsgi_app = engineio.WSGIApp(eio, app.wsgi_app)  # type: ignore[method-assign]


@app.route('/hello')
def hello() -> str:
    return 'flask says hello'


if __name__ == '__main__':
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    print(f'READY {port}', flush=True)
    app.run(host='127.0.0.1', port=port, threaded=True)
