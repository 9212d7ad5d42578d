"""The ``gevent_uwsgi`` async mode: uWSGI's gevent loop and its native
WebSocket support (``uwsgi --gevent N --http-websockets``).

The concurrency primitives are gevent's.  The WebSocket is uWSGI's, which has
two constraints this module works around:

* uWSGI finds the request a ``uwsgi.websocket_*`` call belongs to through an
  attribute of the *current greenlet*, which only the request's own
  greenlet has.  So only that greenlet touches the WebSocket: writes from
  other greenlets (handlers, the heartbeat) are queued, and the request
  greenlet, which spends its time in :meth:`UwsgiWebSocket.wait`, wakes up
  to send them in order.
* ``websocket_recv`` returns the payload without the frame's opcode, so text
  and binary messages cannot be told apart.  A payload that is valid UTF-8
  is taken as text (every Engine.IO text packet is); a binary message that
  happens to be valid UTF-8 is misread.  uWSGI also returns ``b'\\x00'`` for
  a fragment of an unfinished message, so a one-byte binary message holding
  zero is lost.
"""
# Green-thread libraries and uwsgi ship no type information (or are absent).
# mypy: disable-error-code="import-untyped,import-not-found"
from __future__ import annotations

import os
from collections import deque
from typing import Any

import gevent
import gevent.event

from ..exceptions import ContentTooLongError
from .gevent_runtime import (
    Event,
    Lock,
    Queue,
    QueueEmpty,
    Signal,
    make_pool,
    sleep,
    spawn,
)

try:
    import uwsgi
except ImportError:  # pragma: no cover - depends on the host process
    raise ImportError('the gevent_uwsgi mode runs only inside a uWSGI '
                      'server') from None

# ``uwsgi.loop`` names the loop engine (bytes on Python 3).  It is the test
# for "uWSGI with gevent": the application is usually loaded in the master
# before the gevent plugin imports gevent, so sys.modules cannot tell yet.
_loop = getattr(uwsgi, 'loop', None)
if (_loop.decode() if isinstance(_loop, bytes) else _loop) != 'gevent':
    raise ImportError('the gevent_uwsgi mode needs uWSGI started with '
                      '--gevent')

__all__ = ['Event', 'Lock', 'Queue', 'QueueEmpty', 'Signal', 'UwsgiWebSocket',
           'make_pool', 'name', 'sleep', 'spawn', 'websocket']

name = 'gevent_uwsgi'

#: How long the request greenlet sleeps at most with nothing to do; uWSGI
#: sends its protocol pings and checks pongs only while it is asked to
#: receive, so it is asked at least this often.
IDLE_RECHECK = 5.0
#: What uWSGI hands back for a fragment of an unfinished message.
_PARTIAL = b'\x00'
_MESSAGE_TOO_BIG = 1009
_READ = 1  # libev's EV_READ


def websocket(environ: dict[str, Any], max_message_size: int,
              write_timeout: float,
              compression: int | None = None) -> UwsgiWebSocket:
    """Accept the request as a WebSocket (raises OSError if uWSGI cannot,
    e.g. without --http-websockets behind its HTTP router).

    ``compression`` is ignored: uWSGI's handshake negotiates no extension.
    """
    return UwsgiWebSocket(max_message_size)


class UwsgiWebSocket:
    """uWSGI's WebSocket for the request of the calling greenlet."""

    def __init__(self, max_message_size: int) -> None:
        uwsgi.websocket_handshake()
        self.max_message_size = max_message_size
        #: True once nothing more is read or written.
        self.closed = False
        self._owner = gevent.getcurrent()
        self._fd: int = uwsgi.connection_fd()
        self._outbox: deque[str | bytes] = deque()
        self._close_code: int | None = None
        self._wake = gevent.event.Event()
        self._watcher = gevent.get_hub().loop.io(self._fd, _READ)

    def _in_owner(self) -> bool:
        return gevent.getcurrent() is self._owner

    def send(self, frame: str | bytes) -> None:
        """Send one message; from another greenlet it is queued for the
        request greenlet, in order."""
        if self.closed or self._close_code is not None:
            raise ConnectionError('websocket is closed')
        if self._in_owner():
            self._flush()
            self._send_now(frame)
        else:
            self._outbox.append(frame)
            self._wake.set()

    def _send_now(self, frame: str | bytes) -> None:
        try:
            if isinstance(frame, str):
                uwsgi.websocket_send(frame)
            else:
                uwsgi.websocket_send_binary(frame)
        except OSError:
            self.closed = True
            raise

    def _flush(self) -> None:
        while self._outbox and not self.closed:
            self._send_now(self._outbox.popleft())

    def wait(self) -> str | bytes | None:
        """Block until the next message; None once the WebSocket closed.
        Only the request greenlet calls this (the server's reader does)."""
        while True:
            self._flush()
            if self._close_code is not None:
                self._close_now(self._close_code)
            if self.closed:
                return None
            try:
                message = uwsgi.websocket_recv_nb()
            except OSError:
                # uWSGI reports a close frame, EOF and errors alike.
                self.closed = True
                return None
            if message and message != _PARTIAL:
                return self._decode(message)
            if message:
                continue
            # Nothing buffered: sleep until the socket is readable, another
            # greenlet queued output or asked to close, or the recheck.
            self._wake.clear()
            if self._outbox or self._close_code is not None:
                continue
            self._watcher.start(self._wake.set)
            try:
                self._wake.wait(IDLE_RECHECK)
            finally:
                self._watcher.stop()

    def _decode(self, message: bytes) -> str | bytes:
        if len(message) > self.max_message_size:
            self._close_now(_MESSAGE_TOO_BIG)
            raise ContentTooLongError('websocket message too large')
        try:
            return message.decode('utf-8')
        except UnicodeDecodeError:
            return message

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent; from any greenlet)."""
        if self.closed or self._close_code is not None:
            return
        if self._in_owner():
            self._close_now(code)
        else:
            self._close_code = code
            self._wake.set()

    def _close_now(self, code: int) -> None:
        self._flush_quietly()
        self.closed = True
        self._close_code = None
        # uWSGI's Python API has no call for a close frame; after the
        # handshake the connection carries bare WebSocket frames, so one
        # written on the descriptor is one the peer reads (RFC 6455 5.5.1).
        try:
            os.write(self._fd, bytes((0x88, 2)) + code.to_bytes(2, 'big'))
        except OSError:
            pass

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except OSError:
            pass

    def finish_request(self) -> list[bytes]:
        """uWSGI writes nothing more for a WebSocket request and closes the
        connection when the application returns."""
        self._watcher.stop()
        return []


def socket_is_green() -> bool:
    """Whether blocking libraries (redis) cooperate with gevent: only once
    the socket module is monkey patched."""
    import gevent.monkey
    return bool(gevent.monkey.is_module_patched('socket'))
