"""The per-session object of the blocking server (``eio.sockets`` values).

It is the core's :class:`~engineio.sansio.session.Session` plus what the
driver needs to move bytes: the poll waiter, the WebSocket, the queue of
messages waiting for the application's handler.  Its hook methods are the
ones python-socketio's admin instrumentation wraps.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from .sansio.models import Response
from .sansio.session import PING_FRAME, Heartbeat, Session


class DriverSession(Session):
    """A core session plus what either server driver needs to move bytes;
    :class:`Socket` and :class:`~engineio.async_socket.AsyncSocket` add the
    hook methods, blocking or as coroutines."""

    __slots__ = (
        '_event',
        'dispatching',
        'pending',
        'server',
        'session',
        'upgrade_ws',
        'wakeup',
        'ws',
    )

    def __init__(self, sid: str, transport: str, heartbeat: Heartbeat,
                 now: float, server: Any = None) -> None:
        super().__init__(sid, transport, heartbeat, now)
        self.server = server
        #: The application's session dict (see ``Server.session()``).
        self.session: dict[str, Any] | None = None
        self.ws: Any = None
        self.upgrade_ws: Any = None
        #: Messages (and a final disconnect) waiting for the handler.
        self.pending: deque[Any] | None = None
        #: A handler of this session is running (or about to).
        self.dispatching = False
        #: Green runtimes: the signal that wakes this session's parked
        #: handler worker.
        self.wakeup: Any = None
        self._event: Any = None

    def poll_event(self) -> Any:
        """The event a pending long-poll waits on (created on first use)."""
        if self._event is None:
            self._event = self.server.create_event()
        return self._event

    def wake_poll(self) -> None:
        if self.poll_active and self._event is not None:
            self._event.set()


class Socket(DriverSession):
    """An Engine.IO session of a :class:`~engineio.Server`."""

    __slots__ = ()

    # Hooks: python-socketio's admin instrumentation wraps these by name.
    def handle_get_request(self, environ: dict[str, Any]) -> Response:
        """Answer a long-polling GET (blocks until there is output)."""
        return self.server._handle_get(self, environ)  # type: ignore[no-any-return]

    def handle_post_request(self, environ: dict[str, Any]) -> Response:
        """Consume a long-polling POST."""
        return self.server._handle_post(self, environ)  # type: ignore[no-any-return]

    def _websocket_handler(self, ws: Any) -> None:
        """Run this session's WebSocket until it ends."""
        self.server._run_websocket(self, ws)

    def _send_ping(self) -> None:
        """Deliver the ping the heartbeat just queued."""
        if self.direct:
            self.server._ws_write(self, PING_FRAME)
        else:
            self.wake_poll()
