"""The ``gevent`` async mode: gevent greenlets.

For gevent's ``pywsgi.WSGIServer`` (with or without gevent-websocket's
``WebSocketHandler``) and gunicorn's gevent workers.  WebSocket comes from
gevent-websocket when its handler put ``wsgi.websocket`` in the environ, and
otherwise from the request's raw (green) socket framed by wsproto, as in the
threading mode.  Every primitive is gevent's own, so the server works
without monkey patching.
"""
# Green-thread libraries and uwsgi ship no type information (or are absent).
# mypy: disable-error-code="import-untyped,import-not-found"
from __future__ import annotations

import socket as _socket
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.lock
import gevent.queue

from ..exceptions import ContentTooLongError
from .green import SpawnPool
from .wsgi_websocket import RawSocketWebSocket, raw_socket

name = 'gevent'
Event = gevent.event.Event
# BoundedSemaphore(1) is gevent's non-reentrant lock (what
# gevent.thread.allocate_lock returns), like threading.Lock.
Lock = gevent.lock.BoundedSemaphore
# JoinableQueue has task_done()/join() in every gevent release, as
# queue.Queue does; plain gevent.queue.Queue gained them only recently.
Queue = gevent.queue.JoinableQueue
QueueEmpty = gevent.queue.Empty
sleep = gevent.sleep

_MESSAGE_TOO_BIG = 1009


def spawn(target: Callable[..., Any], *args: Any,
          **kwargs: Any) -> gevent.Greenlet:
    """Start ``target`` in a greenlet (which has ``join()``)."""
    return gevent.spawn(target, *args, **kwargs)


def make_pool() -> SpawnPool:
    # Handler jobs are never joined: a raw greenlet skips the Greenlet
    # object and its bookkeeping (about 12% of the CPU per message).
    return SpawnPool(gevent.spawn_raw)


def websocket(environ: dict[str, Any], max_message_size: int,
              write_timeout: float, compression: int | None = None) -> Any:
    """The WebSocket of a WSGI request: gevent-websocket's if its handler
    already accepted one, else one over the raw socket; None when neither
    is available."""
    ws = environ.get('wsgi.websocket')
    if ws is not None:
        # gevent-websocket has already answered the handshake, and it has
        # no permessage-deflate: ``compression`` cannot apply here.
        return GeventWebSocket(ws, Lock(), max_message_size)
    sock = raw_socket(environ)
    if sock is None:
        return None
    return RawSocketWebSocket(sock, environ, Lock(), max_message_size,
                              write_timeout, compression)


class GeventWebSocket:
    """gevent-websocket's WebSocket behind the interface the server uses
    (``send``, ``wait``, ``close``, ``finish_request``).

    gevent-websocket has no message size limit, so its payload reader is
    wrapped: a message over ``max_message_size`` fails before its bytes are
    read into memory.
    """

    def __init__(self, ws: Any, lock: Any, max_message_size: int) -> None:
        self.ws = ws
        self.max_message_size = max_message_size
        self.closed = False
        self._lock = lock
        self._received = 0
        self._too_large = False
        read = ws.raw_read

        def bounded_read(size: int) -> bytes:
            self._received += size
            if self._received > self.max_message_size:
                # Close with "message too big" before gevent-websocket turns
                # this error into a plain closed WebSocket; ``wait`` then
                # reports why.
                self._too_large = True
                self.close(_MESSAGE_TOO_BIG)
                raise ContentTooLongError('websocket message too large')
            return read(size)  # type: ignore[no-any-return]

        ws.raw_read = bounded_read

    def send(self, frame: str | bytes) -> None:
        """Send one message (greenlet-safe: frames never interleave)."""
        with self._lock:
            if self.closed:
                raise ConnectionError('websocket is closed')
            self.ws.send(frame, binary=isinstance(frame, bytes))

    def wait(self) -> str | bytes | None:
        """Block until the next message; None once the WebSocket closed."""
        if self.closed:
            return None
        self._received = 0
        try:
            message = self.ws.receive()
        except (OSError, AttributeError, TypeError):
            # gevent-websocket raises these when the socket was closed
            # under a pending read (it drops its stream on close).
            message = None
        if self._too_large:
            raise ContentTooLongError('websocket message too large')
        if message is None:
            self.closed = True
            return None
        if isinstance(message, bytearray):
            # gevent-websocket returns binary messages as bytearray.
            return bytes(message)
        return message  # type: ignore[no-any-return]

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            # gevent-websocket's close() ignores the status code; send the
            # close frame here (RFC 6455 5.5.1: the code comes first) and
            # mark its object closed so that it sends no second one.
            try:
                self.ws.send_frame(code.to_bytes(2, 'big'),
                                   self.ws.OPCODE_CLOSE)
            except (OSError, AttributeError):
                pass
            self.ws.closed = True
        # A greenlet may be blocked reading this WebSocket: shutting the
        # socket down makes that read end now rather than when the peer
        # answers the close frame.
        sock = getattr(getattr(self.ws, 'handler', None), 'socket', None)
        if sock is not None:
            try:
                sock.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass

    def finish_request(self) -> list[bytes]:
        """gevent-websocket's handler ignores the response of a WebSocket
        request and closes the connection itself."""
        return []
