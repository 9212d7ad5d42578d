"""permessage-deflate (RFC 7692) and the ``websocket_compression`` option,
checked on the wire: a WebSocket handshake written by hand on a raw socket
on 127.0.0.1, the server's frame headers read back (RSV1 = compressed), and
the official engine.io-client (Node's ``ws`` offers permessage-deflate by
default) talking to each server with the option on and off.
"""
from __future__ import annotations

import base64
import os
import socket
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from support import SERVERS, Proc, node_client, start_server

#: Below the open packet (about 100 bytes) and above a short echo, so one
#: connection shows both sides of the threshold.
THRESHOLD = 64
ON = {'websocket_compression': {'threshold': THRESHOLD}}
BIG = '4' + 'a' * 5000
SMALL = '4hello'


@dataclass(frozen=True)
class Deployment:
    name: str
    script: str
    #: The option decides whether permessage-deflate is negotiated.
    controlled: bool = True
    #: Whether it is negotiated at all (for those the option does not
    #: control: what the web server does on its own).
    negotiates: bool = True
    #: Short messages go out uncompressed.
    threshold: bool = False
    async_mode: str | None = None
    args: tuple[str, ...] = ()


DEPLOYMENTS = [
    Deployment('werkzeug', 'werkzeug_server.py', threshold=True,
               async_mode='threading'),
    Deployment('gevent-pywsgi', 'deploy_gevent.py', threshold=True,
               async_mode='gevent'),
    Deployment('eventlet', 'deploy_eventlet.py', threshold=True,
               async_mode='eventlet'),
    # gevent-websocket's handler answers the handshake: no extension.
    Deployment('gevent-websocket', 'deploy_gevent.py', controlled=False,
               negotiates=False, async_mode='gevent',
               args=('--websocket-handler',)),
    Deployment('aiohttp', 'aiohttp_server.py'),
    Deployment('tornado', 'tornado_server.py'),
    # sanic's handshake enables no extension.
    Deployment('sanic', 'sanic_server.py', controlled=False, negotiates=False),
    # uvicorn decides by itself (ws_per_message_deflate=True by default).
    Deployment('uvicorn', 'asgi_uvicorn.py', controlled=False),
]


@pytest.fixture(scope='module', params=DEPLOYMENTS, ids=lambda d: d.name)
def deployment(request: Any) -> Deployment:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope='module')
def servers(deployment: Deployment) -> Iterator[dict[bool, int]]:
    """One server with the option off and one with it on: their ports."""
    procs: list[Proc] = []
    ports: dict[bool, int] = {}
    try:
        for on in (False, True):
            options = dict(ON if on else {})
            if deployment.async_mode:
                options['async_mode'] = deployment.async_mode
            proc, port = start_server(
                [sys.executable, str(SERVERS / deployment.script),
                 *deployment.args], options)
            procs.append(proc)
            ports[on] = port
        yield ports
    finally:
        for proc in procs:
            proc.stop()


class RawWebSocket:
    """A minimal WebSocket client: enough to see the server's frames as
    they are on the wire."""

    def __init__(self, port: int, offer: bool) -> None:
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ['GET /engine.io/?EIO=4&transport=websocket HTTP/1.1',
                 f'Host: 127.0.0.1:{port}', 'Upgrade: websocket',
                 'Connection: Upgrade', f'Sec-WebSocket-Key: {key}',
                 'Sec-WebSocket-Version: 13']
        if offer:
            lines.append('Sec-WebSocket-Extensions: permessage-deflate; '
                         'client_max_window_bits')
        self.sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        self.buf = b''
        while b'\r\n\r\n' not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        status, *fields = head.decode('latin-1').split('\r\n')
        assert ' 101 ' in status + ' ', status
        self.headers = {}
        for field in fields:
            name, _, value = field.partition(':')
            self.headers[name.strip().lower()] = value.strip()
        # One inflater and one deflater for the connection: context
        # takeover is the default.
        self.inflater = zlib.decompressobj(-15)
        self.deflater = zlib.compressobj(wbits=-15)

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        assert data, 'connection closed by the server'
        self.buf += data

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self) -> tuple[bool, int, bytes]:
        """``(rsv1, opcode, payload as sent)`` of the next server frame."""
        b0, b1 = self._take(2)
        assert not b1 & 0x80, 'server frames are not masked'
        length = b1 & 0x7f
        if length == 126:
            length = int.from_bytes(self._take(2), 'big')
        elif length == 127:
            length = int.from_bytes(self._take(8), 'big')
        assert b0 & 0x80, 'the servers send whole messages in one frame'
        return bool(b0 & 0x40), b0 & 0x0f, self._take(length)

    def read_text(self, prefix: str) -> tuple[bool, int, str]:
        """The next text message starting with ``prefix`` (pings skipped):
        ``(compressed, size on the wire, text)``."""
        for _ in range(20):
            rsv1, opcode, payload = self.read_frame()
            data = self.inflater.decompress(payload + b'\x00\x00\xff\xff') \
                if rsv1 else payload
            if opcode == 1 and data.decode().startswith(prefix):
                return rsv1, len(payload), data.decode()
        raise AssertionError(f'no message starting with {prefix!r}')

    def send_text(self, text: str, compress: bool = False) -> None:
        """One masked text frame; uncompressed unless asked (allowed with
        the extension negotiated: RSV1 clear means uncompressed)."""
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if compress:  # RFC 7692 7.2.1: drop the sync flush's 00 00 ff ff
            data = (self.deflater.compress(data)
                    + self.deflater.flush(zlib.Z_SYNC_FLUSH))[:-4]
            header = bytes([0xc1])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        else:
            header += bytes([0x80 | 126]) + len(data).to_bytes(2, 'big')
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def close(self) -> None:
        self.sock.close()


def extensions(ws: RawWebSocket) -> str:
    return ws.headers.get('sec-websocket-extensions', '')


def test_off_negotiates_nothing(deployment: Deployment,
                                servers: dict[bool, int]) -> None:
    ws = RawWebSocket(servers[False], offer=True)
    try:
        if deployment.controlled or not deployment.negotiates:
            assert extensions(ws) == ''
        else:  # the web server negotiates it whatever the option says
            assert extensions(ws).startswith('permessage-deflate')
        ws.send_text(BIG)
        compressed, size, text = ws.read_text('4')
        assert text == BIG
        assert compressed is (not deployment.controlled
                              and deployment.negotiates)
        assert size < 200 if compressed else size == len(BIG)
    finally:
        ws.close()


def test_on_compresses_on_the_wire(deployment: Deployment,
                                   servers: dict[bool, int]) -> None:
    ws = RawWebSocket(servers[True], offer=True)
    try:
        if not deployment.negotiates:
            assert extensions(ws) == ''
            return
        assert extensions(ws).startswith('permessage-deflate')
        compressed, _, text = ws.read_text('0')  # the open packet
        assert compressed and text.startswith('0{"sid":')
        ws.send_text(BIG)
        compressed, size, text = ws.read_text('4')
        assert text == BIG
        assert compressed and size < 200, size
        ws.send_text(SMALL)
        compressed, size, text = ws.read_text('4')
        assert text == SMALL
        # Below the threshold: sent as is where the library lets us choose.
        assert compressed is not deployment.threshold
        # And compressed messages from the client are inflated.
        ws.send_text(BIG + 'b', compress=True)
        compressed, size, text = ws.read_text('4')
        assert text == BIG + 'b' and compressed
    finally:
        ws.close()


def test_on_without_offer(deployment: Deployment,
                          servers: dict[bool, int]) -> None:
    """A client that offers nothing gets plain frames."""
    ws = RawWebSocket(servers[True], offer=False)
    try:
        assert extensions(ws) == ''
        ws.send_text(BIG)
        compressed, size, text = ws.read_text('4')
        assert text == BIG and not compressed and size == len(BIG)
    finally:
        ws.close()


@pytest.mark.node
@pytest.mark.parametrize('scenario', ['echo', 'order'])
@pytest.mark.parametrize('on', [False, True], ids=['off', 'on'])
def test_node_client(node_peers: Any, servers: dict[bool, int],
                     scenario: str, on: bool) -> None:
    url = f'http://127.0.0.1:{servers[on]}'
    result = node_client(url, scenario, 'websocket', timeout_ms=10000)
    assert result['ok'], result
