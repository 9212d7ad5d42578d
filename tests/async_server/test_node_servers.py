"""AsyncServer under real servers on 127.0.0.1 (uvicorn, hypercorn, daphne,
a Starlette/FastAPI mount, aiohttp, tornado, sanic), driven by the official
npm engine.io-client.

uvicorn gets the full matrix (scenarios x transports) in two setups; the
others a representative subset that covers polling, WebSocket, the upgrade
and server-initiated closes.
"""
from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from support import SERVERS as SERVER_DIR
from support import Proc, node_client, start_server

pytestmark = pytest.mark.node

#: name -> (command line after the script, path of the Engine.IO endpoint)
SERVERS: dict[str, tuple[list[str], str]] = {
    'uvicorn': (['asgi_uvicorn.py'], '/engine.io/'),
    'uvicorn-asyncio-h11': (['asgi_uvicorn.py', 'loop=asyncio', 'http=h11',
                             'ws=wsproto'], '/engine.io/'),
    'hypercorn': (['hypercorn_server.py'], '/engine.io/'),
    'daphne': (['daphne_server.py'], '/engine.io/'),
    'starlette': (['starlette_mount.py'], '/eio/engine.io/'),
    'fastapi': (['starlette_mount.py', 'fastapi'], '/eio/engine.io/'),
    'aiohttp': (['aiohttp_server.py'], '/engine.io/'),
    'tornado': (['tornado_server.py'], '/engine.io/'),
    'sanic': (['sanic_server.py'], '/engine.io/'),
}
TRANSPORTS = ['polling', 'websocket', 'polling,websocket']
SCENARIOS = ['echo', 'order', 'binary-order', 'server-close', 'many']
FULL = [(s, t) for s in SCENARIOS for t in TRANSPORTS] + \
    [('upgrade', 'polling,websocket')]
SUBSET = [('echo', 'polling,websocket'), ('order', 'websocket'),
          ('binary-order', 'polling'), ('upgrade', 'polling,websocket'),
          ('server-close', 'websocket'), ('many', 'polling')]

CASES = [(name, scenario, transports)
         for name in SERVERS
         for scenario, transports in (FULL if name.startswith('uvicorn')
                                      else SUBSET)]


class Running:
    def __init__(self, name: str, proc: Proc, port: int) -> None:
        self.path = SERVERS[name][1]
        self.proc = proc
        self.url = f'http://127.0.0.1:{port}'

    def client(self, scenario: str, transports: str,
               timeout_ms: int = 15000) -> dict[str, Any]:
        return node_client(self.url, scenario, transports,
                           timeout_ms=timeout_ms, extra=['--path', self.path])

    def reason(self, sid: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.proc.events('disconnect'):
                if ev['sid'] == sid:
                    return str(ev['reason'])
            time.sleep(0.05)
        raise AssertionError(f'no disconnect event for {sid}:\n'
                             + '\n'.join(self.proc.lines[-30:]))


def start(name: str, options: dict[str, Any] | None = None) -> Running:
    args = SERVERS[name][0]
    proc, port = start_server(
        [sys.executable, str(SERVER_DIR / args[0]), *args[1:]], options)
    return Running(name, proc, port)


@pytest.fixture(scope='module')
def servers(node_peers):
    """Servers started on first use, one per setup, stopped by PID."""
    started: dict[str, Running] = {}

    def get(name: str) -> Running:
        if name not in started:
            started[name] = start(name)
        return started[name]

    yield get
    for running in started.values():
        running.proc.stop()


@pytest.mark.parametrize(('name', 'scenario', 'transports'), CASES)
def test_scenario(servers, name, scenario, transports):
    server = servers(name)
    result = server.client(scenario, transports)
    assert result['ok'], (result, server.proc.lines[-20:])
    if scenario == 'many':
        return
    if transports == 'polling,websocket' and scenario != 'server-close':
        assert result['upgraded'] and result['transport'] == 'websocket'
    elif transports != 'polling,websocket':
        assert result['transport'] == transports
    if scenario == 'upgrade':
        assert result['echo']['count'] == 200
        assert result['echo']['inOrder'] == 200
    if scenario == 'server-close':
        assert result['closeReason'] == 'transport close'
        assert server.reason(result['sid']) == 'server disconnect'


PING_OPTIONS = {'ping_interval': 0.5, 'ping_timeout': 0.5}


@pytest.mark.parametrize(('name', 'transports'), [
    ('uvicorn', 'websocket'), ('uvicorn', 'polling'),
    ('aiohttp', 'websocket'), ('tornado', 'websocket'),
    ('sanic', 'polling'), ('hypercorn', 'websocket')])
def test_ping_timeout(node_peers, launch, name, transports):
    server = Running(name, *launch(SERVERS[name][0], PING_OPTIONS))
    began = time.monotonic()
    result = server.client('no-pong', transports, timeout_ms=10000)
    assert result['ok'], result
    # One interval to the first ping, one timeout for its pong, plus
    # scheduling slack: well under 5 s.
    assert server.reason(result['sid'], timeout=5) == 'ping timeout'
    assert time.monotonic() - began < 8
