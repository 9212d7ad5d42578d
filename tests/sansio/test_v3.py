"""Protocol v3 in the core (``allow_eio3``): codec, routing, heartbeat
direction, WebSocket binary frames and the upgrade, with a fake clock."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio import packet as pk
from engineio.exceptions import ProtocolError
from engineio.sansio import v3
from engineio.sansio.events import (
    Disconnected,
    MessageReceived,
    Reason,
    UpgradeCompleted,
)
from engineio.sansio.models import Request
from engineio.sansio.server import Action, ServerConfig, ServerCore
from engineio.sansio.session import NOT_A_MESSAGE, POLLING, WEBSOCKET, Push, Session
from engineio.socket import Socket

INTERVAL, TIMEOUT = 25.0, 20.0


def make_core(**options) -> ServerCore:
    options.setdefault('ping_interval', INTERVAL)
    options.setdefault('ping_timeout', TIMEOUT)
    options.setdefault('allow_eio3', True)
    return ServerCore(ServerConfig(**options))


def req(method='GET', websocket=False, **query):
    query.setdefault('EIO', '3')
    query.setdefault('transport', POLLING)
    return Request(method, query, websocket=websocket)


def handshake(core, transport=POLLING, now=0.0, sid='abc', **query):
    route = core.route(req(transport=transport,
                           websocket=transport == WEBSOCKET, **query), now)
    assert route.action is Action.HANDSHAKE
    assert route.protocol == 3
    session = core.open_session(sid, transport, now, Session, route.protocol,
                                route.b64)
    frames = core.accept(session, now)
    return session, frames


def upgrade(core, session, now=1.0, **query):
    route = core.route(req(transport=WEBSOCKET, websocket=True,
                           sid=session.sid, **query), now)
    assert route.action is Action.UPGRADE
    session.begin_upgrade(now)
    assert session.probe_frame('2probe', now) == ('3probe', None)
    _, outcome = session.probe_frame('5', now)
    assert type(outcome) is UpgradeCompleted
    return session


def go_direct(session):
    frames = session.take()
    assert session.finish_flush()
    return frames


# -- codec ---------------------------------------------------------------
def test_text_payload_counts_utf16_code_units():
    body, ctype = v3.encode_payload(['4hello', '4é😀', '2'], b64=False)
    assert ctype.startswith('text/plain')
    # "4é😀" is 3 characters in Python but 4 UTF-16 code units.
    assert body.decode('utf-8') == '6:4hello4:4é😀1:2'
    assert v3.decode_payload(body) == [(pk.MESSAGE, 'hello'),
                                       (pk.MESSAGE, 'é😀'), (pk.PING, None)]


def test_empty_payload_is_zero_colon():
    assert v3.encode_payload([], b64=True)[0] == b'0:'
    assert v3.decode_payload(b'0:') == []
    assert v3.decode_payload(b'0:1:6') == [(pk.NOOP, None)]


def test_binary_payload_layout():
    body, ctype = v3.encode_payload(['4hé', b'\x01\x02\x03'], b64=False)
    assert ctype == 'application/octet-stream'
    # text entry: 0, length in UTF-8 bytes as digit bytes, 255, the packet;
    # binary entry: 1, length, 255, type byte 4, the data.
    assert body == (b'\x00\x04\xff4h\xc3\xa9'
                    b'\x01\x04\xff\x04\x01\x02\x03')
    assert v3.decode_payload(body) == [(pk.MESSAGE, 'hé'),
                                       (pk.MESSAGE, b'\x01\x02\x03')]


def test_long_binary_entry_has_several_length_digits():
    data = bytes(range(256)) * 5
    body, _ = v3.encode_payload([data], b64=False)
    assert body[:6] == b'\x01\x01\x02\x08\x01\xff'  # 1281 bytes
    assert v3.decode_payload(body) == [(pk.MESSAGE, data)]


def test_b64_payload_keeps_the_packet_type():
    body, ctype = v3.encode_payload(['4a', b'\x00\xff'], b64=True)
    assert ctype.startswith('text/plain')
    assert body == b'2:4a6:b4AP8='
    assert v3.decode_payload(body) == [(pk.MESSAGE, 'a'),
                                       (pk.MESSAGE, b'\x00\xff')]


def test_text_only_payload_stays_text_without_b64():
    body, ctype = v3.encode_payload(['4a'], b64=False)
    assert (body, ctype.split(';')[0]) == (b'2:4a', 'text/plain')


def test_json_messages_decode_as_in_v4():
    assert v3.decode_payload(b'8:4{"a":1}') == [(pk.MESSAGE, {'a': 1})]


@pytest.mark.parametrize('body', [
    b'', '', b'4hello', b':4', b'5:4hi', b'2:4a3', b'x:4a', b'1:9',
    b'12345678901:4', b'3:b4!', b'4:b9AA', b'2:4\xff',
    b'\x02\x01\xff4', b'\x00\x05\xff4a', b'\x01\x01', b'\x01\x0a\xff' + b'4' * 10,
    b'\x01\x00\xff', b'\x01\x01\xff\x09', b'\x00\x02\xff\xc3\x28',
    b'\x00' + b'\x01' * 11 + b'\xff',
    # a length that splits a surrogate pair (the emoji is 2 code units)
    '2:4😀'.encode(),
])
def test_malformed_payloads_raise_protocol_error(body):
    with pytest.raises(ProtocolError):
        v3.decode_payload(body)


def test_payload_packet_limit():
    with pytest.raises(ProtocolError):
        v3.decode_payload(b'1:6' * 11, max_packets=10)
    with pytest.raises(ProtocolError):
        v3.decode_payload(b'\x00\x01\xff6' * 11, max_packets=10)
    assert len(v3.decode_payload(b'1:6' * 10, max_packets=10)) == 10


frames = st.lists(
    st.text(st.characters(blacklist_categories=('Cs',))).map(lambda t: '4' + t)
    | st.binary(max_size=300), max_size=8)


@settings(max_examples=200, deadline=None)
@given(frames, st.booleans())
def test_payload_round_trip(items, b64):
    body, _ = v3.encode_payload(items, b64)
    decoded = v3.decode_payload(body)
    want = [pk.decode_text(f) if isinstance(f, str) else (pk.MESSAGE, f)
            for f in items]
    assert decoded == want


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64))
def test_decoder_fails_only_with_protocol_error(body):
    try:
        v3.decode_payload(body)
    except ProtocolError:
        pass


def test_utf16_length():
    assert v3.utf16_length('abc') == 3
    assert v3.utf16_length('é☃') == 2
    assert v3.utf16_length('😀𝄞') == 4


# -- routing -------------------------------------------------------------
def test_eio3_refused_unless_allowed():
    core = ServerCore(ServerConfig())
    r = core.route(req(), 0.0)
    assert r.action is Action.REPLY and r.response.status == 400
    assert json.loads(r.response.body)['code'] == 5


def test_eio3_handshake_route_carries_protocol_and_b64():
    core = make_core()
    r = core.route(req(b64='1'), 0.0)
    assert (r.action, r.protocol, r.b64) == (Action.HANDSHAKE, 3, True)
    r = core.route(req(), 0.0)
    assert (r.protocol, r.b64) == (3, False)
    r = core.route(req(EIO='4'), 0.0)
    assert (r.protocol, r.b64) == (4, False)


def test_jsonp_is_refused():
    r = make_core().route(req(j='0'), 0.0)
    assert r.response.status == 400 and 'JSONP' in r.error


def test_protocol_must_match_the_session():
    core = make_core()
    handshake(core, sid='v3')
    s4 = core.open_session('v4', POLLING, 0.0)
    core.accept(s4, 0.0)
    for sid, eio in (('v3', '4'), ('v4', '3')):
        r = core.route(req(EIO=eio, sid=sid), 0.0)
        assert r.response.status == 400 and 'session' in r.error
    assert core.route(req(EIO='3', sid='v3'), 0.0).action is Action.POLL
    assert core.route(req(EIO='4', sid='v4'), 0.0).action is Action.POLL


def test_open_packet_has_no_max_payload():
    core = make_core(ping_interval=0.3, ping_timeout=0.25)
    _, frames = handshake(core)
    assert json.loads(frames[0][1:]) == {
        'sid': 'abc', 'upgrades': ['websocket'], 'pingInterval': 300,
        'pingTimeout': 250}


def test_handshake_response_is_a_v3_payload():
    core = make_core(initial_packet=b'\x01\x02')
    _, frames = handshake(core)
    r = core.payload_response(frames, req(), [])
    assert r.headers[0] == ('Content-Type', 'application/octet-stream')
    assert v3.decode_payload(r.body)[1] == (pk.MESSAGE, b'\x01\x02')
    _, frames = handshake(core, sid='b', b64='1')
    r = core.payload_response(frames, req(b64='1'), [])
    assert r.body.decode().endswith(':b4AQI=')


def test_later_polls_use_the_handshake_b64_choice():
    # engine.io-client 3.x sends b64=1 on the handshake only.
    core = make_core()
    session, _ = handshake(core, b64='1')
    assert session.b64
    session.push(b'\x07')
    r = core.payload_response(session.take_poll(),
                              req(sid=session.sid), [])
    assert r.body == b'6:b4Bw=='
    plain, _ = handshake(core, sid='p')
    plain.push(b'\x07')
    r = core.payload_response(plain.take_poll(), req(sid='p'), [], plain)
    assert r.body == b'\x01\x02\xff\x04\x07'


def test_v4_payloads_unchanged():
    core = make_core()
    r = core.payload_response(['4a', b'\x01'], req(EIO='4'), [])
    assert r.body == b'4a\x1ebAQ=='


# -- heartbeat -----------------------------------------------------------
def test_server_never_pings_a_v3_client():
    core = make_core()
    session, _ = handshake(core)
    assert session.protocol == 3
    # v3: the deadline is the client's ping, pingInterval + pingTimeout.
    assert session.next_deadline() == INTERVAL + TIMEOUT
    assert core.expire(INTERVAL) == []
    assert not session.has_output()


def test_client_ping_is_answered_and_keeps_the_session_alive():
    core = make_core()
    session, _ = handshake(core)
    events, error = core.post(session, b'1:2', 20.0)
    assert (events, error) == ([Push.BUFFERED], None)
    assert session.take_poll() == ['3']
    assert session.deadline == 20.0 + INTERVAL + TIMEOUT
    assert core.expire(INTERVAL + TIMEOUT) == []  # rescheduled, not due
    assert not session.closed
    due = core.expire(20.0 + INTERVAL + TIMEOUT)
    assert due == [(session, [Disconnected(Reason.PING_TIMEOUT)])]
    assert session.closed and 'abc' not in core.sessions


def test_ping_with_data_gets_the_same_data_back():
    session, _ = handshake(make_core())
    assert session.receive(pk.PING, 'probe', 1.0) is Push.BUFFERED
    assert session.take() == ['3probe']


def test_silent_client_times_out():
    core = make_core()
    session, _ = handshake(core)
    assert core.expire(INTERVAL + TIMEOUT - 0.01) == []
    due = core.expire(INTERVAL + TIMEOUT)
    assert due == [(session, [Disconnected(Reason.PING_TIMEOUT)])]


def test_monitor_clients_off_never_drops_a_silent_client():
    core = make_core(enforce_timeouts=False)
    session, _ = handshake(core)
    for k in range(1, 5):
        assert core.expire(k * (INTERVAL + TIMEOUT)) == []
    assert not session.closed


def test_ping_over_websocket_asks_the_driver_to_flush():
    core = make_core()
    session, frames = handshake(core, WEBSOCKET)
    assert json.loads(frames[0][1:])['upgrades'] == []
    go_direct(session)
    assert session.receive_frame('2', 3.0) is Push.FLUSH
    assert session.take() == ['3']
    assert session.deadline == 3.0 + INTERVAL + TIMEOUT


# -- websocket frames ----------------------------------------------------
def test_binary_websocket_frames_carry_the_type_byte():
    core = make_core()
    session, _ = handshake(core, WEBSOCKET)
    session.push(b'early')  # before the flush: buffered, already encoded
    assert go_direct(session) == [b'\x04early']
    assert session.push('4text') is Push.WRITE  # text is as in v4
    assert session.push(b'\x01\x02') is Push.FLUSH
    assert session.take() == [b'\x04\x01\x02']
    assert session.receive_frame(b'\x04\x09\x08', 1.0) == \
        MessageReceived(b'\x09\x08')
    assert session.receive_frame('4hi', 1.0) == MessageReceived('hi')
    # The drivers' fast path takes v4-style text messages only: a v3 binary
    # frame carries a type byte for receive_frame() to decode.
    assert session.message_of('4hi') == 'hi'
    assert session.message_of(b'\x04\x09\x08') is NOT_A_MESSAGE
    assert session.message_of('b4AQI=') is NOT_A_MESSAGE


def test_b64_websocket_uses_base64_text():
    core = make_core()
    session, _ = handshake(core, WEBSOCKET, b64='1')
    go_direct(session)
    assert session.push(b'\x01\x02') is Push.FLUSH
    assert session.take() == ['b4AQI=']
    assert session.receive_frame('b4AQI=', 1.0) == \
        MessageReceived(b'\x01\x02')


@pytest.mark.parametrize('frame', [b'', b'\x09abc', 'b4!!', 'bx'])
def test_bad_websocket_frames_close_the_session(frame):
    session, _ = handshake(make_core(), WEBSOCKET)
    go_direct(session)
    assert session.receive_frame(frame, 1.0) == \
        Disconnected(Reason.TRANSPORT_ERROR)


def test_binary_initial_packet_on_a_websocket():
    core = make_core(initial_packet=b'\x05')
    _, frames = handshake(core, WEBSOCKET)
    assert frames[1] == b'\x04\x05'
    _, frames = handshake(core, POLLING, sid='p')
    assert frames[1] == b'\x05'  # the payload codec frames it


# -- upgrade -------------------------------------------------------------
def test_upgrade_reencodes_what_polling_left_buffered():
    core = make_core()
    session, _ = handshake(core)
    session.push('4a')
    session.push(b'\x01')
    upgrade(core, session)
    assert session.transport == WEBSOCKET
    assert go_direct(session) == ['4a', b'\x04\x01']


def test_upgrade_follows_the_websocket_b64_choice():
    # A client may use base64 on polling but binary frames on its
    # WebSocket, or the other way round: each transport says so itself.
    core = make_core()
    session, _ = handshake(core, b64='1')
    session.push(b'\x01')
    upgrade(core, session)
    assert go_direct(session) == [b'\x04\x01']
    other, _ = handshake(core, sid='o')
    other.push(b'\x01')
    upgrade(core, other, b64='1')
    assert go_direct(other) == ['b4AQ==']


def test_binary_post_payload_from_the_client():
    core = make_core()
    session, _ = handshake(core)
    body = b'\x00\x02\xff4a\x01\x03\xff\x04\x01\x02\x00\x01\xff2'
    events, error = core.post(session, body, 1.0)
    assert error is None
    assert events == [MessageReceived('a'), MessageReceived(b'\x01\x02'),
                      Push.BUFFERED]


def test_malformed_post_closes_a_v3_session():
    core = make_core()
    session, _ = handshake(core)
    events, error = core.post(session, b'9:4', 1.0)
    assert events == [Disconnected(Reason.TRANSPORT_ERROR)] and error


# -- the variation itself ------------------------------------------------
def test_v4_sessions_keep_the_v4_methods():
    core = make_core()
    s4 = core.open_session('v4', POLLING, 0.0, Session)
    assert type(s4) is Session and s4.protocol == 4
    s3, _ = handshake(core)
    assert isinstance(s3, Session) and type(s3) is not Session
    assert type(s3).push is v3.V3Session.push


def test_driver_socket_class_gets_the_mixin_once():
    core = make_core()
    made = [core.open_session(sid, POLLING, 0.0, Socket, 3, False)
            for sid in ('a', 'b')]
    assert type(made[0]) is type(made[1])
    assert isinstance(made[0], Socket) and made[0].protocol == 3
    assert type(made[0]).__name__ == 'Socket'
    made[0].ws = 'a driver slot'  # the driver's slots are still there
    plain = core.open_session('c', POLLING, 0.0, Socket)
    assert type(plain) is Socket


def test_lingering_close_packet_is_not_taken_by_a_websocket_probe():
    for eio in ('3', '4'):
        core = make_core()
        if eio == '3':
            session, _ = handshake(core)
        else:
            session = core.open_session('abc', POLLING, 0.0)
            core.accept(session, 0.0)
        session.take()
        core.close(session, Reason.SERVER_DISCONNECT, 1.0)
        r = core.route(req(EIO=eio, transport=WEBSOCKET, websocket=True,
                           sid='abc'), 1.1)
        assert r.response.status == 400
        r = core.route(req(EIO=eio, sid='abc'), 1.2)
        assert r.action is Action.REPLY and r.response.status == 200
        body = r.response.body
        assert body == (b'1:1' if eio == '3' else b'1')


def test_b64_packet_helpers():
    assert v3.b64_packet(b'\x00') == 'b4' + base64.b64encode(b'\x00').decode()
    assert v3.decode_packet('b4AA==') == (pk.MESSAGE, b'\x00')
    assert v3.decode_packet('4x') == (pk.MESSAGE, 'x')
