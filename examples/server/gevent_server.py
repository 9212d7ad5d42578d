"""Engine.IO on gevent's WSGI server (pywsgi).

    python examples/server/gevent_server.py [PORT]    (default: $PORT or 5000)

Both transports work with plain pywsgi (engineio takes over the request's
socket for WebSocket). With gevent-websocket installed, its handler can be
used instead: ``pywsgi.WSGIServer(..., handler_class=WebSocketHandler)``.
"""
from __future__ import annotations

import os
import sys

from gevent import pywsgi

import engineio

eio = engineio.Server(async_mode='gevent', logger=True)
app = engineio.WSGIApp(eio)


@eio.on('message')
def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


if __name__ == '__main__':
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 5000))
    server = pywsgi.WSGIServer(('127.0.0.1', port), app, log=None)
    server.start()
    port = server.server_port
    print(f'READY {port} http://127.0.0.1:{port}/engine.io/', flush=True)
    server.serve_forever()
