"""An opening request wsproto refuses is a clean error of the blocking
server's raw-socket WebSocket: nothing is written on the connection (the
WSGI server answers over HTTP), and the server answers 400, not a 500."""
from __future__ import annotations

import base64
import socket
import threading
from typing import Any

import pytest

import engineio
from engineio.adapters.wsgi_websocket import HandshakeError, RawSocketWebSocket

KEY = base64.b64encode(bytes(range(16))).decode()


def environ(**overrides: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        'REQUEST_METHOD': 'GET', 'PATH_INFO': '/engine.io/',
        'QUERY_STRING': 'EIO=4&transport=websocket',
        'HTTP_HOST': 'localhost', 'HTTP_UPGRADE': 'websocket',
        'HTTP_CONNECTION': 'Upgrade', 'HTTP_SEC_WEBSOCKET_KEY': KEY,
        'HTTP_SEC_WEBSOCKET_VERSION': '13'}
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.mark.parametrize('overrides', [
    {'HTTP_SEC_WEBSOCKET_KEY': None},
    {'HTTP_SEC_WEBSOCKET_VERSION': '99'},
    {'HTTP_SEC_WEBSOCKET_VERSION': None},
    {'HTTP_CONNECTION': None},
    {'HTTP_UPGRADE': 'h2c'},
    {'HTTP_HOST': None},
    {'QUERY_STRING': 'x=\u0100'},  # not latin-1: the request cannot be rebuilt
])
def test_refused_handshake_writes_nothing(overrides: dict[str, Any]) -> None:
    server, client = socket.socketpair()
    try:
        with pytest.raises(HandshakeError):
            RawSocketWebSocket(server, environ(**overrides), threading.Lock(),
                               100, 5.0)
        client.setblocking(False)
        with pytest.raises(BlockingIOError):
            client.recv(1)
    finally:
        server.close()
        client.close()


def test_a_refusal_only_wsproto_sees_is_a_400() -> None:
    # The core checks the Host the client connected to, which a proxy
    # header gives here; wsproto wants the Host header itself.
    eio = engineio.Server(async_mode='threading', ping_interval=5)
    server, client = socket.socketpair()
    env = environ(HTTP_HOST=None, HTTP_X_FORWARDED_HOST='example.com')
    env['werkzeug.socket'] = server
    statuses = []
    try:
        body = eio.handle_request(
            env, lambda status, headers: statuses.append(status))
        assert statuses and statuses[0].startswith('400')
        assert b'"code":3' in b''.join(body)
        client.setblocking(False)
        with pytest.raises(BlockingIOError):
            client.recv(1)
        # The session the handshake opened did not outlive the refusal.
        assert eio.sockets == {}
    finally:
        eio.shutdown()
        server.close()
        client.close()
