"""The blocking server's WebSocket framing (``FramedWebSocket``, framed by
the websockets package, and ``RawSocketWebSocket`` on a real socket), fed
frames built by a websockets client protocol or by hand where a frame must
break the protocol, and read back by a websockets client protocol or by
hand."""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
from typing import Any, cast

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import CLIENT, OPEN, Protocol

from engineio.adapters.wsgi_websocket import FramedWebSocket, RawSocketWebSocket
from engineio.exceptions import ContentTooLongError


class MemoryWebSocket(FramedWebSocket):
    """A FramedWebSocket whose transport is a list of incoming chunks."""

    def __init__(self, chunks: list[bytes], max_message_size: int) -> None:
        self._start_framing(threading.Lock(), max_message_size)
        self.chunks = list(chunks)
        self.sent = bytearray()
        self.hung_up = False

    def _recv(self, size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b''

    def _sendall(self, data: bytes) -> None:
        self.sent += data

    def _hang_up(self) -> None:
        self.hung_up = True

    def messages(self) -> list[str | bytes]:
        out: list[str | bytes] = []
        while (message := self.wait()) is not None:
            out.append(message)
        return out

    def frames_sent(self) -> list[Frame]:
        """What a client reads from what this endpoint sent."""
        reader = Protocol(CLIENT, state=OPEN, max_size=None)
        reader.receive_data(bytes(self.sent))
        return cast('list[Frame]', reader.events_received())


def client_frame(opcode: int, payload: bytes, fin: bool = True,
                 rsv: int = 0, masked: bool = True) -> bytes:
    """One frame as a client writes it, including frames no library would
    write (unmasked, reserved bits, bad opcodes)."""
    first = (0x80 if fin else 0) | rsv | opcode
    mask_bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        header = bytes((first, mask_bit | n))
    elif n < 0x10000:
        header = bytes((first, mask_bit | 126)) + n.to_bytes(2, 'big')
    else:
        header = bytes((first, mask_bit | 127)) + n.to_bytes(8, 'big')
    if not masked:
        return header + payload
    key = b'\x12\x34\x56\x78'
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def client_frames(messages: list[str | bytes]) -> bytes:
    """Whole messages as a websockets client writes them."""
    writer = Protocol(CLIENT, state=OPEN)
    for message in messages:
        if isinstance(message, str):
            writer.send_text(message.encode())
        else:
            writer.send_binary(message)
    return b''.join(writer.data_to_send())


def parse_server_frame(data: bytes) -> tuple[int, bytes, bytes]:
    """``(first header byte, payload, rest)`` of an unmasked frame, read
    by hand rather than by the library that wrote it."""
    assert not data[1] & 0x80, 'server frames are not masked'
    length, offset = data[1] & 0x7f, 2
    if length == 126:
        length, offset = int.from_bytes(data[2:4], 'big'), 4
    elif length == 127:
        length, offset = int.from_bytes(data[2:10], 'big'), 10
    return data[0], data[offset:offset + length], data[offset + length:]


def close_code(frame: Frame) -> int:
    assert frame.opcode is Opcode.CLOSE
    return Close.parse(frame.data).code


@pytest.mark.parametrize('size', [0, 1, 125, 126, 65535, 65536, 200_000])
def test_messages_of_every_length_class(size: int) -> None:
    text = 'é' * (size // 2)
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    ws = MemoryWebSocket([client_frames([text, data])], 1_000_000)
    messages = ws.messages()
    assert messages == [text, data]
    assert type(messages[0]) is str and type(messages[1]) is bytes


def test_bytes_arriving_one_at_a_time() -> None:
    stream = client_frames(['hello', b'\x00\x01', 'x' * 300])
    ws = MemoryWebSocket([stream[i:i + 1] for i in range(len(stream))], 1000)
    assert ws.messages() == ['hello', b'\x00\x01', 'x' * 300]


def test_fragmented_message_with_a_ping_between_fragments() -> None:
    text = 'cé'.encode()
    stream = (client_frame(1, b'ab', fin=False)
              + client_frame(9, b'p')
              + client_frame(0, text[:2], fin=False)
              + client_frame(0, text[2:]))
    ws = MemoryWebSocket([stream], 100)
    assert ws.messages() == ['abcé']
    pong, = ws.frames_sent()
    assert pong.opcode is Opcode.PONG and pong.data == b'p'


def test_fragmented_binary_message() -> None:
    stream = (client_frame(2, b'\xff\x00', fin=False)
              + client_frame(0, b'\x01', fin=False)
              + client_frame(0, b'\xfe'))
    assert MemoryWebSocket([stream], 100).messages() == [b'\xff\x00\x01\xfe']


def test_size_limit_is_checked_on_the_header() -> None:
    # Only the header of an 11-byte frame: refused before its payload.
    ws = MemoryWebSocket([client_frame(2, b'x' * 11)[:6]], 10)
    with pytest.raises(ContentTooLongError):
        ws.wait()
    assert ws.closed and ws.hung_up
    close, = ws.frames_sent()
    assert close_code(close) == 1009
    assert ws.wait() is None


def test_size_limit_applies_to_the_whole_message() -> None:
    ws = MemoryWebSocket([client_frame(1, b'x' * 6, fin=False),
                          client_frame(0, b'x' * 5)[:6]], 10)
    with pytest.raises(ContentTooLongError):
        ws.wait()
    assert close_code(ws.frames_sent()[0]) == 1009
    assert MemoryWebSocket([client_frame(1, b'x' * 10)], 10).messages() \
        == ['x' * 10]


@pytest.mark.parametrize('frame, code', [
    (client_frame(1, b'a', masked=False), 1002),
    (client_frame(1, b'a', rsv=0x40), 1002),
    (client_frame(3, b'a'), 1002),
    (client_frame(11, b'a'), 1002),
    (client_frame(9, b'a', fin=False), 1002),
    (client_frame(9, b'a' * 126), 1002),
    (client_frame(0, b'a'), 1002),
    (client_frame(1, b'a', fin=False) + client_frame(2, b'b'), 1002),
    (client_frame(1, b'\xff'), 1007),
    (client_frame(1, b'\xc3', fin=False) + client_frame(0, b'a'), 1007),
    (client_frame(8, b'\x03'), 1002),
    (client_frame(8, (1005).to_bytes(2, 'big')), 1002),
    (client_frame(8, (999).to_bytes(2, 'big')), 1002),
    (client_frame(8, (1000).to_bytes(2, 'big') + b'\xff'), 1007),
])
def test_protocol_errors_close_with_their_code(frame: bytes, code: int) -> None:
    ws = MemoryWebSocket([frame, client_frames(['after'])], 1000)
    assert ws.messages() == []
    assert ws.closed and ws.hung_up
    close, = ws.frames_sent()
    assert close_code(close) == code


@pytest.mark.parametrize('code', [1000, 1001, 1011, 3000, 4999])
def test_a_close_frame_is_echoed(code: int) -> None:
    payload = code.to_bytes(2, 'big') + b'bye'
    ws = MemoryWebSocket([client_frames(['hi']) + client_frame(8, payload)
                          + client_frames(['ignored'])], 10)
    assert ws.messages() == ['hi']
    assert ws.closed and not ws.hung_up
    close, = ws.frames_sent()
    assert close_code(close) == code


@pytest.mark.parametrize('message', ['', 'abc', 'é' * 100, b'', b'\x00' * 70000])
def test_send_writes_what_a_client_reads(message: str | bytes) -> None:
    ws = MemoryWebSocket([], 10)
    ws.send(message)
    head, payload, rest = parse_server_frame(bytes(ws.sent))
    # FIN set, no reserved bit, text or binary; one frame, nothing more.
    assert head == (0x81 if isinstance(message, str) else 0x82)
    assert payload == (message.encode() if isinstance(message, str)
                       else message)
    assert rest == b''


def test_close_sends_its_code_once_and_stops_sending() -> None:
    ws = MemoryWebSocket([], 10)
    ws.close(1001)
    ws.close()
    assert ws.hung_up
    close, = ws.frames_sent()
    assert close_code(close) == 1001
    with pytest.raises(ConnectionError):
        ws.send('late')


def handshake_environ(key: str) -> dict[str, Any]:
    return {'PATH_INFO': '/engine.io/', 'QUERY_STRING': 'EIO=4',
            'HTTP_HOST': 'localhost', 'HTTP_UPGRADE': 'websocket',
            'HTTP_CONNECTION': 'Upgrade', 'HTTP_SEC_WEBSOCKET_KEY': key,
            'HTTP_SEC_WEBSOCKET_VERSION': '13'}


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b''
    while marker not in data:
        chunk = sock.recv(4096)
        assert chunk
        data += chunk
    return data


def test_raw_socket_websocket_over_a_socket_pair() -> None:
    server, client = socket.socketpair()
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        ws = RawSocketWebSocket(server, handshake_environ(key),
                                threading.Lock(), 100, 5.0)
        response = read_until(client, b'\r\n\r\n')
        assert response.startswith(b'HTTP/1.1 101')
        client.sendall(client_frames(['4hello', b'\x01\x02'])
                       + client_frame(9, b'hb'))
        assert ws.wait() == '4hello'
        assert ws.wait() == b'\x01\x02'
        ws.send('4back')
        client.sendall(client_frame(2, b'x' * 101)[:8])
        with pytest.raises(ContentTooLongError):
            ws.wait()
        client.settimeout(5)
        received = b''
        while chunk := client.recv(4096):  # the server shut its side down
            received += chunk
        reader = Protocol(CLIENT, state=OPEN, max_size=None)
        reader.receive_data(received)
        frames = cast('list[Frame]', reader.events_received())
        assert [f.opcode for f in frames] == [Opcode.PONG, Opcode.TEXT,
                                             Opcode.CLOSE]
        assert frames[1].data == b'4back'
        assert close_code(frames[2]) == 1009
    finally:
        server.close()
        client.close()


def test_handshake_reads_only_the_headers_it_needs() -> None:
    # A 20 KB cookie is beyond websockets' 8 KiB header line limit; the
    # handshake has no use for it, so it does not refuse the request.
    server, client = socket.socketpair()
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        environ = dict(handshake_environ(key), HTTP_COOKIE='a=' + 'b' * 20000)
        RawSocketWebSocket(server, environ, threading.Lock(), 100, 5.0)
        response = read_until(client, b'\r\n\r\n').decode('latin-1')
        assert response.startswith('HTTP/1.1 101 ')
        expected = base64.b64encode(hashlib.sha1(
            (key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest())
        assert f'Sec-WebSocket-Accept: {expected.decode()}\r\n' in response
        assert 'Sec-WebSocket-Extensions' not in response
    finally:
        server.close()
        client.close()
