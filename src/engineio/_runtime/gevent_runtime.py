"""The ``gevent`` async mode: gevent greenlets.

For gevent's ``pywsgi.WSGIServer`` (with or without gevent-websocket's
``WebSocketHandler``) and gunicorn's gevent workers.  WebSocket comes from
gevent-websocket when its handler put ``wsgi.websocket`` in the environ, and
otherwise from the request's raw (green) socket, as in the threading mode;
either way the frames are read and written by the ``websockets`` package's
sans-I/O protocol (which also answers the raw socket's handshake).  Every
primitive is gevent's own, so the server works without monkey patching.
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

from ..adapters.wsgi_websocket import FramedWebSocket, RawSocketWebSocket, raw_socket
from .green import SpawnPool

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


class Signal:
    """An event that resets when its one waiter wakes."""

    __slots__ = ('_event', 'set')

    def __init__(self) -> None:
        self._event = gevent.event.Event()
        self.set = self._event.set

    def wait(self) -> None:
        self._event.wait()
        self._event.clear()


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


class GeventWebSocket(FramedWebSocket):
    """A WebSocket that gevent-websocket's handler accepted, behind the
    interface the server uses (``send``, ``wait``, ``close``,
    ``finish_request``).

    gevent-websocket answered the handshake; the frames are read and
    written here, on its handler's connection, by websockets' sans-I/O
    protocol (see :class:`.FramedWebSocket`): gevent-websocket's own reader
    validates UTF-8 and unmasks in pure Python, which cost more than the
    rest of the server per message, and it has no message size limit.
    """

    def __init__(self, ws: Any, lock: Any, max_message_size: int) -> None:
        self.ws = ws
        self.max_message_size = max_message_size
        self._start_framing(lock, max_message_size)
        handler = ws.handler
        # The buffered reader of the request: read1 returns what is
        # buffered or what one read of the socket brings, never waiting
        # for more.  (A reader without read1 has nothing buffered: the
        # client sends no frame before the handshake's answer.)
        read1 = getattr(handler.rfile, 'read1', None)
        self._recv = read1 if read1 is not None else handler.socket.recv  # type: ignore[method-assign]
        self._sendall = handler.socket.sendall  # type: ignore[method-assign]
        self._socket = handler.socket

    def _hang_up(self) -> None:
        # gevent-websocket must not send a second close frame when the
        # application returns.
        self.ws.closed = True
        # A greenlet may be blocked reading this WebSocket: shutting the
        # socket down makes that read end now rather than when the peer
        # answers the close frame.
        try:
            self._socket.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass

    def wait(self) -> str | bytes | None:
        """Block until the next message; None once the WebSocket closed."""
        try:
            message = FramedWebSocket.wait(self)
        except ValueError:
            # A read on the handler's reader after it was closed.
            message = None
        if message is None:
            self.closed = True
            # Whoever closed (the peer, answered by wait(), or the socket),
            # gevent-websocket must not write its own close frame later.
            self.ws.closed = True
        return message

    def finish_request(self) -> list[bytes]:
        """gevent-websocket's handler ignores the response of a WebSocket
        request and closes the connection itself."""
        return []


def socket_is_green() -> bool:
    """Whether blocking libraries (redis) cooperate with gevent: only once
    the socket module is monkey patched."""
    import gevent.monkey
    return bool(gevent.monkey.is_module_patched('socket'))
