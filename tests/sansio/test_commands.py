"""The core's commands to the server drivers (sansio/commands.py): what
each step of a request or of a session's life asks a driver to do.  Both
drivers only execute these, so each decision is tested here once."""
from __future__ import annotations

import json

from engineio.sansio.commands import Timer, WebSocketEnd
from engineio.sansio.events import Disconnected, MessageReceived, Reason
from engineio.sansio.models import Request
from engineio.sansio.server import Action, ServerConfig, ServerCore
from engineio.sansio.session import POLLING, WEBSOCKET


def make_core(**options) -> ServerCore:
    options.setdefault('ping_interval', 25)
    options.setdefault('ping_timeout', 20)
    return ServerCore(ServerConfig(**options))


def route(core: ServerCore, transport: str = POLLING):
    r = core.route(Request('GET', {'EIO': '4', 'transport': transport},
                           websocket=transport == WEBSOCKET), 0.0)
    assert r.action is Action.HANDSHAKE
    return r


def opened(core: ServerCore, transport: str = POLLING, sid: str = 'abc'):
    r = route(core, transport)
    session = core.open_session(sid, transport, 0.0)
    core.connected(session, None, r, Request('GET', {'EIO': '4'}), 0.0)
    return session


# -- handshake -----------------------------------------------------------

def test_allow_request_verdicts():
    core = make_core()
    assert core.allowed(True, []) is None
    assert core.allowed(None, []) is None
    response, refusal = core.allowed(False, [])
    assert response.status == 403 and refusal.code == 4
    response, _ = core.allowed('go away', [])
    assert json.loads(response.body)['message'] == 'go away'


def test_connect_verdicts_on_polling():
    core = make_core(cookie='io')
    r = route(core)
    session = core.open_session('abc', POLLING, 0.0)
    opening = core.connected(session, True, r, Request('GET', {}), 0.0)
    assert not opening.rejected and opening.frames == []
    assert opening.response.status == 200
    assert opening.response.body.startswith(b'0{"sid":"abc"')
    assert ('Set-Cookie', 'io=abc; Path=/; SameSite=Lax; HttpOnly') in \
        opening.response.headers
    assert core.next_deadline() == 25.0  # the heartbeat runs


def test_connect_verdicts_on_websocket_and_rejection():
    core = make_core(cookie='io')
    r = route(core, WEBSOCKET)
    session = core.open_session('abc', WEBSOCKET, 0.0)
    session.push('4early')
    opening = core.connected(session, None, r, Request('GET', {}), 0.0)
    assert opening.response is None  # no cookie on a WebSocket handshake
    assert opening.frames[0].startswith('0{') and opening.frames[1] == '4early'
    other = core.open_session('def', POLLING, 0.0)
    opening = core.connected(other, {'why': 'no'}, route(core),
                             Request('GET', {}), 0.0)
    assert opening.rejected and opening.response.status == 401
    assert json.loads(opening.response.body) == {'why': 'no'}
    assert 'def' not in core.sessions


def test_opening_wakes_the_timer_only_for_an_earlier_deadline():
    # Every handshake waking the driver's timer loop cost ~10 us a session.
    core = make_core(ping_interval=25)
    first = core.open_session('a', WEBSOCKET, 0.0)
    assert core.connected(first, None, route(core, WEBSOCKET),
                          Request('GET', {}), 0.0).wake
    later = core.open_session('b', POLLING, 1.0)
    assert not core.connected(later, None, route(core), Request('GET', {}),
                              1.0).wake
    # Once the earliest entry is gone, the next session's is the top.
    core.close(first, Reason.CLIENT_DISCONNECT, 2.0)
    core.close(later, Reason.CLIENT_DISCONNECT, 2.0)
    core.expire(30.0)
    assert core.next_deadline() is None
    again = core.open_session('c', POLLING, 30.0)
    assert core.connected(again, None, route(core), Request('GET', {}),
                          30.0).wake


# -- long-polling ----------------------------------------------------------

def test_a_held_poll_is_bounded_by_the_core_timer():
    core = make_core(ping_interval=10, ping_timeout=5)
    session = opened(core)
    session.deadline = 1000.0  # a heartbeat that will not come in time
    frames, wake = core.start_poll(session, 1.0)
    assert frames == [] and session.poll_active
    assert not wake  # the heartbeat's entry (at 10) comes first
    assert core.due(10.0) == []
    assert core.next_deadline() == 16.0
    commands = core.due(16.0)
    assert [(c.action, c.session) for c in commands] == \
        [(Timer.WAKE_POLL, session)]
    assert commands[0].inline
    assert session.take_poll() == ['6']
    core.end_poll(session)
    assert not session.poll_active and session.poll_deadline == 0


def test_a_poll_with_output_is_answered_at_once():
    core = make_core()
    session = opened(core)
    session.push('4x')
    assert core.start_poll(session, 1.0) == (['4x'], False)
    assert session.poll_deadline == 0


def test_post_results():
    core = make_core(max_http_buffer_size=10)
    session = opened(core)
    result = core.post_result(session, b'4hi', [], 1.0)
    assert result.response.body == b'ok' and result.problem is None
    assert result.events == [MessageReceived('hi')]
    result = core.post_result(session, b'\xff', [], 1.0)
    assert result.response.status == 400 and 'bad payload' in result.problem
    assert result.events == [Disconnected(Reason.TRANSPORT_ERROR)]
    other = opened(core, sid='def')
    result = core.post_result(other, None, [], 1.0)
    assert result.response.status == 413
    assert result.events == [Disconnected(Reason.TRANSPORT_ERROR)]
    assert 'def' not in core.sessions


# -- WebSocket -------------------------------------------------------------

def test_probe_steps():
    core = make_core()
    session = opened(core)
    session.begin_upgrade(1.0)
    step = core.probe(session, '2probe', 1.0)
    assert (step.reply, step.done) == ('3probe', False)
    step = core.probe(session, '5', 1.1)
    assert step.done and step.upgraded and step.problem is None
    assert session.transport == WEBSOCKET


def test_probe_failures():
    core = make_core()
    session = opened(core)
    session.begin_upgrade(1.0)
    step = core.probe(session, '4nope', 1.0)
    assert step.done and not step.upgraded and "'4nope'" in step.problem
    assert session.can_upgrade()  # back on polling, may try again
    session.begin_upgrade(2.0)
    step = core.probe(session, None, 2.0)
    assert step.done and not step.upgraded and 'closed' in step.problem
    assert session.can_upgrade()


def test_websocket_end_reasons():
    core = make_core()
    for end, reason, warns in [
            (WebSocketEnd.CLOSED, Reason.TRANSPORT_CLOSE, False),
            (WebSocketEnd.FAILED, Reason.TRANSPORT_ERROR, False),
            (WebSocketEnd.TOO_LARGE, Reason.TRANSPORT_ERROR, True)]:
        session = opened(core, WEBSOCKET, sid=end.value)
        event, problem = core.websocket_ended(session, end, 1.0)
        assert event == Disconnected(reason)
        assert (problem is not None) == warns
        assert end.value not in core.sessions
        # Only once, whatever else ends it later.
        assert core.websocket_ended(session, end, 2.0)[0] is None


def test_frame_event_forgets_a_session_the_client_closed():
    core = make_core()
    session = opened(core, WEBSOCKET)
    event = session.receive_frame('1', 1.0)
    core.frame_event(session, event, 1.0)
    assert 'abc' not in core.sessions


# -- teardown and timers ---------------------------------------------------

def test_teardown_plans():
    core = make_core(upgrade_timeout=7)
    ws_session = opened(core, WEBSOCKET)
    ws_session.finish_flush()
    ws_session.push('4bye')  # written directly: nothing buffered
    core.close(ws_session, Reason.SERVER_DISCONNECT, 1.0)
    plan = core.teardown(ws_session, flush=True)
    assert plan.flush == ['1'] and plan.probe_delay == 0
    polling = opened(core, sid='p')
    polling.push('4kept')
    core.close(polling, Reason.SERVER_DISCONNECT, 1.0)
    # The close packet stays for the client's next poll.
    assert core.teardown(polling, flush=True).flush == []
    probed = opened(core, sid='q')
    probed.begin_upgrade(1.0)
    probed.probe_frame('2probe', 1.0)
    core.close(probed, Reason.SERVER_DISCONNECT, 1.0)
    assert core.teardown(probed, flush=False).probe_delay == 7


def test_timer_commands():
    core = make_core(ping_interval=1, ping_timeout=1, upgrade_timeout=0.5)
    polling = opened(core, sid='p')
    ws = opened(core, WEBSOCKET, sid='w')
    ws.finish_flush()
    upgrading = opened(core, sid='u')
    upgrading.begin_upgrade(0.0)
    core.schedule(upgrading)
    assert [(c.action, c.session.sid) for c in core.due(0.5)] == \
        [(Timer.PROBE_EXPIRED, 'u')]
    got = {(c.action, c.session.sid) for c in core.due(1.0)}
    assert got == {(Timer.WAKE_POLL, 'p'), (Timer.WRITE_PING, 'w'),
                   (Timer.WAKE_POLL, 'u')}
    closed = core.due(2.0)
    assert {c.session.sid for c in closed} == {'p', 'w', 'u'}
    assert all(c.action is Timer.CLOSED and not c.inline
               and c.event == Disconnected(Reason.PING_TIMEOUT)
               for c in closed)
    assert polling.closed


def test_overflow_closes_the_session_with_a_reason_to_log():
    core = make_core(max_outgoing_buffer_size=4)
    session = opened(core)
    assert session.push('4abcdef').name == 'OVERFLOW'
    event, problem = core.overflow(session, 1.0)
    assert event == Disconnected(Reason.TRANSPORT_ERROR)
    assert 'max_outgoing_buffer_size' in problem
    assert 'abc' not in core.sessions
