"""A TLS socket that one thread can read while another writes.

The blocking client reads its WebSocket on one thread and writes it on
another.  With a plain TCP socket that is safe; with an ``ssl.SSLSocket`` it
is not: OpenSSL does not allow ``SSL_read`` and ``SSL_write`` on one
connection at the same time, and CPython before 3.13 does not prevent it
(the calls release the GIL).  Under load a few sessions in a hundred ended
with "Connection to remote host was lost" (an ``SSL_read`` that saw the
writer's state reported end of stream, or the peer got a broken record).

:class:`SerializedTLSSocket` runs every TLS call under one lock.  The
socket itself is made non-blocking, so no thread ever waits for the network
while holding the lock: a reader waiting for the server's next frame must
not keep the writer from sending the message that frame answers.
"""
from __future__ import annotations

import select
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar('T')

_READ = 1
_WRITE = 2


class SerializedTLSSocket:
    """Wraps a connected ``ssl.SSLSocket`` for use by a reader thread and a
    writer thread at once.

    It offers what ``websocket-client`` calls on its socket: ``recv``,
    ``send``, ``sendall``, ``settimeout``/``gettimeout`` (kept here: the
    timeout bounds the waits this class does) and anything else by
    delegation.
    """

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._timeout: float | None = sock.gettimeout()
        sock.settimeout(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def gettimeout(self) -> float | None:
        return self._timeout

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def fileno(self) -> int:
        return self._sock.fileno()

    def pending(self) -> int:
        with self._lock:
            return self._sock.pending()

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        return self._call(self._sock.recv, bufsize, flags)

    def send(self, data: bytes, flags: int = 0) -> int:
        return self._call(self._sock.send, data, flags)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send(view, flags):]  # type: ignore[arg-type]

    def _call(self, call: Callable[..., T], *args: Any) -> T:
        timeout = self._timeout
        if timeout == 0:
            with self._lock:
                return call(*args)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                try:
                    return call(*args)
                except ssl.SSLWantReadError:
                    want = _READ
                except ssl.SSLWantWriteError:
                    want = _WRITE
            left = None if deadline is None \
                else max(0.0, deadline - time.monotonic())
            if not _wait(self._sock.fileno(), want, left):
                raise TimeoutError('timed out')


def _wait(fd: int, want: int, timeout: float | None) -> bool:
    """Wait until ``fd`` is readable or writable; False on timeout."""
    if fd < 0:
        raise OSError('socket is closed')
    # select.poll is gone under gevent's and eventlet's monkey patching,
    # and select.select cannot watch descriptors past FD_SETSIZE.
    poll = getattr(select, 'poll', None)
    if poll is not None:
        poller = poll()
        poller.register(fd, select.POLLIN if want == _READ
                        else select.POLLOUT)
        return bool(poller.poll(None if timeout is None
                                else int(timeout * 1000) + 1))
    r, w, _ = select.select([fd] if want == _READ else [],
                            [fd] if want == _WRITE else [], [], timeout)
    return bool(r or w)


def serialize_tls(sock: Any) -> Any:
    """``sock`` wrapped in :class:`SerializedTLSSocket` if it is the
    standard library's TLS socket, else ``sock`` itself.

    The exact class is checked by name: gevent's and eventlet's TLS sockets
    (which monkey patching may have put in ``ssl.SSLSocket``'s place) run
    their calls on one OS thread, where they cannot overlap.
    """
    cls = type(sock)
    if cls.__module__ == 'ssl' and cls.__name__ == 'SSLSocket':
        return SerializedTLSSocket(sock)
    return sock


__all__ = ['SerializedTLSSocket', 'serialize_tls']
