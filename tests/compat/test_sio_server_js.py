"""python-socketio's blocking ``Server`` on this package, under Werkzeug's
threaded server, driven by the official npm ``socket.io-client``."""
from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

import sio_scenarios as sc
from sio_support import require_node_peers, sio_client, start_sio_server
from support import Proc

importlib.import_module('socketio')

SCRIPT = 'socketio_werkzeug.py'


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


def test_connect_polling_only(server: tuple[Proc, str]) -> None:
    sc.connect_polling_only(*server)


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


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_burst(server: tuple[Proc, str], transports: str) -> None:
    sc.burst(*server, transports)


def test_reconnect_after_server_restart() -> None:
    require_node_peers()
    sc.reconnect_after_restart(SCRIPT)
