"""HTTPS and WSS served by each mode's own TLS (uvicorn's ssl_certfile,
Werkzeug's ssl_context, gevent's certfile, eventlet.wrap_ssl), driven by
the official engine.io-client.

The ``order`` scenario sends 1000 messages while the server sends 1000 of
its own, so the server reads the connection while other threads write it:
under the threading mode that broke sessions over TLS ('connection lost'
in the client) until the server serialized its TLS socket's reads and
writes (engineio/_tls_socket.py).
"""
from __future__ import annotations

import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from engineio._tls_socket import serialize_tls

from .modes import CORE_MODES, Mode, Served, mode_ids, serve
from support import (
    TESTS,
    Proc,
    make_self_signed,
    node_client,
    start_server,
    wait_until,
)

pytestmark = pytest.mark.node


@pytest.fixture(scope='module')
def tls_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cert, key = make_self_signed(Path(tmp_path_factory.mktemp('tls')))
    return {'EIO_TLS_CERT': str(cert), 'EIO_TLS_KEY': str(key)}


@pytest.fixture(params=CORE_MODES, ids=mode_ids(CORE_MODES))
def tls_served(request: pytest.FixtureRequest,
               tls_env: dict[str, str]) -> Iterator[Served]:
    mode: Mode = request.param
    s = serve(mode, env=tls_env)
    try:
        yield s
        s.assert_sessions_end()
    finally:
        s.stop()


@pytest.mark.parametrize('scenario,transports', [
    ('order', 'websocket'),
    ('order', 'polling'),
    ('upgrade', 'polling,websocket'),
])
def test_over_tls(tls_served: Served, scenario: str, transports: str) -> None:
    url = f'https://127.0.0.1:{tls_served.port}'
    result = node_client(url, scenario, transports,
                         extra=['--insecure', 'true'])
    assert result['ok'], (result, tls_served.proc.lines[-20:])
    assert result['url'].startswith('https://')
    if scenario == 'upgrade':
        assert result['upgraded'] and result['transport'] == 'websocket'


@pytest.fixture
def gunicorn_gthread_tls(tls_env: dict[str, str]) -> Iterator[tuple[Proc, int]]:
    """The threading mode under gunicorn's gthread worker, TLS by gunicorn
    (``--certfile``/``--keyfile``): the manual's command plus those two."""
    sys.path.insert(0, str(TESTS / 'deploy'))
    try:
        from deploy_common import DEPLOYMENTS, command, free_port
    finally:
        sys.path.remove(str(TESTS / 'deploy'))
    dep = next(d for d in DEPLOYMENTS if d.name == 'gunicorn-gthread')
    port = free_port()
    args = command(dep, port)
    args[-1:-1] = ['--certfile', tls_env['EIO_TLS_CERT'],
                   '--keyfile', tls_env['EIO_TLS_KEY']]
    proc, _ = start_server(args, {'async_mode': 'threading'},
                           env={'EIO_DEPLOY_PORT': str(port)})
    def listening() -> bool:
        try:
            socket.create_connection(('127.0.0.1', port), 1).close()
            return True
        except OSError:
            return False

    try:
        # READY comes from the worker's import, before it serves.
        assert wait_until(listening, 20, 0.1), proc.lines[-20:]
        yield proc, port
    finally:
        proc.stop()


def test_gunicorn_gthread_over_tls(
        gunicorn_gthread_tls: tuple[Proc, int]) -> None:
    proc, port = gunicorn_gthread_tls
    result = node_client(f'https://127.0.0.1:{port}', 'upgrade',
                         'polling,websocket', extra=['--insecure', 'true'])
    assert result['ok'], (result, proc.lines[-20:])
    assert result['upgraded'] and result['transport'] == 'websocket'
    for _ in range(4):
        _echo_stream(port, 2000)


def test_echo_stream(tls_served: Served) -> None:
    """2000 messages written back to back on one thread of a raw WebSocket
    client while another reads the echoes: the server reads the connection
    while its other threads write it (3 of 5 such connections broke on the
    threading mode before the fix; four of them here)."""
    for _ in range(4):
        _echo_stream(tls_served.port, 2000)


def _echo_stream(port: int, count: int) -> None:
    ws = websocket.create_connection(
        f'wss://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket',
        timeout=10,
        sslopt={'cert_reqs': ssl.CERT_NONE, 'check_hostname': False})
    # The client's own reader and writer must not overlap either.
    ws.sock = serialize_tls(ws.sock)
    try:
        assert ws.recv().startswith('0{')
        got: list[str] = []
        errors: list[BaseException] = []

        def read() -> None:
            try:
                while len(got) < count:
                    packet = ws.recv()
                    if packet == '2':
                        ws.send('3')
                    else:
                        got.append(packet)
            except BaseException as exc:
                errors.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(count):
            ws.send(f'4m:{i}')
        reader.join(30)
        assert not reader.is_alive() and errors == []
        assert got == [f'4m:{i}' for i in range(count)]
    finally:
        ws.close()
