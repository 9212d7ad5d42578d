"""Protocol v3 (Engine.IO 3.x clients, Socket.IO v2) as a variation of v4.

Only three things differ, and all of them live here:

* the codec: long-polling payloads are length-prefixed (``<len>:<packet>``,
  the length in UTF-16 code units as JavaScript counts them) or, for clients
  with XHR2 binary support, a binary payload (a 0/1 byte, the length as
  decimal-digit bytes, 0xFF, then the packet); a base64 binary packet is
  ``b<type><base64>``; a binary WebSocket frame starts with its packet type
  byte;
* the heartbeat direction: the client pings and the server answers, and a
  client that does not ping within pingInterval + pingTimeout is gone;
* the open packet has no ``maxPayload``.

A v3 session is an ordinary :class:`~engineio.sansio.session.Session` (or a
driver's subclass of it) whose class gets :class:`V3Session` mixed in at the
handshake (:func:`adopt`).  The v4 methods are thus left exactly as they
are: a v4 session pays nothing for v3 support.  Pure code: no I/O.
"""
from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import Iterable, Sequence
from typing import Any, cast

from .. import packet as pk
from ..exceptions import ProtocolError
from ..packet import Frame
from ..payload import MAX_DECODE_PACKETS
from .events import Disconnected, MessageReceived, Reason, UpgradeCompleted
from .session import NOT_A_MESSAGE, WEBSOCKET, Push, Session, State

PROTOCOL_VERSION = '3'

#: Most decimal digits accepted in one length prefix of a payload (the body
#: itself is bounded by ``max_http_buffer_size``).
MAX_LENGTH_DIGITS = 10

TEXT_CONTENT_TYPE = 'text/plain; charset=UTF-8'
BINARY_CONTENT_TYPE = 'application/octet-stream'

# The packet type byte of a binary message (WebSocket frames, binary payloads).
_MESSAGE_BYTE = b'\x04'
# Binary payload entries: 0 = text packet, 1 = binary packet; 0xFF ends the
# length, whose digits are written as the byte values 0..9.
_TEXT_ENTRY, _BINARY_ENTRY, _LENGTH_END = 0, 1, 0xFF
_DIGIT_BYTES = bytes.maketrans(b'0123456789', bytes(range(10)))
# UTF-16 in the machine's order, so a memoryview cast gives code units.
_UTF16 = 'utf-16-le' if sys.byteorder == 'little' else 'utf-16-be'


# -- packets -------------------------------------------------------------
def b64_packet(data: bytes) -> str:
    """A binary message as text: ``b4`` + base64 (v3 keeps the type)."""
    return 'b4' + base64.b64encode(data).decode('ascii')


def ws_frame(frame: Frame, b64: bool) -> Frame:
    """A v4-style frame as a v3 WebSocket frame: binary messages get their
    type byte (or become ``b4<base64>`` text for a ``b64=1`` WebSocket)."""
    if isinstance(frame, str):
        return frame
    data = bytes(frame)
    return b64_packet(data) if b64 else _MESSAGE_BYTE + data


def decode_packet(text: str) -> tuple[int, Any]:
    """Decode one v3 text packet into ``(packet_type, data)``."""
    if text[:1] != 'b':
        return pk.decode_text(text)
    # v3: "b<type><base64>": the packet type survives the base64 form.
    packet_type = ord(text[1:2] or '\0') - 48
    if not 0 <= packet_type <= 6:
        raise ProtocolError('bad packet type in base64 packet')
    try:
        return packet_type, base64.b64decode(text[2:], validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError('invalid base64 in binary packet') from None


def decode_binary_packet(data: bytes) -> tuple[int, Any]:
    """Decode one v3 binary packet: its type byte, then the data."""
    if not data:
        raise ProtocolError('empty binary packet')
    packet_type = data[0]
    if packet_type > 6:
        raise ProtocolError(f'bad packet type {packet_type} in binary packet')
    return packet_type, bytes(data[1:])


# -- payloads ------------------------------------------------------------
def utf16_length(text: str) -> int:
    """The length of ``text`` as JavaScript counts it (UTF-16 code units)."""
    if text.isascii():
        return len(text)
    return len(text.encode(_UTF16)) // 2


def encode_payload(frames: Iterable[Frame], b64: bool) -> tuple[bytes, str]:
    """Encode frames as a v3 polling payload: ``(body, content type)``.

    Binary messages make a binary payload unless the client asked for base64
    (``b64=1``), in which case they travel as ``b4<base64>`` text packets.
    """
    frames = list(frames)
    if not b64 and any(type(f) is not str for f in frames):
        return _encode_binary_payload(frames), BINARY_CONTENT_TYPE
    parts = []
    for f in frames:
        text = f if isinstance(f, str) else b64_packet(bytes(f))
        parts.append(f'{utf16_length(text)}:{text}')
    # An empty v3 payload is "0:", never an empty body.
    return (''.join(parts) or '0:').encode('utf-8'), TEXT_CONTENT_TYPE


def _encode_binary_payload(frames: list[Frame]) -> bytes:
    out = bytearray()
    for f in frames:
        if isinstance(f, str):
            # Text packets of a binary payload: UTF-8, length in bytes.
            data = f.encode('utf-8')
            out.append(_TEXT_ENTRY)
        else:
            data = _MESSAGE_BYTE + bytes(f)
            out.append(_BINARY_ENTRY)
        out += str(len(data)).encode('ascii').translate(_DIGIT_BYTES)
        out.append(_LENGTH_END)
        out += data
    return bytes(out)


def decode_payload(body: bytes | str,
                   max_packets: int = MAX_DECODE_PACKETS
                   ) -> list[tuple[int, Any]]:
    """Split a v3 polling payload into ``(packet_type, data)`` tuples.

    A binary payload starts with a 0 or 1 byte, a text payload with a digit,
    so the two are told apart without the Content-Type.
    """
    if isinstance(body, str):
        text = body
    else:
        if not body:
            raise ProtocolError('empty payload')
        if body[0] in (_TEXT_ENTRY, _BINARY_ENTRY):
            return _decode_binary_payload(bytes(body), max_packets)
        try:
            text = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise ProtocolError('payload is not valid UTF-8') from None
    if not text:
        raise ProtocolError('empty payload')
    return [decode_packet(p) for p in _split_text(text, max_packets)]


def _read_length(units: Sequence[int], i: int, end_mark: int,
                 zero: int) -> tuple[int, int]:
    """Read the decimal length starting at ``i``, up to ``end_mark``.

    Returns ``(length, index after the mark)``.  ``zero`` is the unit of the
    digit 0 (``ord('0')`` in text, 0 in binary payloads).
    """
    n = len(units)
    length = 0
    j = i
    while True:
        if j >= n:
            raise ProtocolError('payload ends inside a length')
        c = units[j]
        if c == end_mark:
            break
        digit = c - zero
        if not 0 <= digit <= 9:
            raise ProtocolError('bad character in a payload length')
        if j - i >= MAX_LENGTH_DIGITS:
            raise ProtocolError('payload length too long')
        length = length * 10 + digit
        j += 1
    if j == i:
        raise ProtocolError('empty payload length')
    return length, j + 1


def _split_text(text: str, max_packets: int) -> list[str]:
    """The packets of a text payload; lengths count UTF-16 code units."""
    units: Sequence[int]
    if text.isascii():
        units = text.encode('ascii')
        wide = None
    else:
        # Code units, not code points: a character outside the BMP counts 2.
        wide = memoryview(text.encode(_UTF16)).cast('H')
        units = cast(Sequence[int], wide)
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        length, start = _read_length(units, i, 0x3A, 0x30)  # ':', '0'
        end = start + length
        if end > n:
            raise ProtocolError('packet longer than its payload')
        if length:  # "0:" carries no packet
            if wide is None:
                out.append(text[start:end])
            else:
                try:
                    out.append(wide[start:end].tobytes().decode(_UTF16))
                except UnicodeDecodeError:
                    raise ProtocolError('packet length splits a character') \
                        from None
            if len(out) > max_packets:
                raise ProtocolError(f'payload has more than {max_packets} packets')
        i = end
    return out


def _decode_binary_payload(body: bytes, max_packets: int
                           ) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    i, n = 0, len(body)
    while i < n:
        kind = body[i]
        if kind != _TEXT_ENTRY and kind != _BINARY_ENTRY:
            raise ProtocolError('bad entry type in binary payload')
        length, start = _read_length(body, i + 1, _LENGTH_END, 0)
        end = start + length
        if end > n:
            raise ProtocolError('packet longer than its payload')
        chunk = body[start:end]
        if kind == _TEXT_ENTRY:
            try:
                text = chunk.decode('utf-8')
            except UnicodeDecodeError:
                raise ProtocolError('text packet is not valid UTF-8') from None
            if text:
                out.append(decode_packet(text))
        else:
            out.append(decode_binary_packet(chunk))
        if len(out) > max_packets:
            raise ProtocolError(f'payload has more than {max_packets} packets')
        i = end
    return out


# -- the session variation -----------------------------------------------
class V3Session(Session):
    """The v3 behaviour of a session, mixed in before the driver's class.

    Only the methods that differ are here; everything else (states, the
    buffer, the upgrade sequence) is the v4 session's own.
    """

    __slots__ = ()

    protocol = 3

    def push(self, frame: Frame) -> Push:
        if type(frame) is str or self.transport != WEBSOCKET:
            # Text is the same in both versions; on polling the payload
            # codec adds the v3 binary framing.
            return Session.push(self, frame)
        if self.state is not State.OPEN:
            return Push.DROPPED
        frame = ws_frame(frame, self.ws_b64)
        if self.direct:
            # The driver holds the v4 frame: have it write the v3 one.
            self._buffer.append(frame)
            return Push.FLUSH
        return Session.push(self, frame)

    def receive(self, packet_type: int, data: Any, now: float
                ) -> MessageReceived | Disconnected | Push | None:
        if packet_type != pk.PING or self.state is not State.OPEN:
            return Session.receive(self, packet_type, data, now)
        # v3 heartbeat: the client pings and the server answers with a pong
        # carrying the same data; each ping proves the client alive.
        hb = self.heartbeat
        self.deadline = now + hb.interval + hb.timeout
        # Control frames never count against the buffer limit.
        self._buffer.append('3' + (data if isinstance(data, str) else ''))
        return Push.FLUSH if self.direct else Push.BUFFERED

    def message_of(self, frame: Frame) -> Any:
        # v3 binary frames start with their packet type byte, and "b..."
        # text is base64: receive_frame() decodes both.
        if type(frame) is not str:
            return NOT_A_MESSAGE
        return Session.message_of(self, frame)

    def receive_frame(self, frame: Frame, now: float
                      ) -> MessageReceived | Disconnected | Push | None:
        if type(frame) is str:
            if frame[:1] != 'b':
                return Session.receive_frame(self, frame, now)
            decode = decode_packet
        else:
            decode = decode_binary_packet  # type: ignore[assignment]
        if self.state is not State.OPEN:
            return None
        try:
            # v3: binary frames start with their packet type byte; a b64=1
            # client sends "b<type><base64>" text instead.
            packet_type, data = decode(frame)  # type: ignore[arg-type]
        except ProtocolError:
            return self.close(Reason.TRANSPORT_ERROR)
        if packet_type == pk.MESSAGE:
            return MessageReceived(data)
        return self.receive(packet_type, data, now)

    def start_heartbeat(self, now: float) -> None:
        # v3 heartbeat: the first client ping is due one pingInterval after
        # the open packet, and the server waits pingTimeout longer.
        hb = self.heartbeat
        self.deadline = now + hb.interval + hb.timeout

    def _heartbeat_due(self, now: float, out: list[Any]) -> None:
        # v3 heartbeat: the server never pings; no ping from the client
        # within pingInterval + pingTimeout means it is gone.
        if self.heartbeat.enforce:
            out.append(self.close(Reason.PING_TIMEOUT))
        else:
            hb = self.heartbeat
            self.deadline = now + hb.interval + hb.timeout

    def probe_frame(self, frame: Frame, now: float) -> tuple[str | None, Any]:
        reply, outcome = Session.probe_frame(self, frame, now)
        if type(outcome) is UpgradeCompleted:
            # What polling left in the buffer now goes to the WebSocket:
            # give its binary messages their v3 WebSocket form.
            b64 = self.ws_b64
            self._buffer = [f if type(f) is str else ws_frame(f, b64)
                            for f in self._buffer]
        return reply, outcome

    def wire(self, frame: Frame) -> Frame:
        """``frame`` as this session's transport carries it (not buffered)."""
        if self.transport == WEBSOCKET and type(frame) is not str:
            return ws_frame(frame, self.ws_b64)
        return frame


_classes: dict[type[Session], type[Session]] = {}


def adopt(session: Session, b64: bool) -> None:
    """Turn a freshly created session into a v3 session.

    The session's class (the driver's socket class) gets :class:`V3Session`
    mixed in, once per class; ``b64`` is the handshake's ``b64=1`` flag.
    """
    cls = type(session)
    v3_cls = _classes.get(cls)
    if v3_cls is None:
        v3_cls = _classes[cls] = cast(type[Session], type(
            cls.__name__, (V3Session, cls),
            {'__slots__': (), '__module__': cls.__module__,
             '__qualname__': cls.__qualname__, '__doc__': cls.__doc__}))
    session.__class__ = v3_cls
    session.b64 = session.ws_b64 = b64
