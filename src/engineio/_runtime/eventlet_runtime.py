"""The ``eventlet`` async mode: eventlet green threads.

For ``eventlet.wsgi.server`` and gunicorn's eventlet worker.  Every primitive
is eventlet's own, so the server works without monkey patching; an
application that calls blocking libraries still needs
``eventlet.monkey_patch()`` for them.
"""
# Green-thread libraries and uwsgi ship no type information (or are absent).
# mypy: disable-error-code="import-untyped,import-not-found"
from __future__ import annotations

import socket as _socket
from collections.abc import Callable
from typing import Any

import eventlet
import eventlet.event
import eventlet.greenio
import eventlet.greenthread
import eventlet.hubs
import eventlet.lock
import eventlet.queue

# The green copy of the threading module: its Event has the threading API
# the server relies on (``wait(timeout)`` returning a bool, ``clear()``),
# built on green locks, which eventlet.event.Event (one-shot) does not.
from eventlet.green import threading as _green_threading

from ..adapters.wsgi_websocket import RawSocketWebSocket, raw_socket
from .green import SpawnPool

name = 'eventlet'
Event = _green_threading.Event
Lock = eventlet.lock.Lock
Queue = eventlet.queue.Queue
QueueEmpty = eventlet.queue.Empty
sleep = eventlet.sleep


class Signal:
    """An event that resets when its one waiter wakes.

    eventlet's one-shot Event, re-armed by its waiter: the green
    ``threading.Event`` costs several times more per wake-up.
    """

    __slots__ = ('_event',)

    def __init__(self) -> None:
        self._event = eventlet.event.Event()

    def set(self) -> None:
        if not self._event.ready():
            self._event.send()

    def wait(self) -> None:
        self._event.wait()
        self._event.reset()


class GreenTask:
    """A started green thread with the ``join()`` of ``threading.Thread``
    (eventlet's own handle only has ``wait()``, which re-raises)."""

    def __init__(self, greenthread: eventlet.greenthread.GreenThread) -> None:
        self.greenthread = greenthread

    def join(self, timeout: float | None = None) -> None:
        """Wait until the task ends, for at most ``timeout`` seconds."""
        # A silent Timeout (second argument False) just leaves the block.
        with eventlet.Timeout(timeout, False):
            try:
                self.greenthread.wait()
            except Exception:
                # The task's own failure is not the joiner's, as with threads.
                pass


def spawn(target: Callable[..., Any], *args: Any, **kwargs: Any) -> GreenTask:
    """Start ``target`` in a green thread; the result has ``join()``."""
    return GreenTask(eventlet.spawn(target, *args, **kwargs))


def make_pool() -> SpawnPool:
    # Handler jobs are never joined: spawn_n skips the GreenThread result.
    return SpawnPool(eventlet.spawn_n)


class EventletWebSocket(RawSocketWebSocket):
    """The raw-socket WebSocket, reading a plain green socket without its
    timeout.

    The socket's timeout is the write timeout; on reads it costs eventlet a
    timer per blocked read, and the reader needs no deadline of its own
    while the session lives (the heartbeat ends a silent session).  Once
    closed, a reader still blocked on a peer that never answers the close
    frame is released after the write timeout.
    """

    def __init__(self, sock: Any, environ: dict[str, Any], lock: Any,
                 max_message_size: int, write_timeout: float,
                 compression: int | None = None) -> None:
        super().__init__(sock, environ, lock, max_message_size,
                         write_timeout, compression)
        self._write_timeout = write_timeout
        fd = sock.fd  # the real socket, non-blocking
        recv = fd.recv
        trampoline = eventlet.hubs.trampoline

        def untimed_recv(size: int) -> bytes:
            while True:
                try:
                    return recv(size)  # type: ignore[no-any-return]
                except BlockingIOError:
                    trampoline(fd, read=True)

        self._recv = untimed_recv  # type: ignore[method-assign]

    def _hang_up(self) -> None:
        super()._hang_up()
        eventlet.spawn_after(self._write_timeout, self._release_reader)

    def _release_reader(self) -> None:
        # The socket object knows when it was closed, so this never touches
        # a descriptor number reused by another connection.
        try:
            self.sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass


def websocket(environ: dict[str, Any], max_message_size: int,
              write_timeout: float,
              compression: int | None = None) -> RawSocketWebSocket | None:
    """Take over the green socket of a WSGI request for a WebSocket, or
    None when the WSGI server does not expose its socket."""
    sock = raw_socket(environ)
    if sock is None:
        return None
    # Anything else (an SSL socket) keeps the socket's own timed reads.
    factory = EventletWebSocket \
        if type(sock) is eventlet.greenio.GreenSocket else RawSocketWebSocket
    ws = factory(sock, environ, Lock(), max_message_size, write_timeout,
                 compression)
    set_idle = environ.get('eventlet.set_idle')
    if set_idle is not None:
        # eventlet.wsgi counts the connection as busy until told otherwise;
        # a graceful stop would otherwise wait for the WebSocket to end.
        set_idle()
    return ws


def socket_is_green() -> bool:
    """Whether blocking libraries (redis) cooperate with eventlet: only
    once the socket module is monkey patched."""
    import eventlet.patcher
    return bool(eventlet.patcher.is_monkey_patched('socket'))
