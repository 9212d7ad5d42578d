"""Packet and payload codec: pure tests."""
from __future__ import annotations

import pytest

from engineio import packet, payload
from engineio.exceptions import ProtocolError, UnknownPacketError
from engineio.packet import Packet


@pytest.mark.parametrize('ptype,data,wire', [
    (packet.MESSAGE, 'hello', '4hello'),
    (packet.MESSAGE, '', '4'),
    (packet.PING, None, '2'),
    (packet.PING, 'probe', '2probe'),
    (packet.PONG, 'probe', '3probe'),
    (packet.CLOSE, None, '1'),
    (packet.NOOP, None, '6'),
    (packet.UPGRADE, None, '5'),
    (packet.MESSAGE, {'a': 1}, '4{"a":1}'),
    (packet.MESSAGE, [1, 'x'], '4[1,"x"]'),
    (packet.MESSAGE, 'héllo ☃', '4héllo ☃'),
])
def test_text_packets_round_trip(ptype, data, wire):
    assert Packet(ptype, data).encode() == wire
    decoded = Packet(encoded_packet=wire)
    assert decoded.packet_type == ptype
    assert decoded.data == data


def test_binary_message_is_raw_on_websocket_and_b64_in_payload():
    p = Packet(packet.MESSAGE, b'\x00\x01\xff')
    assert p.binary
    assert p.encode() == b'\x00\x01\xff'
    assert p.encode(b64=True) == 'bAAH/'
    assert Packet(encoded_packet='bAAH/').data == b'\x00\x01\xff'
    assert Packet(encoded_packet=b'\x00\x01\xff').data == b'\x00\x01\xff'


def test_text_that_only_looks_like_json_stays_text():
    assert Packet(encoded_packet='4{not json').data == '{not json'
    assert Packet(encoded_packet='4123').data == '123'
    assert Packet(encoded_packet='4true').data == 'true'


def test_unknown_type_and_bad_base64_are_errors():
    with pytest.raises(UnknownPacketError):
        Packet(encoded_packet='9x')
    with pytest.raises(ProtocolError):
        Packet(encoded_packet='b!!!')
    with pytest.raises(ProtocolError):
        Packet(encoded_packet='')


def test_payload_join_and_split():
    frames = ['4hello', b'\x01\x02', '2', '4{"a":[1]}']
    text = payload.encode_frames(frames)
    assert text == '4hello\x1ebAQI=\x1e2\x1e4{"a":[1]}'
    assert payload.decode_body(text.encode()) == [
        (4, 'hello'), (4, b'\x01\x02'), (2, None), (4, {'a': [1]})]


def test_payload_class_compat():
    p = payload.Payload(packets=[Packet(packet.MESSAGE, 'a'),
                                 Packet(packet.MESSAGE, b'\x00')])
    encoded = p.encode()
    assert encoded == '4a\x1ebAA=='
    again = payload.Payload(encoded_payload=encoded)
    assert [(x.packet_type, x.data) for x in again.packets] == [
        (4, 'a'), (4, b'\x00')]


@pytest.mark.parametrize('body', [b'', b'\xff\xfe', b'4ok\x1e', b'4ok\x1e9',
                                  b'bnot-base64!'])
def test_bad_payloads_raise_protocol_error(body):
    with pytest.raises(ProtocolError):
        payload.decode_body(body)


def test_payload_packet_bound():
    body = '\x1e'.join(['4x'] * 11).encode()
    assert len(payload.decode_body(body, max_packets=11)) == 11
    with pytest.raises(ProtocolError):
        payload.decode_body(body, max_packets=10)


def test_custom_json_module_is_used():
    class Tagging:
        @staticmethod
        def dumps(obj, **kw):
            return '{"tagged":true}'

        @staticmethod
        def loads(s, **kw):
            return {'loaded': s}

    packet.set_json(Tagging)
    try:
        assert Packet(packet.MESSAGE, {'x': 1}).encode() == '4{"tagged":true}'
        assert Packet(encoded_packet='4{"y":2}').data == {'loaded': '{"y":2}'}
    finally:
        packet.set_json(None)
    assert Packet(encoded_packet='4{"y":2}').data == {'y': 2}
