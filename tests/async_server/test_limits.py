"""max_http_buffer_size on WebSocket messages under real servers: the
session ends and the client sees close code 1009 (message too big)."""
from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

LIMIT = 1000
# Which frameworks report the exact reason: tornado enforces the limit in
# its own frame reader and just drops the connection.
SETUPS = {'uvicorn': ('asgi_uvicorn.py', 'transport error'),
          'aiohttp': ('aiohttp_server.py', 'transport error'),
          'sanic': ('sanic_server.py', 'transport error'),
          'tornado': ('tornado_server.py', None)}


def wait_reason(proc, sid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in proc.events('disconnect'):
            if ev['sid'] == sid:
                return ev['reason']
        time.sleep(0.05)
    raise AssertionError(f'no disconnect for {sid}')


@pytest.mark.parametrize('name', list(SETUPS))
def test_websocket_message_over_the_limit(launch, name):
    script, reason = SETUPS[name]
    proc, port = launch([script], {'max_http_buffer_size': LIMIT})
    url = f'ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket'
    with connect(url, open_timeout=5, close_timeout=2,
                 compression=None) as ws:
        sid = json.loads(ws.recv(timeout=5)[1:])['sid']
        ws.send('4' + 'a' * (LIMIT - 1))  # exactly the limit: fine
        assert ws.recv(timeout=5) == '4' + 'a' * (LIMIT - 1)
        ws.send('4' + 'é' * LIMIT)  # over it (in bytes)
        with pytest.raises(ConnectionClosed) as info:
            for _ in range(10):
                ws.recv(timeout=5)
        assert info.value.rcvd is None or info.value.rcvd.code == 1009
    if reason is not None:
        assert wait_reason(proc, sid) == reason
    else:
        wait_reason(proc, sid)
