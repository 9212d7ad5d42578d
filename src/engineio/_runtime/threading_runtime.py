"""The ``threading`` async mode: standard threads."""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ..adapters.wsgi_websocket import RawSocketWebSocket, raw_socket
from .pool import WorkerPool

name = 'threading'
Event = threading.Event
Lock = threading.Lock
Queue = queue.Queue
QueueEmpty = queue.Empty
sleep = time.sleep


def spawn(target: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
    """Start ``target`` in a daemon thread; the result has ``join()``."""
    t = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
    t.start()
    return t


def make_pool() -> WorkerPool:
    return WorkerPool()


def websocket(environ: dict[str, Any], max_message_size: int,
              write_timeout: float,
              compression: int | None = None) -> RawSocketWebSocket | None:
    """Take over the connection of a WSGI request for a WebSocket, or None
    when the WSGI server does not expose its socket."""
    sock = raw_socket(environ)
    if sock is None:
        return None
    return RawSocketWebSocket(sock, environ, Lock(), max_message_size,
                              write_timeout, compression)


def socket_is_green() -> bool:
    """Blocking libraries (redis) cooperate with this runtime as they are."""
    return True
