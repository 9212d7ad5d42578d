"""Engine.IO packets: the packet types and the single-packet codec.

A packet travels either as a text frame (``"4hello"``: a type digit followed
by the data) or, for binary messages, as raw bytes (WebSocket) or as ``"b"``
followed by base64 (inside an HTTP long-polling payload).  This module is pure:
it does no I/O.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any, Union

from . import json as _default_json
from .exceptions import ProtocolError, UnknownPacketError

OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = 0, 1, 2, 3, 4, 5, 6
packet_names = ['OPEN', 'CLOSE', 'PING', 'PONG', 'MESSAGE', 'UPGRADE', 'NOOP']
binary_types = (bytes, bytearray)

#: An encoded packet as it goes on the wire: ``str`` for a text frame,
#: ``bytes`` for a binary message sent as a WebSocket binary frame.
Frame = Union[str, bytes]

_TYPE_CHARS = '0123456789'
# Only data that opens like a JSON container is tried as JSON: a plain text
# message never pays for a failed parse.
_JSON_OPENERS = ('{', '[')


def set_json(module: Any) -> None:
    """Replace the JSON module used by every packet (process-wide)."""
    Packet.json = module if module is not None else _default_json


def encode_data(packet_type: int, data: Any) -> Frame:
    """Encode one packet as a WebSocket frame.

    Binary data gives raw ``bytes`` (binary messages carry no type on a
    WebSocket); anything else gives a ``str`` starting with the type digit.
    """
    if isinstance(data, str):
        return _TYPE_CHARS[packet_type] + data
    if type(data) is bytes:
        return data  # immutable: no copy needed
    if data is None:
        return _TYPE_CHARS[packet_type]
    if isinstance(data, binary_types):
        return bytes(data)
    encoded: str = Packet.json.dumps(data, separators=(',', ':'))
    return _TYPE_CHARS[packet_type] + encoded


def b64_frame(data: bytes | bytearray) -> str:
    """The text form of a binary message inside a polling payload."""
    return 'b' + base64.b64encode(data).decode('ascii')


def decode_text(frame: str) -> tuple[int, Any]:
    """Decode a text frame into ``(packet_type, data)``.

    Raises :class:`UnknownPacketError` for an unknown type and
    :class:`ProtocolError` for an empty frame or invalid base64.
    """
    if not frame:
        raise ProtocolError('empty packet')
    c = frame[0]
    if c == 'b':
        try:
            return MESSAGE, base64.b64decode(frame[1:], validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError('invalid base64 in binary packet') from None
    packet_type = ord(c) - 48
    if not 0 <= packet_type <= 6:
        raise UnknownPacketError(f'unknown packet type {c!r}')
    data: Any = frame[1:]
    if data[:1] in _JSON_OPENERS:
        try:
            data = Packet.json.loads(data)
        except ValueError:
            pass  # text that merely starts with a bracket stays text
    elif not data and packet_type != MESSAGE:
        data = None
    return packet_type, data


class Packet:
    """An Engine.IO packet.

    :param packet_type: one of the packet type constants of this module.
    :param data: the payload: ``str``, ``bytes``, or a JSON-serializable
                 ``dict``/``list``.
    :param encoded_packet: when given, the packet is decoded from it instead.
    """

    __slots__ = ('binary', 'data', 'packet_type')

    json: Any = _default_json

    def __init__(self, packet_type: int = NOOP, data: Any = None,
                 encoded_packet: Frame | None = None) -> None:
        self.packet_type = packet_type
        self.data = data
        self.binary = isinstance(data, binary_types)
        if encoded_packet is not None:
            self.decode(encoded_packet)

    def encode(self, b64: bool = False) -> Frame:
        """Encode the packet for transmission.

        :param b64: encode binary data as a ``"b"``-prefixed base64 string,
                    as required inside an HTTP long-polling payload.
        """
        if self.binary and b64:
            return b64_frame(self.data)
        return encode_data(self.packet_type, self.data)

    def decode(self, encoded_packet: Frame) -> None:
        """Decode an encoded packet into this object."""
        if isinstance(encoded_packet, (bytes, bytearray, memoryview)):
            self.packet_type = MESSAGE
            self.data = bytes(encoded_packet)
            self.binary = True
            return
        self.packet_type, self.data = decode_text(encoded_packet)
        self.binary = isinstance(self.data, bytes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (self.packet_type, self.data) == (other.packet_type, other.data)

    def __repr__(self) -> str:
        name = packet_names[self.packet_type] \
            if 0 <= self.packet_type < len(packet_names) else self.packet_type
        return f'Packet({name}, {self.data!r})'
