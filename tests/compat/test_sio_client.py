"""python-socketio's blocking ``Client`` (and ``SimpleClient``) on this
package's ``engineio.Client``, against python-socketio's ``Server`` on this
package under Werkzeug (tests/servers/socketio_werkzeug.py).

What python-socketio needs from the Engine.IO client: ``connect(url,
headers=, transports=, engineio_path=)``, ``send``, ``disconnect``,
``wait``, ``sid``, ``transport()``, ``state`` (``'connected'`` while a
transport error is reported, so that it reconnects), ``create_event``,
``start_background_task``, ``sleep``, ``Client.reason`` and
``engineio.exceptions.ConnectionError``.
"""
from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sio_support import (
    assert_no_errors,
    error_lines,
    server_event,
    start_sio_server,
    wait_until,
)
from support import Proc

socketio = importlib.import_module('socketio')
importlib.import_module('requests')
importlib.import_module('websocket')

SCRIPT = 'socketio_werkzeug.py'
TRANSPORTS = [['polling'], ['websocket'], ['polling', 'websocket']]


@pytest.fixture(scope='module')
def server() -> Iterator[tuple[Proc, str]]:
    proc, port = start_sio_server(SCRIPT)
    yield proc, f'http://127.0.0.1:{port}'
    proc.stop()


@pytest.fixture
def clients() -> Iterator[list[Any]]:
    """Clients made by a test; all disconnected when it ends."""
    made: list[Any] = []
    yield made
    for c in made:
        if c.connected:
            c.disconnect()
        # shutdown() also ends a reconnection loop still running.
        c.shutdown()


def new_client(clients: list[Any], **kwargs: Any) -> Any:
    kwargs.setdefault('handle_sigint', False)
    kwargs.setdefault('reconnection', False)
    c = socketio.Client(**kwargs)
    clients.append(c)
    return c


@pytest.mark.parametrize('transports', TRANSPORTS, ids=','.join)
def test_connect_call_disconnect(server: tuple[Proc, str], clients: list[Any],
                                 transports: list[str]) -> None:
    proc, url = server
    c = new_client(clients)
    c.connect(url, transports=transports, wait_timeout=10)
    assert c.connected and c.sid and c.get_sid()
    assert c.eio.state == 'connected'
    expected = transports[-1]
    # With both transports the client starts on polling and upgrades.
    wait_until(lambda: c.transport() == expected, 10, f'transport {expected}')
    assert c.call('echo', 'hello', timeout=10) == 'hello'
    assert c.call('echo', ('a', 1, {'b': [2]}), timeout=10) == ('a', 1, {'b': [2]})
    assert c.call('echo', {'ünï': 'cödé ☃'}, timeout=10) == {'ünï': 'cödé ☃'}
    assert c.call('session_roundtrip', 'kept', timeout=10) == 'kept'
    sid = c.get_sid()
    c.disconnect()
    assert server_event(proc, 'disconnect', sid)['reason'] == 'client disconnect'
    assert c.eio.state == 'disconnected'
    assert_no_errors(proc)


@pytest.mark.parametrize('transports', [['polling'], ['websocket']], ids=','.join)
def test_binary_and_server_to_client_ack(server: tuple[Proc, str],
                                         clients: list[Any],
                                         transports: list[str]) -> None:
    proc, url = server
    c = new_client(clients)
    got_bin = threading.Event()
    received: list[Any] = []

    @c.on('question')
    def question(data: dict[str, int]) -> dict[str, int]:
        return {'answer': data['x'] * 2}

    @c.on('bin')
    def on_bin(data: Any) -> None:
        received.append(data)
        got_bin.set()

    c.connect(url, transports=transports, wait_timeout=10)
    payload = {'raw': b'\x00\x01\xff', 'nested': [b'ab', 'text', {'deep': b'\x07'}]}
    assert c.call('echo', payload, timeout=10) == payload
    assert c.call('echo', (b'one', b'two'), timeout=10) == (b'one', b'two')
    assert c.call('ask_client', {'x': 21}, timeout=10) == {'answer': 42}
    assert c.call('emit_binary', timeout=10) is True
    assert got_bin.wait(10)
    assert received[0] == {'raw': b'\x00\x01\xfe\xff', 'list': [b'ab', 'text', b'cd']}
    assert_no_errors(proc)


def test_rooms_and_broadcast(server: tuple[Proc, str], clients: list[Any]) -> None:
    proc, url = server
    inbox: dict[str, list[Any]] = {'a': [], 'b': []}
    a, b = new_client(clients), new_client(clients)
    for name, c in (('a', a), ('b', b)):
        c.on('room_msg', lambda data, name=name: inbox[name].append(('room', data)))
        c.on('bcast', lambda data, name=name: inbox[name].append(('all', data)))
        c.connect(url, wait_timeout=10)
    assert a.call('join', 'r1', timeout=10) is True
    assert b.call('to_room', ('r1', 'to members'), timeout=10) is True
    assert b.call('broadcast', 'to all', timeout=10) is True
    wait_until(lambda: len(inbox['a']) == 2 and len(inbox['b']) == 1, 10,
               'room and broadcast messages')
    assert inbox['a'] == [('room', 'to members'), ('all', 'to all')]
    assert inbox['b'] == [('all', 'to all')]
    assert_no_errors(proc)


def test_namespaces_and_refusals(server: tuple[Proc, str],
                                 clients: list[Any]) -> None:
    proc, url = server
    c = new_client(clients)
    c.connect(url, namespaces=['/', '/chat'], wait_timeout=10)
    assert c.call('echo', 'x', timeout=10) == 'x'
    assert c.call('echo', 'x', namespace='/chat', timeout=10) == ('chat', 'x')
    assert c.get_sid('/') != c.get_sid('/chat')
    refused = new_client(clients)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(url, namespaces=['/private'], wait_timeout=10)
    bad_auth = new_client(clients)
    errors: list[Any] = []
    bad_auth.on('connect_error', lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        bad_auth.connect(url, auth={'token': 'bad'}, wait_timeout=10)
    assert errors == [{'message': 'bad token'}]
    assert_no_errors(proc)


@pytest.mark.parametrize('transports', [['polling'], ['websocket']], ids=','.join)
def test_server_disconnect(server: tuple[Proc, str], clients: list[Any],
                           transports: list[str]) -> None:
    proc, url = server
    c = new_client(clients, reconnection=True)
    reasons: list[str] = []
    gone = threading.Event()

    @c.event
    def disconnect(reason: str) -> None:
        reasons.append(reason)
        gone.set()

    c.connect(url, transports=transports, wait_timeout=10)
    sid = c.get_sid()
    # Client.wait() (over eio.wait()) must return once the server ended
    # the session (it sleeps one second before it looks at the state).
    waiter = threading.Thread(target=c.wait, daemon=True)
    waiter.start()
    c.emit('bye')
    assert gone.wait(10)
    waiter.join(10)
    assert not waiter.is_alive()
    assert reasons == [c.reason.SERVER_DISCONNECT]
    assert server_event(proc, 'disconnect', sid)['reason'] == 'server disconnect'
    # A deliberate disconnection by the server is not retried.
    wait_until(lambda: c.eio.state == 'disconnected', 10, 'engine.io closed')
    assert not c.connected and c._reconnect_task is None
    assert_no_errors(proc)


def test_client_disconnect_is_not_retried(server: tuple[Proc, str],
                                          clients: list[Any]) -> None:
    # python-socketio reconnects only when the Engine.IO client still says
    # 'connected' in its disconnect handler: a deliberate disconnect() must
    # not say so.
    proc, url = server
    c = new_client(clients, reconnection=True)
    states: list[str] = []
    c.on('disconnect', lambda reason: states.append(c.eio.state))
    c.connect(url, transports=['websocket'], wait_timeout=10)
    c.disconnect()
    wait_until(lambda: states, 10, 'disconnect handler')
    assert states[0] != 'connected'
    assert c._reconnect_task is None and c.eio.state == 'disconnected'
    assert_no_errors(proc)


def test_burst_over_polling(server: tuple[Proc, str], clients: list[Any]) -> None:
    proc, url = server
    c = new_client(clients)
    got: list[int] = []
    c.on('b', got.append)
    c.connect(url, transports=['polling'], wait_timeout=10)
    for i in range(200):
        c.emit('burst', i)
    assert c.call('burst_result', 200, timeout=15) == {'count': 200, 'distinct': 200}
    assert c.call('burst_me', 200, timeout=15) is True
    wait_until(lambda: len(got) == 200, 10, '200 events from the server')
    assert got == list(range(200))
    assert c.transport() == 'polling'
    assert_no_errors(proc)


def test_simple_client(server: tuple[Proc, str]) -> None:
    proc, url = server
    with socketio.SimpleClient(handle_sigint=False) as c:
        c.connect(url, transports=['websocket'], wait_timeout=10)
        assert c.sid and c.transport == 'websocket'
        assert c.call('echo', 'simple', timeout=10) == 'simple'
        c.emit('broadcast', 'hi')
        assert c.receive(timeout=10) == ['bcast', 'hi']
    assert_no_errors(proc)


def test_reconnect_after_server_restart(clients: list[Any]) -> None:
    proc, port = start_sio_server(SCRIPT)
    url = f'http://127.0.0.1:{port}'
    c = new_client(clients, reconnection=True, reconnection_delay=0.1,
                   reconnection_delay_max=0.3, randomization_factor=0)
    events: list[str] = []
    c.on('connect', lambda: events.append('connect'))
    c.on('disconnect', lambda reason: events.append(f'disconnect:{reason}'))
    try:
        c.connect(url, wait_timeout=10)
        first_sid = c.get_sid()
        proc.stop()
        wait_until(lambda: len(events) >= 2, 10, 'disconnect event')
        # The server vanished: a transport failure, which is retried.
        assert events[1] in ('disconnect:transport error',
                             'disconnect:transport close'), events
        proc, _ = start_sio_server(SCRIPT, port=port)
        wait_until(lambda: c.connected and events.count('connect') == 2, 20,
                   'reconnection')
        assert c.get_sid() != first_sid
        assert c.call('echo', 'after restart', timeout=10) == 'after restart'
        assert_no_errors(proc)
    finally:
        c.disconnect()
        proc.stop()


def test_websocket_close_leaves_werkzeug_quiet() -> None:
    # The window is narrow (the close frame must arrive between the last
    # frame read and the shutdown), so repeat: about one disconnection in
    # four hits it on a 2-core machine.
    proc, port = start_sio_server(SCRIPT)
    url = f'http://127.0.0.1:{port}'
    try:
        for i in range(30):
            c = socketio.Client(handle_sigint=False, reconnection=False)
            gone = threading.Event()
            c.on('disconnect', lambda reason, gone=gone: gone.set())
            c.connect(url, transports=['websocket'], wait_timeout=10)
            if i % 2:
                c.disconnect()
            else:
                c.emit('bye')
                assert gone.wait(10)
            time.sleep(0.02)
        time.sleep(0.3)
        assert not error_lines(proc, known=True), error_lines(proc, known=True)
    finally:
        proc.stop()
