"""Both clients against this project's own blocking server (Werkzeug)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from client_harness import Server, SyncHarness

from support import start_server

Make = Callable[..., SyncHarness]


@pytest.fixture(scope='module')
def py_server() -> Iterator[Server]:
    # threading: the Werkzeug server runs each request in a thread (the
    # default mode prefers eventlet when it is installed).
    proc, port = start_server('werkzeug_server.py', {
        'async_mode': 'threading', 'ping_interval': 0.4,
        'ping_timeout': 1.0})
    yield Server(proc, port)
    proc.stop()


def test_echo_and_upgrade(py_server: Server, make_client: Make,
                          transports: Any) -> None:
    c = make_client()
    c.connect(py_server.url, transports=transports)
    expected = 'polling' if transports == ['polling'] else 'websocket'
    assert c.client.transport() == expected
    if transports is None:
        assert c.client.upgrades == ['websocket']
    assert c.reply_to('__sid__') == f'sid:{c.client.sid}'
    c.send('__burst__:500')
    assert c.messages(501)[1:] == [f's:{i}' for i in range(500)]
    samples: list[Any] = [b'\x00\xff', {'k': [1, None]}, 'ünï', '']
    for sample in samples:
        c.send(sample)
    assert c.messages(501 + len(samples))[501:] == samples
    sid = c.client.sid
    c.disconnect()
    assert c.rec.disconnects == [('client disconnect', 'disconnecting')]
    py_server.proc.wait_for(
        f'"sid": "{sid}", "reason": "client disconnect"', 5)


def test_server_disconnect(py_server: Server, make_client: Make,
                           transports: Any) -> None:
    c = make_client()
    c.connect(py_server.url, transports=transports)
    c.send('__close__')
    # This server sends a close packet on every transport.
    assert c.disconnected() == ('server disconnect', 'disconnecting')
    c.wait()
    assert c.client.state == 'disconnected'


def test_heartbeat(py_server: Server, make_client: Make,
                   transports: Any) -> None:
    """The server pings every 0.4 s and drops clients that do not pong
    within a second: surviving 1.6 s proves the pongs arrive."""
    c = make_client()
    c.connect(py_server.url, transports=transports)
    time.sleep(1.6)
    assert c.client.state == 'connected' and not c.rec.disconnects
    assert c.reply_to('alive') == 'alive'
