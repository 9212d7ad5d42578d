"""What :class:`~engineio.Client` and :class:`~engineio.AsyncClient` share
that is not protocol: options, connection attributes, handler lookup, the
dispatch hand-off, and the commands both carry out the same way."""
from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from .handlers import EventHandlers
from .sansio import client_commands as cmd
from .sansio.client import ClientCore, ClientReason, Handshake, State

default_logger = logging.getLogger('engineio.client')

#: A thread or a task: what runs one of a connection's loops.
LoopT = TypeVar('LoopT')


class Connection(Generic[LoopT]):
    """What a driver holds for one connection: its core, the application's
    headers, and the threads or tasks that run its programs.

    Loops receive this object and only ever touch its core, so a loop that
    outlives its connection cannot disturb the next one.
    """

    def __init__(self, core: ClientCore, headers: dict[str, str]) -> None:
        self.core = core
        self.headers = headers
        self.reader: LoopT | None = None
        self.writer: LoopT | None = None
        #: The dispatcher that takes the next event.
        self.dispatcher: LoopT | None = None
        #: Every dispatcher this connection had (see hand_off_dispatch()).
        self.dispatchers: list[LoopT] = []

    def runs(self, current: LoopT | None) -> bool:
        """Whether ``current`` is one of this connection's loops."""
        return current is not None and (
            current in (self.reader, self.writer)
            or current in self.dispatchers)


class _Invocation:
    """One run of a handler by a dispatcher; see :func:`hand_off_dispatch`."""

    __slots__ = ('conn', 'dispatcher', 'hand_off', 'running')

    def __init__(self, conn: Any, dispatcher: Any,
                 hand_off: Callable[[], None]) -> None:
        self.conn = conn
        self.dispatcher = dispatcher
        self.running = True
        self.hand_off = hand_off


#: The handler invocation running in this thread (or asyncio task, and the
#: tasks it creates, which copy the context).
_invocation: contextvars.ContextVar[_Invocation | None] = \
    contextvars.ContextVar('engineio_client_invocation', default=None)


def hand_off_dispatch() -> None:
    """Called by the client's blocking primitives before they block: if this
    is a handler run by the connection's active dispatcher, start another
    dispatcher for the messages that follow, so the one awaited can arrive.
    """
    inv = _invocation.get()
    if inv is not None and inv.running and \
            inv.conn.dispatcher is inv.dispatcher:
        inv.hand_off()


@contextlib.contextmanager
def invocation(conn: Any, dispatcher: Any, command: cmd.RunHandler,
               hand_off: Callable[[], None]) -> Iterator[None]:
    """Run a handler queued for ``dispatcher`` as a hand-off point."""
    if not command.queued:
        yield
        return
    inv = _Invocation(conn, dispatcher, hand_off)
    token = _invocation.set(inv)
    try:
        yield
    finally:
        inv.running = False
        _invocation.reset(token)


class BaseClient(EventHandlers):
    """Options, handlers and attributes shared by both clients."""

    #: The disconnect reasons: ``CLIENT_DISCONNECT``, ``SERVER_DISCONNECT``
    #: and ``TRANSPORT_ERROR``.
    reason = ClientReason

    def __init__(self, logger: Any = False, json: Any = None,
                 request_timeout: float = 5, http_session: Any = None,
                 ssl_verify: bool = True, handle_sigint: bool = True,
                 websocket_extra_options: dict[str, Any] | None = None,
                 timestamp_requests: bool = True) -> None:
        self._setup_handlers(logger, json, default_logger)
        self.request_timeout = request_timeout
        self.http = http_session
        self.ssl_verify = ssl_verify
        self.handle_sigint = handle_sigint
        self.websocket_extra_options = websocket_extra_options or {}
        self.timestamp_requests = timestamp_requests
        self._core: ClientCore | None = None
        self._init_driver()

    def _init_driver(self) -> None:
        """What a driver sets up for itself: the drivers do not override
        ``__init__``, so the signature of the options is written once."""

    def is_asyncio_based(self) -> bool:
        return False

    def transport(self) -> str | None:
        """Return the name of the transport currently in use.

        The possible values returned by this function are ``'polling'`` and
        ``'websocket'``.
        """
        return self.current_transport

    # -- connection attributes (read from the core) ---------------------------
    @property
    def state(self) -> str:
        """``'disconnected'``, ``'connected'`` or ``'disconnecting'``.

        While a transport error is being reported to the ``disconnect``
        handler the state is still ``'connected'``; deliberate closes (by
        either side) report ``'disconnecting'``.
        """
        core = self._core
        return core.state.value if core is not None else 'disconnected'

    @state.setter
    def state(self, value: str) -> None:
        # Some applications and tests force the state; honour it when a
        # connection object exists.
        if self._core is not None:
            self._core.state = State(value)

    @property
    def sid(self) -> str | None:
        """The session id assigned by the server, while connected."""
        core = self._core
        if core is None or core.state is State.DISCONNECTED:
            return None
        return core.sid

    @property
    def current_transport(self) -> str | None:
        """The transport in use (``'polling'`` or ``'websocket'``)."""
        core = self._core
        return core.transport if core is not None else None

    @property
    def transports(self) -> list[str] | None:
        """The transports allowed by the last ``connect()`` call."""
        core = self._core
        return core.transports if core is not None else None

    @property
    def upgrades(self) -> list[str]:
        """The upgrades the server offered in its handshake."""
        handshake = self._handshake()
        return list(handshake.upgrades) if handshake else []

    @property
    def ping_interval(self) -> float | None:
        """The server's ping interval, in seconds."""
        handshake = self._handshake()
        return handshake.ping_interval if handshake else None

    @property
    def ping_timeout(self) -> float | None:
        """The server's ping timeout, in seconds."""
        handshake = self._handshake()
        return handshake.ping_timeout if handshake else None

    def _handshake(self) -> Handshake | None:
        return self._core.handshake if self._core is not None else None

    # -- helpers of the drivers -----------------------------------------------
    def _new_core(self, url: str, transports: Any,
                  engineio_path: str) -> ClientCore:
        if self.state != 'disconnected':
            raise ValueError('Client is not in a disconnected state')
        return ClientCore(url, transports, engineio_path,
                          self.timestamp_requests, clock=time.monotonic,
                          wall_clock=time.time)

    def _timeout(self, timeout: float | None) -> float:
        return self.request_timeout if timeout is None else timeout

    @staticmethod
    def _headers(conn: Connection[Any],
                 content_type: str | None) -> dict[str, str]:
        headers = conn.headers
        if content_type is None:
            return headers
        return {**headers, 'Content-Type': content_type}

    def _handler(self, command: cmd.RunHandler
                 ) -> tuple[Callable[..., Any] | None, tuple[Any, ...]]:
        """The handler a command runs, and its arguments (a disconnect
        handler written without the reason parameter gets none)."""
        args = command.args
        if command.event == 'disconnect' and \
                not self._disconnect_takes_reason:
            args = ()
        return self.handlers.get(command.event), args

    def _handler_failed(self, command: cmd.RunHandler,
                        exc: Exception) -> Exception | None:
        """Called in the ``except`` clause around a handler."""
        if command.fatal:
            return exc
        self.logger.exception('%s handler error', command.event)
        return None

    def _perform(self, conn: Any, command: cmd.Command) -> None:
        """Carry out a command that neither blocks nor differs between the
        drivers."""
        match command:
            case cmd.Deliver(events=events):
                for event in events:
                    conn.events.put_nowait(event)
            case cmd.WakeWriter():
                conn.wake.set()
            case cmd.Log(level=level, message=message, args=args):
                self.logger.log(level, message, *args)
            case cmd.StopDispatcher():
                conn.events.put_nowait(None)
            case _:  # pragma: no cover - a command no driver carries out
                raise TypeError(f'unexpected command {command!r}')
