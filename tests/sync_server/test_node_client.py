"""The blocking Server under Werkzeug's threaded server, driven by the
official npm engine.io-client over real sockets on 127.0.0.1."""
from __future__ import annotations

import time

import pytest

from support import node_client, start_server

TRANSPORTS = ['polling', 'websocket', 'polling,websocket']


@pytest.fixture(scope='module')
def server(node_peers):
    proc, port = start_server('werkzeug_server.py', {'async_mode': 'threading'})
    yield proc, f'http://127.0.0.1:{port}'
    proc.stop()


def wait_reason(proc, sid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in proc.events('disconnect'):
            if ev['sid'] == sid:
                return ev['reason']
        time.sleep(0.05)
    raise AssertionError(f'no disconnect for {sid}')


@pytest.mark.parametrize('transports', TRANSPORTS)
@pytest.mark.parametrize('scenario', ['echo', 'order', 'binary-order', 'many'])
def test_scenarios(server, scenario, transports):
    result = node_client(server[1], scenario, transports)
    assert result['ok'], result
    if transports == 'polling,websocket' and scenario != 'many':
        assert result['upgraded'] and result['transport'] == 'websocket', result
    if transports == 'polling':
        assert result.get('transport', 'polling') == 'polling'


def test_upgrade_loses_nothing(server):
    for _ in range(3):
        result = node_client(server[1], 'upgrade', 'polling,websocket')
        assert result['ok'], result
        assert result['echo']['count'] == 200
        assert result['echo']['inOrder'] == 200


@pytest.mark.parametrize('transports', TRANSPORTS)
def test_server_close(server, transports):
    proc, url = server
    result = node_client(url, 'server-close', transports)
    assert result['ok'], result
    assert result['closeReason'] == 'transport close'
    assert wait_reason(proc, result['sid']) == 'server disconnect'


@pytest.mark.parametrize('transports', TRANSPORTS)
def test_client_close(server, transports):
    proc, url = server
    result = node_client(url, 'client-close', transports)
    assert result['ok'], result
    # engine.io-client sends a close packet over polling; over WebSocket it
    # only closes the connection.
    expected = 'client disconnect' if result['transport'] == 'polling' \
        else 'transport close'
    assert wait_reason(proc, result['sid']) == expected


def test_handshake_values(server):
    result = node_client(server[1], 'handshake', 'polling')
    assert result['ok'], result
    assert result['pingInterval'] == 25000
    assert result['pingTimeout'] == 20000
    assert result['maxPayload'] == 1000000
    assert result['upgrades'] == ['websocket']


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_silent_client_is_dropped_for_ping_timeout(node_peers, transports):
    proc, port = start_server('werkzeug_server.py', {
        'async_mode': 'threading', 'ping_interval': 0.4, 'ping_timeout': 0.4})
    try:
        started = time.monotonic()
        result = node_client(f'http://127.0.0.1:{port}', 'no-pong', transports,
                             timeout_ms=10000)
        assert result['ok'], result
        assert wait_reason(proc, result['sid']) == 'ping timeout'
        # Dropped on time (interval + timeout), not lazily.
        assert time.monotonic() - started < 6
    finally:
        proc.stop()


def test_upgrade_under_load(server):
    # 100 clients send and receive continuously while they upgrade.
    result = node_client(server[1], 'upgrade-load', 'polling,websocket',
                         timeout_ms=40000, extra=['--sockets', '100'])
    assert result['ok'], result
    assert result['completed'] == 100 and result['upgradedCount'] == 100
    assert result['received'] == 100 * 200
