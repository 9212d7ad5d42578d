"""HTTP long-polling payloads (protocol v4): several packets in one body.

Packets are joined by the record separator ``"\\x1e"``; binary messages are
written as ``"b"`` + base64.  This module is pure: it does no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .exceptions import ProtocolError
from .packet import Frame, Packet, b64_frame, binary_types, decode_text

SEPARATOR = '\x1e'

#: Upper bound on the packets accepted in one payload.  The real limit is the
#: byte size (``max_http_buffer_size``); this one only bounds the per-packet
#: work an abusive body can cause.  Legitimate clients batch everything they
#: have queued into one POST, so it is deliberately generous.
MAX_DECODE_PACKETS = 100_000


def encode_frames(frames: Iterable[Frame]) -> str:
    """Join encoded packets into one polling payload."""
    return SEPARATOR.join(
        b64_frame(f) if isinstance(f, binary_types) else f
        for f in frames)


def decode_body(body: bytes | str,
                max_packets: int = MAX_DECODE_PACKETS) -> list[tuple[int, Any]]:
    """Split a polling payload into ``(packet_type, data)`` tuples.

    Raises :class:`ProtocolError` (or its subclass of unknown packets) when
    the body is empty, is not UTF-8, holds too many packets or a bad packet.
    """
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            text = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise ProtocolError('payload is not valid UTF-8') from None
    else:
        text = body
    if not text:
        raise ProtocolError('empty payload')
    parts = text.split(SEPARATOR, max_packets)
    if len(parts) > max_packets:
        raise ProtocolError(f'payload has more than {max_packets} packets')
    return [decode_text(p) for p in parts]


class Payload:
    """A polling payload: a list of :class:`~engineio.packet.Packet`.

    :param packets: the packets of the payload.
    :param encoded_payload: when given, the payload is decoded from it.
    """

    max_decode_packets = MAX_DECODE_PACKETS

    def __init__(self, packets: list[Packet] | None = None,
                 encoded_payload: bytes | str | None = None) -> None:
        self.packets = packets or []
        if encoded_payload is not None:
            self.decode(encoded_payload)

    def encode(self, jsonp_index: int | None = None) -> str:
        """Encode the payload for transmission."""
        text = encode_frames(p.encode() for p in self.packets)
        if jsonp_index is not None:
            # JSONP was dropped from protocol v4 clients; kept for callers
            # that still pass the index.
            return f'___eio[{jsonp_index}]("{_js_escape(text)}");'
        return text

    def decode(self, encoded_payload: bytes | str) -> None:
        """Decode a payload into this object's packet list."""
        self.packets = []
        for packet_type, data in decode_body(encoded_payload,
                                             self.max_decode_packets):
            pkt = Packet(packet_type, data)
            self.packets.append(pkt)


def _js_escape(text: str) -> str:
    return (text.replace('\\', '\\\\').replace('"', '\\"')
            .replace('\u2028', '\\u2028').replace('\u2029', '\\u2029'))
