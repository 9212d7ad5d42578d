"""Several processes serving one pool of Engine.IO sessions, no sticky
sessions: three uvicorn workers on one port share their sessions through
Redis (the ``cluster`` option).

    REDIS_URL=redis://127.0.0.1:6379/0 python examples/server/cluster_uvicorn.py [PORT]
    uvicorn cluster_uvicorn:app --workers 3 --port 5000   (from this folder)

Needs a Redis (or Valkey) server and ``pip install "engineio[cluster]"``.
Each worker is a node of the cluster: a request that reaches a worker other
than the one that owns its session is forwarded to the owner over Redis.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time

import engineio

REDIS_URL = os.environ.get('REDIS_URL', 'redis://127.0.0.1:6379/0')

eio = engineio.AsyncServer(async_mode='asgi', logger=True, cluster=REDIS_URL)
app = engineio.ASGIApp(eio)


@eio.on('message')
async def message(sid: str, data: object) -> None:
    # Echo every message; '__sid__' asks for the session id instead.
    await eio.send(sid, f'sid:{sid}' if data == '__sid__' else data)


def announce(port: int) -> None:
    """Print the URL once the workers accept connections."""
    for _ in range(300):
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        print(f'READY {port} http://127.0.0.1:{port}/engine.io/', flush=True)
        return


if __name__ == '__main__':
    import uvicorn

    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get('PORT', 5000))
    if port == 0:  # any free port
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
    # The workers import the app by name, from this folder.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    threading.Thread(target=announce, args=(port,), daemon=True).start()
    uvicorn.run('cluster_uvicorn:app', host='127.0.0.1', port=port, workers=3,
                log_level='warning')
