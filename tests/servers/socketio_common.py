"""The Socket.IO application every compat test drives (tests/compat/).

The same events are implemented for python-socketio's ``Server`` and
``AsyncServer`` (and, in socketio_flask.py, for Flask-SocketIO), so one set
of client scenarios (tests/compat/js/sio_client.js and the python-socketio
clients) runs against each:

``echo(*args)``           acknowledged with the same arguments
``join(room)``/``leave``  enter/leave a room; acknowledged with ``True``
``to_room(room, data)``   emits ``room_msg`` with ``data`` to the room
``broadcast(data)``       emits ``bcast`` with ``data`` to everyone
``ask_client(data)``      calls the client's ``question`` event (server to
                          client acknowledgement) and acknowledges its answer
``emit_binary()``         emits ``bin`` holding bytes, nested
``burst(i)``              records ``i``; ``burst_result(n)`` waits (bounded)
                          until ``n`` were recorded and reports them
``burst_me(n)``           emits ``n`` numbered ``b`` events at once
``bye()``                 the server disconnects the client
``/chat``                 namespace whose ``echo`` prefixes ``'chat'``
``/private``              namespace that refuses every connection

Connections and disconnections are printed as JSON lines for the tests.
With ``SIO_ADMIN=1`` the admin instrumentation is enabled.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
from typing import Any

import socketio

#: Server options, from the environment so one module serves every test.
OPTIONS: dict[str, Any] = json.loads(os.environ.get('SIO_OPTIONS', '{}'))
ADMIN = os.environ.get('SIO_ADMIN') == '1'
#: How long ``burst_result`` waits for the burst handlers to finish: with
#: python-socketio's async_handlers each event runs in its own task.
BURST_WAIT = 10.0

_print_lock = threading.Lock()


def emit_line(event: dict[str, Any]) -> None:
    # One write per line: the server's own log shares the stream.
    with _print_lock:
        sys.stdout.write(json.dumps(event) + '\n')
        sys.stdout.flush()


def setup_logging() -> None:
    """Send warnings and errors to stdout with a marker the tests look for,
    and report exceptions that escape a thread: the compat tests require
    that none happens."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout,
                        format='LOG %(levelname)s %(name)s: %(message)s')
    # Werkzeug sets its own logger to INFO (one line per request): too noisy.
    logging.getLogger('werkzeug').setLevel(logging.WARNING)

    def excepthook(args: threading.ExceptHookArgs) -> None:
        emit_line({'event': 'thread-exception',
                   'error': repr(args.exc_value)})

    threading.excepthook = excepthook


def listen(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (reusable, so a restarted server can
    take the port of the one it replaces)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def port_arg() -> int:
    return int(sys.argv[1]) if len(sys.argv) > 1 else 0


def burst_report(received: list[int]) -> dict[str, Any]:
    return {'count': len(received), 'distinct': len(set(received))}


class Bursts:
    """Burst indexes received per client (handlers run concurrently)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_sid: dict[str, list[int]] = {}

    def add(self, sid: str, i: int) -> None:
        with self.lock:
            self.by_sid.setdefault(sid, []).append(i)

    def get(self, sid: str) -> list[int]:
        with self.lock:
            return list(self.by_sid.get(sid, []))


def binary_payload() -> dict[str, Any]:
    return {'raw': b'\x00\x01\xfe\xff', 'list': [b'ab', 'text', b'cd']}


def install(sio: socketio.Server) -> None:
    """The events above on a python-socketio ``Server``."""
    bursts = Bursts()

    @sio.event
    def connect(sid: str, environ: dict[str, Any], auth: Any) -> Any:
        emit_line({'event': 'connect', 'sid': sid, 'ns': '/',
                   'transport': sio.transport(sid)})
        if isinstance(auth, dict) and auth.get('token') == 'bad':
            raise socketio.exceptions.ConnectionRefusedError('bad token')
        return None

    @sio.event
    def disconnect(sid: str, reason: str) -> None:
        emit_line({'event': 'disconnect', 'sid': sid, 'ns': '/',
                   'reason': reason})

    @sio.event
    def echo(sid: str, *args: Any) -> Any:
        return args

    @sio.event
    def join(sid: str, room: str) -> bool:
        sio.enter_room(sid, room)
        return True

    @sio.event
    def leave(sid: str, room: str) -> bool:
        sio.leave_room(sid, room)
        return True

    @sio.event
    def to_room(sid: str, room: str, data: Any) -> bool:
        sio.emit('room_msg', data, to=room)
        return True

    @sio.event
    def broadcast(sid: str, data: Any) -> bool:
        sio.emit('bcast', data)
        return True

    @sio.event
    def ask_client(sid: str, data: Any) -> Any:
        return sio.call('question', data, to=sid, timeout=10)

    @sio.event
    def emit_binary(sid: str) -> bool:
        sio.emit('bin', binary_payload(), to=sid)
        return True

    @sio.event
    def burst(sid: str, i: int) -> None:
        bursts.add(sid, i)

    @sio.event
    def burst_result(sid: str, n: int) -> dict[str, Any]:
        deadline = time.monotonic() + BURST_WAIT
        while len(bursts.get(sid)) < n and time.monotonic() < deadline:
            sio.sleep(0.02)
        return burst_report(bursts.get(sid))

    @sio.event
    def burst_me(sid: str, n: int) -> bool:
        for i in range(n):
            sio.emit('b', i, to=sid)
        return True

    @sio.event
    def bye(sid: str) -> None:
        sio.disconnect(sid)

    @sio.event
    def session_roundtrip(sid: str, value: Any) -> Any:
        # eio.get_session() must hand back the stored dict (python-socketio
        # keeps one dict per namespace inside it).
        with sio.session(sid) as session:
            session['value'] = value
        return sio.get_session(sid).get('value')

    @sio.on('connect', namespace='/chat')
    def chat_connect(sid: str, environ: dict[str, Any]) -> None:
        emit_line({'event': 'connect', 'sid': sid, 'ns': '/chat'})

    @sio.on('echo', namespace='/chat')
    def chat_echo(sid: str, *args: Any) -> Any:
        return ('chat', *args)

    @sio.on('disconnect', namespace='/chat')
    def chat_disconnect(sid: str, reason: str) -> None:
        emit_line({'event': 'disconnect', 'sid': sid, 'ns': '/chat',
                   'reason': reason})

    @sio.on('connect', namespace='/private')
    def private_connect(sid: str, environ: dict[str, Any]) -> bool:
        raise socketio.exceptions.ConnectionRefusedError('private')

    if ADMIN:
        sio.instrument(auth=False, server_stats_interval=0.5)


def install_async(sio: socketio.AsyncServer) -> None:
    """The events above on a python-socketio ``AsyncServer``."""
    bursts = Bursts()

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> Any:
        emit_line({'event': 'connect', 'sid': sid, 'ns': '/',
                   'transport': sio.transport(sid)})
        if isinstance(auth, dict) and auth.get('token') == 'bad':
            raise socketio.exceptions.ConnectionRefusedError('bad token')
        return None

    @sio.event
    async def disconnect(sid: str, reason: str) -> None:
        emit_line({'event': 'disconnect', 'sid': sid, 'ns': '/',
                   'reason': reason})

    @sio.event
    async def echo(sid: str, *args: Any) -> Any:
        return args

    @sio.event
    async def join(sid: str, room: str) -> bool:
        await sio.enter_room(sid, room)
        return True

    @sio.event
    async def leave(sid: str, room: str) -> bool:
        await sio.leave_room(sid, room)
        return True

    @sio.event
    async def to_room(sid: str, room: str, data: Any) -> bool:
        await sio.emit('room_msg', data, to=room)
        return True

    @sio.event
    async def broadcast(sid: str, data: Any) -> bool:
        await sio.emit('bcast', data)
        return True

    @sio.event
    async def ask_client(sid: str, data: Any) -> Any:
        return await sio.call('question', data, to=sid, timeout=10)

    @sio.event
    async def emit_binary(sid: str) -> bool:
        await sio.emit('bin', binary_payload(), to=sid)
        return True

    @sio.event
    async def burst(sid: str, i: int) -> None:
        bursts.add(sid, i)

    @sio.event
    async def burst_result(sid: str, n: int) -> dict[str, Any]:
        deadline = time.monotonic() + BURST_WAIT
        while len(bursts.get(sid)) < n and time.monotonic() < deadline:
            await sio.sleep(0.02)
        return burst_report(bursts.get(sid))

    @sio.event
    async def burst_me(sid: str, n: int) -> bool:
        for i in range(n):
            await sio.emit('b', i, to=sid)
        return True

    @sio.event
    async def bye(sid: str) -> None:
        await sio.disconnect(sid)

    @sio.event
    async def session_roundtrip(sid: str, value: Any) -> Any:
        async with sio.session(sid) as session:
            session['value'] = value
        return (await sio.get_session(sid)).get('value')

    @sio.on('connect', namespace='/chat')
    async def chat_connect(sid: str, environ: dict[str, Any]) -> None:
        emit_line({'event': 'connect', 'sid': sid, 'ns': '/chat'})

    @sio.on('echo', namespace='/chat')
    async def chat_echo(sid: str, *args: Any) -> Any:
        return ('chat', *args)

    @sio.on('disconnect', namespace='/chat')
    async def chat_disconnect(sid: str, reason: str) -> None:
        emit_line({'event': 'disconnect', 'sid': sid, 'ns': '/chat',
                   'reason': reason})

    @sio.on('connect', namespace='/private')
    async def private_connect(sid: str, environ: dict[str, Any]) -> bool:
        raise socketio.exceptions.ConnectionRefusedError('private')

    if ADMIN:
        sio.instrument(auth=False, server_stats_interval=0.5)
