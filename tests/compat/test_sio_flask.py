"""A Flask-SocketIO application on this package under Flask's threaded
development server (``socketio.run(app, allow_unsafe_werkzeug=True)``,
``async_mode='threading'``), driven by the official npm socket.io-client
and by python-socketio's ``Client``."""
from __future__ import annotations

import importlib
import urllib.request
from collections.abc import Iterator

import pytest

import sio_scenarios as sc
from sio_support import (
    assert_no_errors,
    require_node_peers,
    sio_client,
    start_sio_server,
)
from support import Proc

socketio = importlib.import_module('socketio')
importlib.import_module('flask_socketio')

SCRIPT = 'socketio_flask.py'


@pytest.fixture(scope='module')
def server() -> Iterator[tuple[Proc, str]]:
    require_node_peers()
    proc, port = start_sio_server(SCRIPT)
    yield proc, f'http://127.0.0.1:{port}'
    proc.stop()


def test_connect_polling_then_upgrade(server: tuple[Proc, str]) -> None:
    sc.connect_polling_then_upgrade(*server)


def test_connect_websocket_only(server: tuple[Proc, str]) -> None:
    sc.connect_websocket_only(*server)


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_acknowledgements(server: tuple[Proc, str], transports: str) -> None:
    sc.check(server[0], sio_client(server[1], 'ack', transports))


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_binary_attachments(server: tuple[Proc, str], transports: str) -> None:
    sc.check(server[0], sio_client(server[1], 'binary', transports))


def test_rooms_and_broadcasts(server: tuple[Proc, str]) -> None:
    sc.check(server[0], sio_client(server[1], 'rooms'))


def test_namespaces(server: tuple[Proc, str]) -> None:
    sc.namespaces(*server)


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_disconnect(server: tuple[Proc, str], transports: str) -> None:
    sc.disconnect_reasons(*server, transports)


def test_burst_over_polling(server: tuple[Proc, str]) -> None:
    sc.burst(*server, 'polling')


def test_flask_routes_still_served(server: tuple[Proc, str]) -> None:
    proc, url = server
    with urllib.request.urlopen(f'{url}/hello', timeout=10) as response:
        assert response.read() == b'flask says hello'
    assert_no_errors(proc)


def test_python_socketio_client(server: tuple[Proc, str]) -> None:
    importlib.import_module('requests')
    importlib.import_module('websocket')
    proc, url = server
    c = socketio.Client(handle_sigint=False, reconnection=False)
    try:
        c.connect(url, namespaces=['/', '/chat'], wait_timeout=10)
        assert c.call('echo', 'py', timeout=10) == 'py'
        assert c.call('echo', b'\x00bin', namespace='/chat', timeout=10) == \
            ('chat', b'\x00bin')
    finally:
        c.disconnect()
    assert_no_errors(proc)


def test_reconnect_after_server_restart() -> None:
    require_node_peers()
    sc.reconnect_after_restart(SCRIPT)
