"""Pure tests of the client protocol core: a fake clock, no sockets."""
from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engineio import packet
from engineio.exceptions import ConnectionError, ProtocolError
from engineio.payload import SEPARATOR, encode_frames
from engineio.sansio import client as core_mod
from engineio.sansio import client_commands as cmd
from engineio.sansio.client import (
    ClientCore,
    ClientReason,
    Handshake,
    State,
    Upgrade,
    engineio_url,
    parse_handshake,
    validate_transports,
)
from engineio.sansio.events import Disconnected, MessageReceived

OPEN = {'sid': 'abc', 'upgrades': ['websocket'], 'pingInterval': 25000,
        'pingTimeout': 20000, 'maxPayload': 1000000}


def open_body(**changes: object) -> str:
    data = dict(OPEN)
    data.update(changes)
    return '0' + json.dumps(data)


def connected(transports: object = None, now: float = 100.0,
              **changes: object) -> ClientCore:
    core = ClientCore('http://example.com', transports)
    core.open_polling(open_body(**changes), now)
    return core


# -- URLs ----------------------------------------------------------------
def test_url_has_protocol_parameters() -> None:
    url = engineio_url('http://h:5000', 'engine.io', 'polling')
    assert url == 'http://h:5000/engine.io/?transport=polling&EIO=4'


def test_url_keeps_custom_query_and_drops_reserved_keys() -> None:
    url = engineio_url('https://h/app?token=a%20b&EIO=3&x=&transport=ws&t=1',
                       '/socket.io/', 'websocket', sid='s/1', stamp='zz')
    assert url == ('wss://h/socket.io/?token=a%20b&x=&transport=websocket'
                   '&EIO=4&sid=s%2F1&t=zz')


@pytest.mark.parametrize('given,polling,ws', [
    ('http://h', 'http', 'ws'), ('ws://h', 'http', 'ws'),
    ('https://h', 'https', 'wss'), ('WSS://h', 'https', 'wss')])
def test_url_scheme_follows_transport(given: str, polling: str,
                                      ws: str) -> None:
    assert engineio_url(given, 'e', 'polling').startswith(polling + '://')
    assert engineio_url(given, 'e', 'websocket').startswith(ws + '://')


@pytest.mark.parametrize('url', ['ftp://h', 'h:5000', 'http://'])
def test_bad_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        ClientCore(url)


def test_request_url_timestamps_polling_only() -> None:
    core = connected()
    a = core.request_url('polling', 1.5)
    b = core.request_url('polling', 1.5)
    assert '&sid=abc&t=' in a and a != b  # unique even at the same time
    assert '&t=' not in core.request_url('websocket', 1.5)
    quiet = ClientCore('http://h', timestamp_requests=False)
    assert '&t=' not in quiet.request_url('polling', 1.5)


def test_transports_validation() -> None:
    assert validate_transports(None) == ['polling', 'websocket']
    assert validate_transports('websocket') == ['websocket']
    assert validate_transports(['websocket', 'polling']) == \
        ['polling', 'websocket']
    for bad in ([], ['carrier-pigeon'], ['polling', 'foo']):
        with pytest.raises(ValueError):
            validate_transports(bad)
    assert ClientCore('http://h', ['websocket']).first_transport == \
        'websocket'


# -- handshake -----------------------------------------------------------
def test_parse_handshake() -> None:
    hs = parse_handshake(dict(OPEN))
    assert hs == Handshake('abc', ('websocket',), 25.0, 20.0, 1000000)
    no_limit = dict(OPEN)
    del no_limit['maxPayload']
    del no_limit['upgrades']
    assert parse_handshake(no_limit).max_payload is None
    assert parse_handshake(no_limit).upgrades == ()


@pytest.mark.parametrize('change', [
    {'sid': ''}, {'sid': 5}, {'pingInterval': 'x'}, {'pingTimeout': -1},
    {'pingInterval': True}, {'upgrades': 'websocket'}, {'maxPayload': 0}])
def test_parse_handshake_rejects(change: dict[str, object]) -> None:
    data = dict(OPEN)
    data.update(change)
    with pytest.raises(ProtocolError):
        parse_handshake(data)
    with pytest.raises(ProtocolError):
        parse_handshake('not a dict')


def test_open_polling_connects_and_handles_extra_packets() -> None:
    core = ClientCore('http://h')
    assert core.state is State.DISCONNECTED
    events = core.open_polling(
        open_body() + SEPARATOR + '4hello' + SEPARATOR + '2', 0.0)
    assert events == [MessageReceived('hello')]
    assert core.state is State.CONNECTED and core.active
    assert (core.sid, core.transport) == ('abc', 'polling')
    assert core.take_frames() == ['3']  # the ping was answered


@pytest.mark.parametrize('body', ['4hello', '0notjson', '', '0{"sid":1}'])
def test_open_polling_rejects_bad_handshakes(body: str) -> None:
    core = ClientCore('http://h')
    with pytest.raises(ProtocolError):
        core.open_polling(body, 0.0)
    assert core.state is State.DISCONNECTED


def test_open_websocket() -> None:
    core = ClientCore('http://h', ['websocket'])
    assert core.open_websocket(open_body(upgrades=[]), 0.0) == []
    assert core.transport == 'websocket' and core.active
    with pytest.raises(ProtocolError):
        core.open_websocket(open_body(), 0.0)  # not twice
    with pytest.raises(ProtocolError):
        ClientCore('http://h').open_websocket(b'0{}', 0.0)


# -- receiving -----------------------------------------------------------
def test_messages_keep_their_types() -> None:
    core = connected()
    body = encode_frames(['4text', b'\x00\xff', '4{"a":[1]}', '4', '6'])
    assert core.receive_payload(body, 0.0) == [
        MessageReceived('text'), MessageReceived(b'\x00\xff'),
        MessageReceived({'a': [1]}), MessageReceived('')]
    assert core.receive_frame(b'\x01', 0.0) == [MessageReceived(b'\x01')]
    assert core.receive_frame('4[1,2]', 0.0) == [MessageReceived([1, 2])]


def test_garbage_is_a_transport_error() -> None:
    core = connected()
    assert core.receive_frame('9oops', 0.0) == \
        [Disconnected(ClientReason.TRANSPORT_ERROR)]
    core = connected()
    assert core.receive_payload(b'\xff\xfe', 0.0) == \
        [Disconnected(ClientReason.TRANSPORT_ERROR)]


def test_ignored_packets() -> None:
    core = connected()
    for frame in ('6', '3', '3probe', '5', '0{}'):
        assert core.receive_frame(frame, 0.0) == []
    assert core.active and not core.has_output()


# -- heartbeat (v4: the server pings) -------------------------------------
def test_ping_is_answered_and_refreshes_the_deadline() -> None:
    core = connected(now=0.0, pingInterval=1000, pingTimeout=500)
    assert core.time_left(0.0) == 1.5
    assert core.receive_frame('2', 1.2) == []
    assert core.take_frames() == ['3']
    assert core.time_left(1.2) == pytest.approx(1.5)
    assert core.on_deadline(2.6) == []  # 1.2 + 1.5 = 2.7
    core.receive_frame('2extra', 2.6)
    assert core.take_frames() == ['3extra']


def test_missing_ping_is_a_transport_error_reported_once() -> None:
    core = connected(now=0.0, pingInterval=1000, pingTimeout=500)
    assert core.on_deadline(1.49) == []
    assert core.on_deadline(1.5) == \
        [Disconnected(ClientReason.TRANSPORT_ERROR)]
    # python-socketio reconnects when the state is still 'connected' while
    # the transport error is reported.
    assert core.state is State.CONNECTED and core.lost and not core.active
    assert core.on_deadline(9.0) == []
    assert core.transport_lost() == []
    assert core.close() is None
    assert core.state is State.DISCONNECTING
    core.finish()
    assert core.state is State.DISCONNECTED and core.time_left(9.0) == 0.0


# -- closing -------------------------------------------------------------
def test_server_close() -> None:
    core = connected()
    core.send('queued')
    events = core.receive_payload(encode_frames(['4a', '1', '4late']), 0.0)
    assert events == [MessageReceived('a'),
                      Disconnected(ClientReason.SERVER_DISCONNECT)]
    assert core.state is State.DISCONNECTING
    assert not core.has_output() and core.writer_done
    assert core.send('x') is False
    assert core.receive_frame('4more', 0.0) == []
    assert core.transport_lost() == []


def test_client_close_queues_the_close_packet_last() -> None:
    core = connected()
    assert core.send('bye')
    event = core.close()
    assert event == Disconnected(ClientReason.CLIENT_DISCONNECT)
    assert core.state is State.DISCONNECTING
    assert core.close() is None
    assert core.send('ignored') is False
    assert not core.writer_done
    assert core.take_frames() == ['4bye', '1']
    assert core.writer_done
    assert core.transport_lost() == []  # closing: losing the transport is ok
    core.finish()
    assert core.state is State.DISCONNECTED


def test_close_with_custom_reason_and_finish_keeps_the_close_packet() -> None:
    core = connected()
    assert core.close('bored') == Disconnected('bored')
    core.finish()  # an aborted disconnect: the writer still sends it
    assert core.take_frames() == ['1']


def test_close_before_connecting() -> None:
    core = ClientCore('http://h')
    assert core.close() is None
    assert core.state is State.DISCONNECTED


def test_transport_lost_drops_queued_output() -> None:
    core = connected()
    core.send('x')
    assert core.transport_lost() == \
        [Disconnected(ClientReason.TRANSPORT_ERROR)]
    assert not core.has_output() and core.writer_done


# -- long-polling --------------------------------------------------------
def test_one_poll_and_one_post_at_a_time() -> None:
    core = connected()
    assert core.begin_poll() and not core.begin_poll()
    core.receive_payload('6', 0.0)
    assert core.begin_poll()
    assert core.begin_post() == []  # nothing queued
    core.send('a')
    assert core.begin_post() == ['4a']
    core.send('b')
    assert core.begin_post() == []  # a POST is in flight
    core.end_post()
    assert core.begin_post() == ['4b']


def test_post_batches_respect_max_payload() -> None:
    core = connected(maxPayload=20)
    for i in range(6):
        core.send(f'{i}' * 5)           # '4xxxxx': 6 bytes each
    # 6 + 1 + 6 + 1 + 6 = 20 bytes fit; a fourth would not.
    batch = core.begin_post()
    assert len(encode_frames(batch).encode()) <= 20
    assert batch == ['400000', '411111', '422222']
    core.end_post()
    assert core.begin_post() == ['433333', '444444', '455555']


def test_post_batches_count_utf8_and_base64_bytes() -> None:
    core = connected(maxPayload=12)
    core.send('é' * 4)                  # '4' + 8 bytes = 9
    core.send('x')                      # +1 +2 = 12: fits
    core.send(b'\x00\x01\x02')          # 'b' + 4 chars = 5: does not
    batch = core.begin_post()
    assert batch == ['4' + 'é' * 4, '4x']
    core.end_post()
    assert core.begin_post() == [b'\x00\x01\x02']


def test_oversized_packet_goes_alone() -> None:
    core = connected(maxPayload=5)
    core.send('x' * 50)
    core.send('y')
    assert core.begin_post() == ['4' + 'x' * 50]
    core.end_post()
    assert core.begin_post() == ['4y']


def test_no_limit_without_max_payload() -> None:
    core = ClientCore('http://h')
    data = dict(OPEN)
    del data['maxPayload']
    core.open_polling('0' + json.dumps(data), 0.0)
    for _ in range(100):
        core.send('x' * 1000)
    assert len(core.begin_post()) == 100


# -- upgrade -------------------------------------------------------------
def test_upgrade_conditions() -> None:
    assert connected().can_upgrade()
    assert not connected(upgrades=[]).can_upgrade()
    assert not connected(['polling']).can_upgrade()
    ws = ClientCore('http://h', ['websocket'])
    ws.open_websocket(open_body(), 0.0)
    assert not ws.can_upgrade()


def test_upgrade_pauses_polling_until_drained() -> None:
    core = connected()
    assert core.begin_poll()            # a GET is in flight
    core.send('during')
    assert core.begin_post() == ['4during']  # and a POST
    assert core.begin_probe() == '2probe'
    assert core.upgrade is Upgrade.PROBING
    assert core.probe_answered('3probe')
    assert core.upgrade is Upgrade.PAUSING
    # Paused: no new requests, and the upgrade waits for the ones in flight.
    core.send('after')
    assert not core.upgrade_ready
    core.end_post()
    assert core.begin_post() == []
    assert not core.upgrade_ready
    assert core.receive_payload('6', 0.0) == []  # the server released the GET
    assert not core.begin_poll()
    assert core.upgrade_ready
    assert core.complete_upgrade() == '5'
    assert core.transport == 'websocket' and core.upgrade is Upgrade.DONE
    assert core.take_frames() == ['4after']
    assert not core.begin_poll() and not core.can_upgrade()


def test_upgrade_not_ready_cannot_complete() -> None:
    core = connected()
    with pytest.raises(ProtocolError):
        core.complete_upgrade()
    core.begin_probe()
    with pytest.raises(ProtocolError):
        core.complete_upgrade()


@pytest.mark.parametrize('answer', ['3', '3probex', b'3probe', '6'])
def test_failed_probe_stays_on_polling(answer: str | bytes) -> None:
    core = connected()
    core.begin_probe()
    assert not core.probe_answered(answer)
    assert core.upgrade is Upgrade.NONE and core.transport == 'polling'
    assert core.begin_poll()
    core.abort_upgrade()
    assert core.transport == 'polling'


# -- programs: the order of things, against scripted I/O -------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_core(transports: object = None, clock: Clock | None = None
              ) -> ClientCore:
    return ClientCore('http://h/?token=1', transports, clock=clock or Clock(),
                      wall_clock=lambda: 1.5)


Answer = Callable[[cmd.Command], object]


def run(program: cmd.Program[object], answer: Answer = lambda c: None
        ) -> tuple[list[cmd.Command], object]:
    """Run a program, each command answered by ``answer``: the commands it
    returned, and its own return value."""
    seen: list[cmd.Command] = []
    result: object = None
    while True:
        try:
            command = program.send(result)
        except StopIteration as stop:
            return seen, stop.value
        seen.append(command)
        result = answer(command)


def kinds(commands: list[cmd.Command]) -> list[str]:
    return [type(c).__name__ for c in commands if type(c) is not cmd.Log]


def logs(commands: list[cmd.Command]) -> list[str]:
    return [c.message % c.args for c in commands if type(c) is cmd.Log]


def server(probe_answer: object = '3probe', handler_error: object = None,
           open_packet: str | None = None) -> Answer:
    """A server that accepts the handshake and the upgrade."""
    def answer(c: cmd.Command) -> object:
        if type(c) is cmd.HttpRequest and c.method == 'GET':
            return cmd.HttpReply(200, (open_packet or open_body()).encode())
        if type(c) is cmd.HttpRequest:
            return cmd.HttpReply(200, b'ok')
        if type(c) is cmd.OpenWebSocket:
            return 'ws'
        if type(c) is cmd.ReceiveFrame:
            return open_packet or probe_answer
        if type(c) is cmd.RunHandler:
            return handler_error
        return None
    return answer


def test_connecting_handshake_then_upgrade() -> None:
    core = make_core()
    commands, _ = run(core.connecting(), server())
    assert kinds(commands) == [
        'HttpRequest', 'Connected', 'RunHandler', 'OpenWebSocket',
        'SendFrames', 'ReceiveFrame', 'SendFrames', 'StartLoops']
    get = commands[1]
    assert isinstance(get, cmd.HttpRequest) and get.timeout is None
    assert get.url.startswith('http://h/engine.io/?token=1&transport=polling')
    assert cmd.RunHandler('connect', fatal=True) in commands
    assert [c.frames for c in commands if type(c) is cmd.SendFrames] == \
        [['2probe'], ['5']]
    assert (core.transport, core.websocket, core.started) == \
        ('websocket', 'ws', True)
    assert logs(commands)[-1] == 'WebSocket upgrade was successful'


def test_connecting_on_websocket_only() -> None:
    core = make_core(['websocket'])
    commands, _ = run(core.connecting(), server(open_packet=open_body()))
    assert kinds(commands) == ['OpenWebSocket', 'ReceiveFrame', 'Connected',
                               'RunHandler', 'StartLoops']
    assert (core.transport, core.websocket) == ('websocket', 'ws')


@pytest.mark.parametrize('answer', ['nope', b'3probe', None,
                                    cmd.Failure('reset')])
def test_failed_probe_closes_the_websocket(answer: object) -> None:
    core = make_core()
    commands, _ = run(core.connecting(), server(probe_answer=answer))
    assert cmd.CloseWebSocket('ws') in commands
    assert (core.transport, core.websocket, core.upgrade) == \
        ('polling', None, Upgrade.NONE)
    assert kinds(commands)[-1] == 'StartLoops'


def test_refused_handshake_carries_the_json_body() -> None:
    core = make_core()

    def answer(c: cmd.Command) -> object:
        if type(c) is cmd.HttpRequest:
            return cmd.HttpReply(400, b'{"code": 3, "message": "Bad"}')
        return None
    with pytest.raises(ConnectionError) as info:
        run(core.connecting(), answer)
    assert info.value.args == ('Unexpected status code 400 in server '
                               'response', {'code': 3, 'message': 'Bad'})
    ws = make_core(['websocket'])
    with pytest.raises(ConnectionError) as info:
        run(ws.connecting(), lambda c: cmd.Failure('403', status=403))
    assert info.value.args == ('Unexpected status code 403 in server '
                               'response',)
    assert ws.state is State.DISCONNECTED


@pytest.mark.parametrize('frame', [None, '4hello', cmd.Failure('gone')])
def test_bad_first_websocket_frame(frame: object) -> None:
    core = make_core(['websocket'])

    def answer(c: cmd.Command) -> object:
        return 'ws' if type(c) is cmd.OpenWebSocket else frame
    with pytest.raises(ConnectionError):
        run(core.connecting(), answer)
    assert core.state is State.DISCONNECTED and core.websocket is None


def test_failing_connect_handler_delivers_the_close_packet() -> None:
    core = make_core()
    error = RuntimeError('no')
    seen: list[cmd.Command] = []

    def answer(c: cmd.Command) -> object:
        seen.append(c)
        return server(handler_error=error)(c)
    with pytest.raises(ConnectionError) as info:
        run(core.connecting(), answer)
    assert info.value.__cause__ is error
    post = seen[-2]
    assert isinstance(post, cmd.HttpRequest) and post.body == '1'
    assert post.content_type == 'text/plain;charset=UTF-8'
    assert type(seen[-1]) is cmd.Ended
    assert core.state is State.DISCONNECTED


def test_connect_handler_that_disconnects() -> None:
    core = make_core()

    def answer(c: cmd.Command) -> object:
        if type(c) is cmd.RunHandler and c.event == 'connect':
            # disconnect() from the handler, before the loops exist
            commands, _ = run(core.disconnecting('bye', False),
                              server())
            assert kinds(commands) == ['WakeWriter', 'StopDispatcher',
                                       'RunHandler', 'HttpRequest', 'Ended']
            assert commands[3] == cmd.RunHandler('disconnect', ('bye',))
            return None
        return server()(c)
    commands, _ = run(core.connecting(), answer)
    assert 'StartLoops' not in kinds(commands)
    assert 'OpenWebSocket' not in kinds(commands)  # no upgrade either
    assert core.state is State.DISCONNECTED


def test_close_packet_in_the_handshake_still_ends_the_connection() -> None:
    core = make_core()
    commands, _ = run(core.connecting(), server(
        open_packet=open_body() + SEPARATOR + '1'))
    assert cmd.Deliver([Disconnected(ClientReason.SERVER_DISCONNECT)]) in \
        commands
    assert kinds(commands)[-1] == 'StartLoops'  # the dispatcher reports it
    assert 'OpenWebSocket' not in kinds(commands)
    assert core.state is State.DISCONNECTING


def connected_core(transports: object = None, clock: Clock | None = None,
                   ) -> ClientCore:
    core = make_core(transports or ['polling'], clock)
    run(core.connecting(), server(open_packet=open_body()))
    return core


def test_reading_polls_until_the_transport_fails() -> None:
    core = connected_core()
    replies = iter([cmd.HttpReply(200, encode_frames(['2', '4hi']).encode()),
                    cmd.Failure('reset')])
    commands, _ = run(core.reading(),
                      lambda c: next(replies) if type(c) is cmd.HttpRequest
                      else None)
    assert kinds(commands) == ['HttpRequest', 'WakeWriter', 'Deliver',
                               'HttpRequest', 'Deliver', 'WakeWriter']
    first = commands[0]
    assert isinstance(first, cmd.HttpRequest)
    assert first.timeout == 45.0  # pingInterval + pingTimeout
    assert commands[2] == cmd.Deliver([MessageReceived('hi')])
    assert commands[-2] == \
        cmd.Deliver([Disconnected(ClientReason.TRANSPORT_ERROR)])
    assert 'Polling request failed: reset' in logs(commands)
    assert core.lost and not core.poll_active


def test_reading_on_websocket_detects_a_silent_server() -> None:
    clock = Clock()
    core = connected_core(['websocket'], clock)

    def answer(c: cmd.Command) -> object:
        if type(c) is cmd.ReceiveFrame:
            assert c.timeout is not None and c.timeout >= 0.01
            clock.now += 30
            return cmd.Failure('timed out', timed_out=True)
        return None
    commands, _ = run(core.reading(), answer)
    assert kinds(commands) == ['ReceiveFrame', 'ReceiveFrame', 'Deliver',
                               'WakeWriter', 'CloseWebSocket']
    assert 'Server has stopped sending pings' in logs(commands)
    assert commands[-1] == cmd.CloseWebSocket('ws', graceful=False)


def test_reading_stops_at_the_server_close() -> None:
    core = connected_core(['websocket'])
    frames = iter(['4a', '1'])
    commands, _ = run(core.reading(),
                      lambda c: next(frames) if type(c) is cmd.ReceiveFrame
                      else None)
    assert [c.events for c in commands if type(c) is cmd.Deliver] == [
        [MessageReceived('a')],
        [Disconnected(ClientReason.SERVER_DISCONNECT)]]
    assert core.state is State.DISCONNECTING


def test_writing_batches_posts_then_ends_after_the_close_packet() -> None:
    core = connected_core()
    core.send('a')
    core.send('b')
    bodies: list[str | None] = []

    def answer(c: cmd.Command) -> object:
        if type(c) is cmd.HttpRequest:
            bodies.append(c.body)
            return cmd.HttpReply(200, b'ok')
        if type(c) is cmd.AwaitOutput:
            core.close()
        return None
    commands, _ = run(core.writing(), answer)
    assert bodies == [encode_frames(['4a', '4b']), '1']
    assert kinds(commands) == ['HttpRequest', 'AwaitOutput', 'HttpRequest']


def test_writing_failure_is_a_transport_error() -> None:
    core = connected_core(['websocket'])
    core.send('a')
    commands, _ = run(core.writing(),
                      lambda c: cmd.Failure('broken pipe')
                      if type(c) is cmd.SendFrames else None)
    assert commands[-2] == \
        cmd.Deliver([Disconnected(ClientReason.TRANSPORT_ERROR)])
    assert commands[-1] == cmd.CloseWebSocket('ws', graceful=False)
    assert 'Write failed: broken pipe' in logs(commands)


def test_dispatching_runs_handlers_in_order_then_ends() -> None:
    core = connected_core()
    events = iter([MessageReceived('a'), MessageReceived('b'),
                   Disconnected(ClientReason.SERVER_DISCONNECT)])
    commands, _ = run(core.dispatching(),
                      lambda c: next(events) if type(c) is cmd.NextEvent
                      else None)
    assert [c for c in commands if type(c) is cmd.RunHandler] == [
        cmd.RunHandler('message', ('a',), queued=True),
        cmd.RunHandler('message', ('b',), queued=True),
        cmd.RunHandler('disconnect', ('server disconnect',), queued=True)]
    assert type(commands[-1]) is cmd.Ended
    assert core.state is State.DISCONNECTED
    # a dispatcher that was taken over, or stopped, just ends
    assert kinds(run(connected_core().dispatching())[0]) == ['NextEvent']


def test_disconnecting_a_running_connection() -> None:
    core = connected_core(['websocket'])
    commands, _ = run(core.disconnecting('client disconnect', False))
    assert kinds(commands) == ['WakeWriter', 'StopDispatcher', 'RunHandler',
                               'Join', 'CloseWebSocket', 'Join', 'Ended']
    assert [c.loop for c in commands if type(c) is cmd.Join] == \
        [cmd.Loop.WRITER, cmd.Loop.READER]
    assert core.closed_by_client and core.state is State.DISCONNECTED
    assert core.take_frames() == ['1']  # for the writer
    # messages that arrived before are no longer dispatched
    events = iter([MessageReceived('late'), None])
    assert kinds(run(core.dispatching(),
                     lambda c: next(events))[0]) == ['NextEvent', 'NextEvent']
    # once over, disconnect() has nothing to do
    assert kinds(run(core.disconnecting('again', False))[0]) == ['WakeWriter']


def test_disconnecting_while_ending() -> None:
    core = connected_core()
    core.transport_lost()  # the dispatcher is reporting it
    assert kinds(run(core.disconnecting('x', False))[0]) == \
        ['WakeWriter', 'AwaitEnd']
    assert kinds(run(core.disconnecting('x', True))[0]) == ['WakeWriter']
    assert not core.closed_by_client


def test_abort_does_not_wait_for_the_loops() -> None:
    core = connected_core()
    commands, _ = run(core.disconnecting('client disconnect', True))
    assert 'Join' not in kinds(commands)
    assert kinds(commands)[-1] == 'Ended'


def test_programs_need_clocks() -> None:
    core = ClientCore('http://h')
    with pytest.raises(RuntimeError):
        run(core.connecting())


# -- purity --------------------------------------------------------------
FORBIDDEN = {'asyncio', 'threading', 'socket', 'time', 'queue', 'select',
             'requests', 'websocket', 'aiohttp', 'ssl', 'urllib.request'}


def test_client_core_is_pure() -> None:
    tree = ast.parse(Path(core_mod.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module or '')
    assert not imported & FORBIDDEN, imported & FORBIDDEN


def test_packet_module_roundtrip_used_by_core() -> None:
    # The core encodes messages with the shared packet codec.
    core = connected()
    core.send({'k': 'v'})
    core.send(b'\x00')
    frames = core.take_frames()
    assert frames == ['4{"k":"v"}', b'\x00']
    assert packet.Packet(encoded_packet=frames[0]).data == {'k': 'v'}
