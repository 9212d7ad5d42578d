"""The per-session object of the asyncio server (``eio.sockets`` values).

It is the core's :class:`~engineio.sansio.session.Session` plus what the
driver needs to move bytes: the poll waiter, the WebSocket, the messages
waiting for the application's handler.  Its hook methods are coroutines with
the names python-socketio's async admin instrumentation wraps.
"""
from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from .sansio.models import Response
from .sansio.session import PING_FRAME, Heartbeat
from .socket import DriverSession


class AsyncSocket(DriverSession):
    """An Engine.IO session of an :class:`~engineio.AsyncServer`."""

    __slots__ = ('chain', 'reader')

    def __init__(self, sid: str, transport: str, heartbeat: Heartbeat,
                 now: float, server: Any = None) -> None:
        super().__init__(sid, transport, heartbeat, now, server)
        #: The task running this session's handlers (a strong reference:
        #: the event loop keeps only weak ones).
        self.chain: asyncio.Task[None] | None = None
        #: The task reading this session's WebSocket when it is not the web
        #: server's own (a handler that suspended kept that one).
        self.reader: asyncio.Task[None] | None = None

    # A pending long-poll waits on a future of its own (in ``_event``): less
    # work per poll than an asyncio.Event, whose wait() makes one anyway.
    async def wait_poll(self) -> None:
        """Wait until :meth:`wake_poll` is called."""
        waiter = self._event = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._event = None

    def wake_poll(self) -> None:
        waiter = self._event
        if waiter is not None and self.poll_active and not waiter.done():
            waiter.set_result(None)

    # Hooks: python-socketio's admin instrumentation wraps these by name.
    async def handle_get_request(self, environ: dict[str, Any]) -> Response:
        """Answer a long-polling GET (waits until there is output)."""
        return await self.server._handle_get(self, environ)  # type: ignore[no-any-return]

    async def handle_post_request(self, environ: dict[str, Any]) -> Response:
        """Consume a long-polling POST."""
        return await self.server._handle_post(self, environ)  # type: ignore[no-any-return]

    # A plain function returning the driver's coroutine (wrappers await it
    # alike): no coroutine frame of its own stays suspended for the whole
    # life of every WebSocket session.
    def _websocket_handler(self, ws: Any) -> Coroutine[Any, Any, None]:
        """Run this session's WebSocket until it ends."""
        return self.server._run_websocket(self, ws)  # type: ignore[no-any-return]

    async def _send_ping(self) -> None:
        """Deliver the ping the heartbeat just queued."""
        if self.direct:
            await self.server._ws_write(self, PING_FRAME)
        else:
            self.wake_poll()
