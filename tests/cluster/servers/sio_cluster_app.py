"""The python-socketio application of the cluster tests
(tests/cluster/test_socketio.py), for ``socketio.Server`` and
``socketio.AsyncServer``: the same events on both.

Every worker process of a test runs it with ``cluster=<Redis URL>`` (from
``EIO_OPTIONS``, like every test server) and python-socketio's Redis client
manager on the same Redis, so rooms and broadcasts span the workers while
the Engine.IO sessions are shared through the cluster.

Events (handlers run on the worker that owns the session):

``whoami()``                 acknowledged with ``{'sid', 'pid'}``
``echo(*args)``              acknowledged with the same arguments
``remember(value)``          stores ``value`` in the Socket.IO session
``recall()``                 acknowledged with the stored value
``join(room)``               enters ``room``; acknowledged with the pid
``to_room(room, data)``      emits ``room_msg`` ``data`` to ``room``
``broadcast(data)``          emits ``bcast`` ``data`` to everyone
``seq(i)``                   records ``i`` for this client
``seq_result()``             acknowledged with the recorded list
``seq_me(n)``                emits ``n`` events ``n`` (0..n-1) to the client

HTTP ``GET /trigger?event=E&data=D[&room=R]`` (any path but the Socket.IO
one): ``sio.emit(E, D, to=R)`` from whichever worker serves it (HAProxy
picks it); answers ``{"pid": ...}``.

Each worker prints JSON lines: ``connect`` (``sid``, ``eio_sid``, ``pid``,
``name`` from the client's auth), ``disconnect`` (``sid``, ``reason``,
``pid``); warnings and errors as ``LOG ...`` lines (socketio_common).
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any
from urllib.parse import parse_qs

import socketio

from socketio_common import emit_line

PID = os.getpid()
#: Options of the server (``cluster``, ``ping_interval``...), JSON in
#: EIO_OPTIONS like every test server; python-socketio passes the ones it
#: does not know on to ``engineio.Server``/``AsyncServer``.
OPTIONS: dict[str, Any] = json.loads(os.environ.get('EIO_OPTIONS', '{}'))


def server_options(async_mode: str) -> dict[str, Any]:
    """The keyword arguments of the Socket.IO server: the options with the
    async mode and the Redis client manager on the cluster's Redis."""
    options = dict(OPTIONS)
    options.setdefault('async_mode', async_mode)
    assert options.get('cluster'), 'these servers are cluster workers'
    return options


def _name(auth: Any) -> Any:
    return auth.get('name') if isinstance(auth, dict) else None


class Seqs:
    """The ``seq`` numbers received, per client, in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_sid: dict[str, list[int]] = {}

    def add(self, sid: str, i: int) -> None:
        with self.lock:
            self.by_sid.setdefault(sid, []).append(i)

    def get(self, sid: str) -> list[int]:
        with self.lock:
            return list(self.by_sid.get(sid, []))


def _trigger_args(query: str) -> tuple[str, Any, str | None]:
    q = {k: v[0] for k, v in parse_qs(query).items()}
    return q.get('event', 'bcast'), q.get('data'), q.get('room')


def install(sio: socketio.Server) -> Any:
    """The events on a ``socketio.Server``; returns the WSGI app."""
    seqs = Seqs()

    @sio.event
    def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        emit_line({'event': 'connect', 'sid': sid, 'pid': PID,
                   'eio_sid': sio.manager.eio_sid_from_sid(sid, '/'),
                   'name': _name(auth), 'transport': sio.transport(sid)})

    @sio.event
    def disconnect(sid: str, reason: str) -> None:
        emit_line({'event': 'disconnect', 'sid': sid, 'pid': PID,
                   'reason': reason})

    @sio.event
    def whoami(sid: str) -> Any:
        return {'sid': sid, 'pid': PID}

    @sio.event
    def echo(sid: str, *args: Any) -> Any:
        return args

    @sio.event
    def remember(sid: str, value: Any) -> bool:
        with sio.session(sid) as session:
            session['value'] = value
        return True

    @sio.event
    def recall(sid: str) -> Any:
        return sio.get_session(sid).get('value')

    @sio.event
    def join(sid: str, room: str) -> int:
        sio.enter_room(sid, room)
        return PID

    @sio.event
    def to_room(sid: str, room: str, data: Any) -> int:
        sio.emit('room_msg', data, to=room)
        return PID

    @sio.event
    def broadcast(sid: str, data: Any) -> int:
        sio.emit('bcast', data)
        return PID

    @sio.event
    def seq(sid: str, i: int) -> None:
        seqs.add(sid, i)

    @sio.event
    def seq_result(sid: str) -> list[int]:
        return seqs.get(sid)

    @sio.event
    def seq_me(sid: str, n: int) -> int:
        for i in range(n):
            sio.emit('n', i, to=sid)
        return PID

    def trigger(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get('PATH_INFO') != '/trigger':
            start_response('404 Not Found', [('Content-Type', 'text/plain')])
            return [b'not found']
        event, data, room = _trigger_args(environ.get('QUERY_STRING', ''))
        sio.emit(event, data, to=room)
        start_response('200 OK', [('Content-Type', 'application/json')])
        return [json.dumps({'pid': PID}).encode()]

    return socketio.WSGIApp(sio, trigger)


def install_async(sio: socketio.AsyncServer) -> Any:
    """The events on a ``socketio.AsyncServer``; returns the ASGI app."""
    seqs = Seqs()

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
        emit_line({'event': 'connect', 'sid': sid, 'pid': PID,
                   'eio_sid': sio.manager.eio_sid_from_sid(sid, '/'),
                   'name': _name(auth), 'transport': sio.transport(sid)})

    @sio.event
    async def disconnect(sid: str, reason: str) -> None:
        emit_line({'event': 'disconnect', 'sid': sid, 'pid': PID,
                   'reason': reason})

    @sio.event
    async def whoami(sid: str) -> Any:
        return {'sid': sid, 'pid': PID}

    @sio.event
    async def echo(sid: str, *args: Any) -> Any:
        return args

    @sio.event
    async def remember(sid: str, value: Any) -> bool:
        async with sio.session(sid) as session:
            session['value'] = value
        return True

    @sio.event
    async def recall(sid: str) -> Any:
        return (await sio.get_session(sid)).get('value')

    @sio.event
    async def join(sid: str, room: str) -> int:
        await sio.enter_room(sid, room)
        return PID

    @sio.event
    async def to_room(sid: str, room: str, data: Any) -> int:
        await sio.emit('room_msg', data, to=room)
        return PID

    @sio.event
    async def broadcast(sid: str, data: Any) -> int:
        await sio.emit('bcast', data)
        return PID

    @sio.event
    async def seq(sid: str, i: int) -> None:
        # No await before this: python-socketio starts one task per event,
        # in arrival order, and each records before it yields.
        seqs.add(sid, i)

    @sio.event
    async def seq_result(sid: str) -> list[int]:
        return seqs.get(sid)

    @sio.event
    async def seq_me(sid: str, n: int) -> int:
        for i in range(n):
            await sio.emit('n', i, to=sid)
        return PID

    async def trigger(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope['type'] != 'http':
            return
        if scope.get('path') != '/trigger':
            await send({'type': 'http.response.start', 'status': 404,
                        'headers': [(b'content-type', b'text/plain')]})
            await send({'type': 'http.response.body', 'body': b'not found'})
            return
        event, data, room = _trigger_args(
            scope.get('query_string', b'').decode())
        await sio.emit(event, data, to=room)
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'application/json')]})
        await send({'type': 'http.response.body',
                    'body': json.dumps({'pid': PID}).encode()})

    return socketio.ASGIApp(sio, trigger)
