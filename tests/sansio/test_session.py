"""The per-session state machine and the server core, with a fake clock."""
from __future__ import annotations

import json

import pytest

from engineio.sansio.events import (
    Disconnected,
    MessageReceived,
    Reason,
    UpgradeCompleted,
)
from engineio.sansio.models import Request
from engineio.sansio.server import Action, ServerConfig, ServerCore
from engineio.sansio.session import (
    NOT_A_MESSAGE,
    POLLING,
    UPGRADE_EXPIRED,
    WEBSOCKET,
    Push,
    Upgrade,
)


def make_core(**options) -> ServerCore:
    options.setdefault('ping_interval', 25)
    options.setdefault('ping_timeout', 20)
    return ServerCore(ServerConfig(**options))


def handshake(core: ServerCore, transport=POLLING, now=0.0, sid='abc'):
    route = core.route(Request('GET', {'EIO': '4', 'transport': transport},
                               websocket=transport == WEBSOCKET), now)
    assert route.action is Action.HANDSHAKE
    session = core.open_session(sid, transport, now)
    frames = core.accept(session, now)
    return session, frames


def req(method='GET', **query):
    query.setdefault('EIO', '4')
    query.setdefault('transport', POLLING)
    return Request(method, query)


def test_open_packet_has_exact_milliseconds_and_limits():
    core = make_core(ping_interval=0.3, ping_timeout=0.25,
                     max_http_buffer_size=1234)
    _, frames = handshake(core)
    assert frames[0][0] == '0'
    data = json.loads(frames[0][1:])
    assert data == {'sid': 'abc', 'upgrades': ['websocket'],
                    'pingInterval': 300, 'pingTimeout': 250,
                    'maxPayload': 1234}


def test_websocket_session_advertises_no_upgrades():
    core = make_core()
    _, frames = handshake(core, WEBSOCKET)
    assert json.loads(frames[0][1:])['upgrades'] == []


def test_messages_sent_during_connect_follow_the_open_packet():
    core = make_core()
    session = core.open_session('s1', POLLING, 0.0)
    assert session.push('4early') is Push.BUFFERED
    frames = core.accept(session, 0.0)
    assert frames[1:] == ['4early']


def test_heartbeat_pings_on_time_and_times_out_on_missing_pong():
    core = make_core(ping_interval=25, ping_timeout=20)
    session, _ = handshake(core)
    assert core.next_deadline() == 25
    assert core.expire(24.9) == []
    due = core.expire(25.0)
    assert due == [(session, [Push.BUFFERED])]
    assert session.take() == ['2']
    # The pong deadline is ping_timeout after the ping.
    assert core.next_deadline() == 45
    due = core.expire(45.0)
    assert due == [(session, [Disconnected(Reason.PING_TIMEOUT)])]
    assert 'abc' not in core.sessions
    assert core.next_deadline() is None


def test_pong_resets_the_heartbeat():
    core = make_core(ping_interval=25, ping_timeout=20)
    session, _ = handshake(core)
    core.expire(25.0)
    assert session.receive(3, None, 30.0) is None
    # Stale pong deadline at 45 is skipped; next ping at 30 + 25.
    assert core.expire(45.0) == []
    assert core.next_deadline() == 55.0
    assert core.expire(55.0) == [(session, [Push.BUFFERED])]


def test_grace_period_extends_the_pong_deadline_only():
    core = make_core(ping_interval=(10, 5), ping_timeout=3)
    session, frames = handshake(core)
    assert json.loads(frames[0][1:])['pingInterval'] == 10000
    assert json.loads(frames[0][1:])['pingTimeout'] == 3000
    core.expire(10.0)
    assert core.expire(17.9) == []
    assert core.expire(18.0) == [(session, [Disconnected(Reason.PING_TIMEOUT)])]


def test_monitor_clients_off_never_times_out():
    core = make_core(ping_interval=1, ping_timeout=1, enforce_timeouts=False)
    session, _ = handshake(core)
    for t in range(1, 20):
        core.expire(float(t))
    assert not session.closed


def test_message_close_and_bad_packets():
    core = make_core()
    session, _ = handshake(core)
    events, error = core.post(session, b'4hi\x1ebAQI=\x1e4{"a":1}', 1.0)
    assert error is None
    assert events == [MessageReceived('hi'), MessageReceived(b'\x01\x02'),
                      MessageReceived({'a': 1})]
    events, error = core.post(session, b'1', 2.0)
    assert events == [Disconnected(Reason.CLIENT_DISCONNECT)]
    assert session.closed and 'abc' not in core.sessions


@pytest.mark.parametrize('body', [b'9', b'', b'\xff', b'b***', b'4a\x1e'])
def test_malformed_post_closes_the_session(body):
    core = make_core()
    session, _ = handshake(core)
    events, error = core.post(session, body, 1.0)
    assert error
    assert events == [Disconnected(Reason.TRANSPORT_ERROR)]
    assert core.route(req(sid='abc'), 1.0).response.status == 400


def test_server_close_hands_the_close_packet_to_the_next_poll():
    core = make_core()
    session, _ = handshake(core)
    session.push('4bye')
    assert core.close(session, Reason.SERVER_DISCONNECT, 1.0) == \
        Disconnected(Reason.SERVER_DISCONNECT)
    assert core.close(session, Reason.SERVER_DISCONNECT, 1.0) is None
    assert 'abc' not in core.sessions
    route = core.route(req(sid='abc'), 1.5)
    assert route.action is Action.REPLY and route.response.status == 200
    assert route.response.body == b'4bye\x1e1'
    # Collected once: afterwards the sid is unknown.
    assert core.route(req(sid='abc'), 1.6).response.status == 400


def test_lingering_close_expires():
    core = make_core(ping_timeout=5)
    session, _ = handshake(core)
    core.close(session, Reason.SERVER_DISCONNECT, 1.0)
    core.expire(7.0)
    assert core.route(req(sid='abc'), 7.0).response.status == 400


def test_overlapping_poll_closes_the_session():
    core = make_core()
    session, _ = handshake(core)
    route = core.route(req(sid='abc'), 1.0)
    assert route.action is Action.POLL
    session.poll_active = True
    route = core.route(req(sid='abc'), 1.1)
    assert route.response.status == 400
    assert route.closed == (session, Disconnected(Reason.TRANSPORT_ERROR))
    # The pending poll is released with a close packet.
    assert session.take_poll() == ['1']


def test_upgrade_probe_sequence():
    core = make_core()
    session, _ = handshake(core)
    session.poll_active = True
    route = core.route(Request('GET', {'EIO': '4', 'transport': WEBSOCKET,
                                       'sid': 'abc'}, websocket=True), 1.0)
    assert route.action is Action.UPGRADE
    session.begin_upgrade(1.0)
    assert session.probe_frame('2probe', 1.1) == ('3probe', None)
    # The pending poll is released with a noop so the client can pause,
    # and so is any poll that arrives later while the probe is done.
    assert session.take_poll() == ['6']
    assert session.take_poll() == ['6']
    session.push('4during')
    assert session.take_poll() == ['4during']
    session.push('4late')
    reply, outcome = session.probe_frame('5', 1.2)
    assert reply is None and outcome == UpgradeCompleted()
    assert session.transport == WEBSOCKET and session.upgraded
    # A poll still pending is released with a noop; buffered frames go to
    # the WebSocket, in order, exactly once.
    assert session.take_poll() == ['6']
    assert session.take() == ['4late']
    assert session.finish_flush() and session.direct
    assert session.push('4now') is Push.WRITE
    # Polling requests for an upgraded session are refused.
    assert core.route(req(sid='abc'), 2.0).response.status == 400


def test_unexpected_frame_during_probe_fails_only_the_upgrade():
    core = make_core()
    session, _ = handshake(core)
    session.begin_upgrade(1.0)
    assert session.probe_frame('4oops', 1.1) == (None, False)
    assert session.upgrade is Upgrade.NONE and not session.closed
    assert session.transport == POLLING


def test_upgrade_times_out():
    core = make_core(ping_interval=25)
    session, _ = handshake(core)
    session.begin_upgrade(1.0)
    core.schedule(session)
    assert core.next_deadline() == 11.0
    assert core.expire(11.0) == [(session, [UPGRADE_EXPIRED])]
    assert not session.upgrading and not session.closed
    assert core.next_deadline() == 25.0


def ws_req(sid: str = 'abc') -> Request:
    return Request('GET', {'EIO': '4', 'transport': WEBSOCKET, 'sid': sid},
                   websocket=True)


def test_second_upgrade_is_accepted_then_closed():
    # As the official server: a WebSocket for a session that is upgrading
    # (or upgraded) completes its handshake and is closed; no HTTP error.
    core = make_core()
    session, _ = handshake(core)
    session.begin_upgrade(1.0)
    route = core.route(ws_req(), 1.0)
    assert route.action is Action.DISCARD and route.response is None
    assert route.session is session and 'cannot upgrade' in route.error
    assert session.upgrade is Upgrade.PROBING  # untouched
    session.probe_frame('2probe', 1.1)
    session.probe_frame('5', 1.2)
    assert core.route(ws_req(), 1.3).action is Action.DISCARD
    assert session.transport == WEBSOCKET and not session.closed


def test_websocket_for_unknown_session_is_refused():
    route = make_core().route(ws_req('nope'), 1.0)
    assert route.action is Action.REPLY and route.response.status == 400
    assert json.loads(route.response.body)['code'] == 1


def test_client_close_releases_the_pending_poll_with_a_noop():
    # The official server answers the held GET with "6" when the client
    # POSTs "1": the client asked for the close and needs no close packet.
    core = make_core()
    session, _ = handshake(core)
    session.poll_active = True
    events, error = core.post(session, b'1', 1.0)
    assert error is None
    assert events == [Disconnected(Reason.CLIENT_DISCONNECT)]
    assert session.take_poll() == ['6']
    session.poll_active = False
    assert core.route(req(sid='abc'), 1.1).response.status == 400


def test_a_closed_session_releases_an_empty_poll_with_a_close_packet():
    core = make_core()
    session, _ = handshake(core)
    core.close(session, Reason.TRANSPORT_CLOSE, 1.0)
    assert session.take_poll() == ['1']


def test_websocket_frames():
    core = make_core()
    session, _ = handshake(core, WEBSOCKET)
    assert session.receive_frame('4hello', 1.0) == MessageReceived('hello')
    assert session.receive_frame('4[1,2]', 1.0) == MessageReceived([1, 2])
    assert session.receive_frame(b'\x00', 1.0) == MessageReceived(b'\x00')
    assert session.receive_frame('3', 1.0) is None
    assert session.receive_frame('x', 1.0) == \
        Disconnected(Reason.TRANSPORT_ERROR)
    assert session.receive_frame('4late', 1.0) is None


def test_message_of_gives_a_message_and_leaves_the_rest_to_receive_frame():
    core = make_core()
    session, _ = handshake(core, WEBSOCKET)
    assert session.message_of('4hello') == 'hello'
    assert session.message_of('4') == ''
    assert session.message_of('4[1,2]') == [1, 2]
    assert session.message_of('4{"a":1}') == {'a': 1}
    assert session.message_of('4[not json') == '[not json'
    assert session.message_of(b'\x00') == b'\x00'
    # Anything else is the core's to decide, and message_of changes nothing.
    for frame in ('3', '2', '1', '6', 'x', ''):
        assert session.message_of(frame) is NOT_A_MESSAGE
    assert not session.closed
    assert session.receive_frame('1', 1.0) == \
        Disconnected(Reason.CLIENT_DISCONNECT)
    assert session.message_of('4late') is NOT_A_MESSAGE
    assert session.message_of(b'late') is NOT_A_MESSAGE


def test_closed_session_drops_output():
    core = make_core()
    session, _ = handshake(core)
    core.close(session, Reason.CLIENT_DISCONNECT, 1.0)
    assert session.push('4x') is Push.DROPPED


def test_outgoing_buffer_limit():
    core = make_core(max_outgoing_buffer_size=10)
    session, _ = handshake(core)
    assert session.push('4' + 'x' * 8) is Push.BUFFERED
    assert session.push('4yy') is Push.OVERFLOW
    # Heartbeat frames are never refused; collecting the output resets it.
    assert core.expire(25.0) == [(session, [Push.BUFFERED])]
    assert session.take() == ['4' + 'x' * 8, '2']
    assert session.push('4yy') is Push.BUFFERED


def test_short_ping_interval_pings_one_interval_after_the_pong():
    core = make_core(ping_interval=1, ping_timeout=5)
    session, _ = handshake(core)
    assert core.expire(1.0) == [(session, [Push.BUFFERED])]
    session.take()
    session.receive(3, None, 1.1)
    assert core.expire(2.0) == []
    assert core.next_deadline() == pytest.approx(2.1)
    assert core.expire(2.1) == [(session, [Push.BUFFERED])]


def test_short_ping_interval_still_times_out_at_the_pong_deadline():
    core = make_core(ping_interval=1, ping_timeout=5)
    session, _ = handshake(core)
    core.expire(1.0)
    assert core.expire(2.0) == []
    assert core.next_deadline() == 6.0
    assert core.expire(6.0) == [(session, [Disconnected(Reason.PING_TIMEOUT)])]


def test_direct_websocket_session_counts_as_upgraded():
    core = make_core()
    session, _ = handshake(core, WEBSOCKET)
    assert session.upgraded
    polling, _ = handshake(core, sid='p')
    assert not polling.upgraded


def test_closed_sessions_do_not_pile_up_in_the_timer_heap():
    core = make_core()
    for i in range(1000):
        session, _ = handshake(core, sid=f's{i}', now=float(i) / 1000)
        core.close(session, Reason.CLIENT_DISCONNECT, 1.0)
    assert len(core._timers) < 200
    live, _ = handshake(core, sid='live', now=1.0)
    assert core.expire(26.0) == [(live, [Push.BUFFERED])]


def test_a_closed_session_is_not_kept_alive_by_its_timer():
    # Drivers hang their connection on the session: the timer heap must
    # not keep all of it alive until the entry comes due.
    import weakref
    core = make_core()
    session, _ = handshake(core, WEBSOCKET, sid='gone')
    assert core.next_deadline() is not None
    ref = weakref.ref(session)
    core.close(session, Reason.CLIENT_DISCONNECT, 1.0)
    del session
    assert ref() is None
    assert core.expire(100.0) == []


def test_a_lingering_session_still_expires_from_the_heap():
    core = make_core()
    session, _ = handshake(core, sid='lingers')
    session.push('4bye')
    core.close(session, Reason.SERVER_DISCONNECT, 1.0)
    assert 'lingers' in core._lingering
    core.expire(1.0 + session.heartbeat.linger + 1)
    assert 'lingers' not in core._lingering
