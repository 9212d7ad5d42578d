"""Fixtures of the client tests: reference servers on 127.0.0.1 and the
client harnesses (each test runs against both clients)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client_harness import HARNESSES, Server, SyncHarness

from support import JS_DIR, NODE, start_server

#: The three transport choices of ``connect()``.
TRANSPORTS = {'default': None, 'websocket': ['websocket'],
              'polling': ['polling']}


def _node(*args: str) -> Server:
    proc, port = start_server([NODE, str(JS_DIR / 'server.js'), '--port', '0',
                               '--max-lifetime-ms', '300000', *args])
    return Server(proc, port)


@pytest.fixture(scope='module')
def node(node_peers: Any) -> Iterator[Server]:
    """The official engine.io server with default options."""
    server = _node()
    yield server
    server.proc.stop()


@pytest.fixture(scope='module')
def node_fast(node_peers: Any) -> Iterator[Server]:
    """The official server with a 300 ms ping interval, 400 ms timeout
    (a server that stops pinging is dead after 0.7 s)."""
    server = _node('--ping-interval', '300', '--ping-timeout', '400')
    yield server
    server.proc.stop()


@pytest.fixture(scope='module')
def node_factory(node_peers: Any) -> Iterator[Callable[..., Server]]:
    """Start an official server with extra options (stopped at the end)."""
    started: list[Server] = []

    def factory(*args: str) -> Server:
        server = _node(*args)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.proc.stop()


@pytest.fixture(params=list(TRANSPORTS))
def transports(request: pytest.FixtureRequest) -> Any:
    return TRANSPORTS[request.param]


@pytest.fixture(params=list(HARNESSES))
def make_client(request: pytest.FixtureRequest
                ) -> Iterator[Callable[..., SyncHarness]]:
    """Create clients of one kind (sync or async); closed at the end."""
    made: list[SyncHarness] = []

    def factory(**options: Any) -> SyncHarness:
        harness = HARNESSES[request.param](**options)
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        harness.close()
