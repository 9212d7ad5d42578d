"""The ``eventlet`` async mode: eventlet green threads.

For ``eventlet.wsgi.server`` and gunicorn's eventlet worker.  Every primitive
is eventlet's own, so the server works without monkey patching; an
application that calls blocking libraries still needs
``eventlet.monkey_patch()`` for them.
"""
# Green-thread libraries and uwsgi ship no type information (or are absent).
# mypy: disable-error-code="import-untyped,import-not-found"
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventlet
import eventlet.greenthread
import eventlet.lock
import eventlet.queue

# The green copy of the threading module: its Event has the threading API
# the server relies on (``wait(timeout)`` returning a bool, ``clear()``),
# built on green locks, which eventlet.event.Event (one-shot) does not.
from eventlet.green import threading as _green_threading

from .green import SpawnPool
from .wsgi_websocket import RawSocketWebSocket, raw_socket

name = 'eventlet'
Event = _green_threading.Event
Lock = eventlet.lock.Lock
Queue = eventlet.queue.Queue
QueueEmpty = eventlet.queue.Empty
sleep = eventlet.sleep


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


def websocket(environ: dict[str, Any], max_message_size: int,
              write_timeout: float,
              compression: int | None = None) -> RawSocketWebSocket | None:
    """Take over the green socket of a WSGI request for a WebSocket, or
    None when the WSGI server does not expose its socket."""
    sock = raw_socket(environ)
    if sock is None:
        return None
    ws = RawSocketWebSocket(sock, environ, Lock(), max_message_size,
                            write_timeout, compression)
    set_idle = environ.get('eventlet.set_idle')
    if set_idle is not None:
        # eventlet.wsgi counts the connection as busy until told otherwise;
        # a graceful stop would otherwise wait for the WebSocket to end.
        set_idle()
    return ws
