"""The ``websocket_compression`` option's forms, and the threshold of the
wsproto extension used over raw sockets, without any server."""
from __future__ import annotations

from typing import Any

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

import engineio
from engineio._runtime.wsgi_websocket import ThresholdDeflate
from engineio.sansio.server import ServerConfig


@pytest.mark.parametrize('option, threshold', [
    (False, None), (None, None), (True, 1024), ({}, 1024),
    ({'threshold': 0}, 0), ({'threshold': 200}, 200),
])
def test_option_forms(option: Any, threshold: int | None) -> None:
    assert ServerConfig(websocket_compression=option) \
        .websocket_compression == threshold


@pytest.mark.parametrize('option', [
    {'level': 9}, {'threshold': -1}, {'threshold': '1'},
    {'threshold': True}, 'yes', 1,
])
def test_bad_option(option: Any) -> None:
    with pytest.raises(ValueError):
        ServerConfig(websocket_compression=option)


def test_default_is_off() -> None:
    eio = engineio.Server(async_mode='threading')
    assert eio.websocket_compression is False
    assert eio.config.websocket_compression is None
    eio = engineio.AsyncServer(websocket_compression={'threshold': 10})
    assert eio.config.websocket_compression == 10


def frames_for(threshold: int, messages: list[str]) -> list[tuple[bool, str]]:
    """What a wsproto server with :class:`ThresholdDeflate` writes for each
    message: ``(RSV1, text as the peer inflates it)``."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(
        host='localhost', target='/', extensions=[PerMessageDeflate()])))
    request = next(server.events())
    assert isinstance(request, Request)
    client.receive_data(server.send(AcceptConnection(
        extensions=[ThresholdDeflate(threshold)])))
    assert isinstance(next(client.events()), AcceptConnection)
    out = []
    for text in messages:
        wire = server.send(TextMessage(data=text))
        client.receive_data(wire)
        (event,) = list(client.events())
        assert isinstance(event, TextMessage) and event.data == text
        out.append((bool(wire[0] & 0x40), event.data))
    return out


def test_threshold_per_message() -> None:
    big = 'x' * 3000
    got = frames_for(100, ['short', big, 'tiny', big])
    assert [rsv1 for rsv1, _ in got] == [False, True, False, True]


def test_threshold_zero_compresses_all() -> None:
    # The client side of wsproto inflated each frame in frames_for.
    got = frames_for(0, ['a', 'b' * 500])
    assert all(rsv1 for rsv1, _ in got)
