"""The ``websocket_compression`` option's forms, and permessage-deflate on
the blocking server's raw-socket WebSocket (``RawSocketWebSocket``, which
websockets' server protocol handshakes and frames) over a socket pair,
without any server: what is negotiated, which frames go out compressed
(RSV1, read by hand on the client's end), and what compressed client
messages give."""
from __future__ import annotations

import base64
import os
import socket
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

import engineio
from engineio.adapters.wsgi_websocket import RawSocketWebSocket
from engineio.exceptions import ContentTooLongError
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


OFFER = 'permessage-deflate; client_max_window_bits'


class Peer:
    """The client's end of a socket pair whose other end a
    ``RawSocketWebSocket`` took over: it writes frames by hand and reads the
    server's as they are on the wire."""

    def __init__(self, compression: int | None, offer: str | None,
                 max_message_size: int = 1_000_000) -> None:
        self.server, self.sock = socket.socketpair()
        self.sock.settimeout(5)
        environ = {
            'PATH_INFO': '/engine.io/', 'QUERY_STRING': 'EIO=4',
            'HTTP_HOST': 'localhost', 'HTTP_UPGRADE': 'websocket',
            'HTTP_CONNECTION': 'Upgrade',
            'HTTP_SEC_WEBSOCKET_KEY': base64.b64encode(os.urandom(16)).decode(),
            'HTTP_SEC_WEBSOCKET_VERSION': '13'}
        if offer is not None:
            environ['HTTP_SEC_WEBSOCKET_EXTENSIONS'] = offer
        self.ws = RawSocketWebSocket(self.server, environ, threading.Lock(),
                                     max_message_size, 5.0, compression)
        self.buf = b''
        while b'\r\n\r\n' not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        status, *fields = head.decode('latin-1').split('\r\n')
        assert status.startswith('HTTP/1.1 101 '), status
        self.headers = {name.strip().lower(): value.strip() for name, _, value
                        in (field.partition(':') for field in fields)}
        # Context takeover both ways (nothing asked otherwise): one
        # inflater and one deflater for the whole connection.
        self.inflater = zlib.decompressobj(-15)
        self.deflater = zlib.compressobj(wbits=-15)

    def close(self) -> None:
        self.server.close()
        self.sock.close()

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
        """``(RSV1, opcode, payload as inflated)`` of the next frame."""
        b0, b1 = self._take(2)
        assert b0 & 0x80 and not b0 & 0x30, 'one frame per message'
        assert not b1 & 0x80, 'server frames are not masked'
        length = b1 & 0x7f
        if length == 126:
            length = int.from_bytes(self._take(2), 'big')
        elif length == 127:
            length = int.from_bytes(self._take(8), 'big')
        payload = self._take(length)
        rsv1 = bool(b0 & 0x40)
        if rsv1:
            payload = self.inflater.decompress(payload + b'\x00\x00\xff\xff')
        return rsv1, b0 & 0x0f, payload

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True,
                   rsv1: bool = False) -> None:
        header = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 0x10000:
            header += bytes([0x80 | 126]) + n.to_bytes(2, 'big')
        else:
            header += bytes([0x80 | 127]) + n.to_bytes(8, 'big')
        mask = os.urandom(4)
        self.sock.sendall(header + mask
                          + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def deflate(self, data: bytes, last: bool = True) -> bytes:
        out = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        # RFC 7692 7.2.1: a message's last frame drops the 00 00 ff ff.
        return out[:-4] if last else out


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made: list[Peer] = []
    yield made
    for peer in made:
        peer.close()


def open_peer(peers: list[Peer], compression: int | None,
              offer: str | None = OFFER, **kwargs: Any) -> Peer:
    peer = Peer(compression, offer, **kwargs)
    peers.append(peer)
    return peer


@pytest.mark.parametrize('compression, offer, negotiated', [
    (None, OFFER, False),       # off (the default): ignored even if offered
    (None, None, False),
    (1024, OFFER, True),
    (1024, 'permessage-deflate', True),
    (0, OFFER, True),
    (1024, None, False),        # on, but the client offers nothing
    (1024, 'x-webkit-deflate-frame', False),
])
def test_negotiated_only_when_on_and_offered(
        peers: list[Peer], compression: int | None, offer: str | None,
        negotiated: bool) -> None:
    peer = open_peer(peers, compression, offer)
    extensions = peer.headers.get('sec-websocket-extensions', '')
    assert extensions.startswith('permessage-deflate') is negotiated
    if not negotiated:
        assert extensions == ''
    # Whatever was negotiated, a long message goes out as it must.
    peer.ws.send('x' * 3000)
    assert peer.read_frame() == (negotiated, 1, b'x' * 3000)


def test_threshold_per_message(peers: list[Peer]) -> None:
    peer = open_peer(peers, 100)
    big = 'x' * 3000
    sent: list[str | bytes] = ['short', big, 'é' * 49, 'é' * 50, b'\x00' * 99,
                               b'\x00' * 100, '', 'tiny', big]
    for message in sent:
        peer.ws.send(message)
    frames = [peer.read_frame() for _ in sent]
    # Sizes count encoded bytes: 'é' * 50 is 100 bytes, at the threshold.
    assert [rsv1 for rsv1, _, _ in frames] == \
        [False, True, False, True, False, True, False, False, True]
    # The uncompressed messages in between left the compressor's context in
    # step with the peer's inflater: every message reads back whole.
    assert [opcode for _, opcode, _ in frames] == [1, 1, 1, 1, 2, 2, 1, 1, 1]
    assert [payload for _, _, payload in frames] == \
        [m.encode() if isinstance(m, str) else m for m in sent]


def test_threshold_zero_compresses_every_message(peers: list[Peer]) -> None:
    peer = open_peer(peers, 0)
    for message in ['a', 'b' * 500, '']:
        peer.ws.send(message)
        assert peer.read_frame() == (True, 1, message.encode())


def test_compression_order_follows_the_wire(peers: list[Peer]) -> None:
    """Threads sending at once: each message is compressed against the
    ones before it on the wire, or the peer could not inflate them."""
    peer = open_peer(peers, 64)
    count, per_thread = 4, 30

    def sender(n: int) -> None:
        for i in range(per_thread):
            peer.ws.send(f'{n}:{i}:' + 'abcdefgh' * (10 + i))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    received = [peer.read_frame() for _ in range(count * per_thread)]
    for thread in threads:
        thread.join()
    assert all(rsv1 for rsv1, _, _ in received)
    texts = sorted(payload.decode() for _, _, payload in received)
    assert texts == sorted(f'{n}:{i}:' + 'abcdefgh' * (10 + i)
                           for n in range(count) for i in range(per_thread))


def test_compressed_client_messages_are_inflated(peers: list[Peer]) -> None:
    peer = open_peer(peers, 1024)
    text = 'hello ' * 400
    peer.send_frame(1, peer.deflate(text.encode()), rsv1=True)
    # Context takeover: the second message refers back to the first.
    peer.send_frame(1, peer.deflate(text.encode()), rsv1=True)
    peer.send_frame(2, b'\x01\x02')  # RSV1 clear: not compressed
    data = bytes(range(256)) * 20
    peer.send_frame(2, peer.deflate(data[:3000], last=False), fin=False,
                    rsv1=True)
    peer.send_frame(0, peer.deflate(data[3000:]))
    assert peer.ws.wait() == text
    assert peer.ws.wait() == text
    assert peer.ws.wait() == b'\x01\x02'
    assert peer.ws.wait() == data


def test_limit_applies_to_the_inflated_size(peers: list[Peer]) -> None:
    peer = open_peer(peers, 1024, max_message_size=10_000)
    peer.send_frame(1, peer.deflate(b'a' * 10_000), rsv1=True)
    assert peer.ws.wait() == 'a' * 10_000
    # A deflate bomb: about a kilobyte that inflates to a megabyte.
    bomb = peer.deflate(b'a' * 1_000_000)
    assert len(bomb) < 2000
    peer.send_frame(1, bomb, rsv1=True)
    with pytest.raises(ContentTooLongError):
        peer.ws.wait()
    rsv1, opcode, payload = peer.read_frame()
    assert (rsv1, opcode) == (False, 8)
    assert int.from_bytes(payload[:2], 'big') == 1009
    assert peer.ws.wait() is None


def test_limit_counts_inflated_fragments(peers: list[Peer]) -> None:
    peer = open_peer(peers, 1024, max_message_size=10_000)
    peer.send_frame(1, peer.deflate(b'a' * 6000, last=False), fin=False,
                    rsv1=True)
    peer.send_frame(0, peer.deflate(b'a' * 6000))
    with pytest.raises(ContentTooLongError):
        peer.ws.wait()
    assert peer.read_frame()[2][:2] == (1009).to_bytes(2, 'big')


def test_compressed_frame_without_the_extension_fails(peers: list[Peer]) -> None:
    peer = open_peer(peers, None)
    peer.send_frame(1, peer.deflate(b'hello'), rsv1=True)
    assert peer.ws.wait() is None
    assert peer.read_frame()[2][:2] == (1002).to_bytes(2, 'big')
