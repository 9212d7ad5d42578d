"""Engine.IO on eventlet's WSGI server.

    python examples/server/eventlet_server.py [PORT]   (default: $PORT or 5000)

Each connection runs in a green thread, so one process serves many clients
over both transports. No monkey patching is needed by engineio itself
(database drivers and other blocking libraries may need it).
"""
from __future__ import annotations

import os
import sys

import eventlet
import eventlet.wsgi

import engineio

eio = engineio.Server(async_mode='eventlet', logger=True)
app = engineio.WSGIApp(eio)


@eio.on('message')
def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


if __name__ == '__main__':
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 5000))
    listener = eventlet.listen(('127.0.0.1', port))
    port = listener.getsockname()[1]
    print(f'READY {port} http://127.0.0.1:{port}/engine.io/', flush=True)
    eventlet.wsgi.server(listener, app, log_output=False)
