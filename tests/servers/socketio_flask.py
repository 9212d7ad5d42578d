"""A Flask-SocketIO application on this package, run the way its manual
shows for development: ``socketio.run(app, allow_unsafe_werkzeug=True)``
(Flask's threaded dev server) with ``async_mode='threading'``.

It implements the events of socketio_common.py with Flask-SocketIO's own
API (``request.sid``, ``emit``, ``join_room``...), plus an HTTP route that
must keep working behind Flask-SocketIO's middleware.

Usage: ``python socketio_flask.py [PORT]``; prints ``READY <port>``.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

from flask import Flask, request
from flask_socketio import (
    ConnectionRefusedError,
    SocketIO,
    disconnect,
    emit,
    join_room,
    leave_room,
)

from socketio_common import (
    ADMIN,
    BURST_WAIT,
    OPTIONS,
    Bursts,
    binary_payload,
    burst_report,
    emit_line,
    listen,
    port_arg,
    setup_logging,
)

setup_logging()
app = Flask(__name__)
options = dict(OPTIONS)
options.setdefault('async_mode', 'threading')
socketio = SocketIO(app, **options)
bursts = Bursts()


def sid() -> str:
    return request.sid  # type: ignore[attr-defined, no-any-return]


@app.route('/hello')
def hello() -> str:
    return 'flask says hello'


@socketio.on('connect')
def on_connect(auth: Any) -> None:
    emit_line({'event': 'connect', 'sid': sid(), 'ns': '/',
               'transport': socketio.server.transport(sid())})
    if isinstance(auth, dict) and auth.get('token') == 'bad':
        raise ConnectionRefusedError('bad token')


@socketio.on('disconnect')
def on_disconnect(reason: str) -> None:
    emit_line({'event': 'disconnect', 'sid': sid(), 'ns': '/',
               'reason': reason})


@socketio.on('echo')
def on_echo(*args: Any) -> Any:
    return args


@socketio.on('join')
def on_join(room: str) -> bool:
    join_room(room)
    return True


@socketio.on('leave')
def on_leave(room: str) -> bool:
    leave_room(room)
    return True


@socketio.on('to_room')
def on_to_room(room: str, data: Any) -> bool:
    emit('room_msg', data, to=room)
    return True


@socketio.on('broadcast')
def on_broadcast(data: Any) -> bool:
    emit('bcast', data, broadcast=True)
    return True


@socketio.on('ask_client')
def on_ask_client(data: Any) -> Any:
    return socketio.call('question', data, to=sid(), timeout=10)


@socketio.on('emit_binary')
def on_emit_binary() -> bool:
    emit('bin', binary_payload())
    return True


@socketio.on('burst')
def on_burst(i: int) -> None:
    bursts.add(sid(), i)


@socketio.on('burst_result')
def on_burst_result(n: int) -> dict[str, Any]:
    deadline = time.monotonic() + BURST_WAIT
    while len(bursts.get(sid())) < n and time.monotonic() < deadline:
        socketio.sleep(0.02)
    return burst_report(bursts.get(sid()))


@socketio.on('burst_me')
def on_burst_me(n: int) -> bool:
    for i in range(n):
        emit('b', i)
    return True


@socketio.on('bye')
def on_bye() -> None:
    disconnect()


@socketio.on('session_roundtrip')
def on_session_roundtrip(value: Any) -> Any:
    return value


@socketio.on('connect', namespace='/chat')
def on_chat_connect(auth: Any) -> None:
    emit_line({'event': 'connect', 'sid': sid(), 'ns': '/chat'})


@socketio.on('echo', namespace='/chat')
def on_chat_echo(*args: Any) -> Any:
    return ('chat', *args)


@socketio.on('disconnect', namespace='/chat')
def on_chat_disconnect(reason: str) -> None:
    emit_line({'event': 'disconnect', 'sid': sid(), 'ns': '/chat',
               'reason': reason})


@socketio.on('connect', namespace='/private')
def on_private_connect(auth: Any) -> None:
    raise ConnectionRefusedError('private')


if ADMIN:
    socketio.server.instrument(auth=False, server_stats_interval=0.5)


def announce_when_listening(port: int) -> None:
    """Print ``READY`` once the dev server accepts connections (it binds
    the port itself, inside ``socketio.run()``)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
            continue
        print(f'READY {port}', flush=True)
        return


if __name__ == '__main__':
    with listen(port_arg()) as probe:
        port = probe.getsockname()[1]
    threading.Thread(target=announce_when_listening, args=(port,),
                     daemon=True).start()
    socketio.run(app, host='127.0.0.1', port=port, allow_unsafe_werkzeug=True,
                 debug=False, use_reloader=False, log_output=False)
