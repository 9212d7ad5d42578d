"""What the server core tells a driver to do, as small typed values.

Each value answers one step of a request or of a session's life (a POST
body read, a probe frame received, a WebSocket ended, a timer due, a session
closed): the driver performs it and decides nothing.  Both server drivers
execute the same values the same way, so they cannot drift apart.
"""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, NamedTuple

from ..packet import Frame
from .events import Disconnected, MessageReceived
from .models import Response
from .session import Push

if TYPE_CHECKING:
    from .session import Session


class Opening(NamedTuple):
    """The answer to a handshake once ``connect`` has run.

    ``rejected``: answer ``response`` (401) and stop.  Else on long-polling
    answer ``response`` (the open packet, and the cookie); on WebSocket
    accept it, write ``frames`` first and run the session's frame loop.
    ``wake``: the session's first deadline is the earliest of all, so the
    driver's timer, sleeping until a later one, must be woken.
    """

    rejected: bool
    response: Response | None
    frames: list[Frame]
    wake: bool = False


class PostResult(NamedTuple):
    """What a long-polling POST did: answer ``response`` after dispatching
    ``events``; ``problem`` (when set) is logged as a warning."""

    response: Response
    events: list[MessageReceived | Disconnected | Push]
    problem: str | None


class ProbeStep(NamedTuple):
    """One frame (or the end) of an upgrade probe.

    Write ``reply`` on the probe WebSocket and wake the session's pending
    poll when it is set.  While ``done`` is False read the next frame.  Once
    done: with ``upgraded`` the session runs on this WebSocket from now on;
    without, close it (unless the session keeps it, see
    :meth:`Teardown.probe_delay`) and log ``problem`` if set.
    """

    reply: str | None
    done: bool
    upgraded: bool
    problem: str | None


class WebSocketEnd(enum.Enum):
    """How a session's frame loop ended, as the driver saw it."""

    #: The peer closed the WebSocket, or the connection ended.
    CLOSED = 'closed'
    #: A read or write failed.
    FAILED = 'failed'
    #: A message over ``max_http_buffer_size`` (the WebSocket was closed
    #: with 1009 by the adapter).
    TOO_LARGE = 'too large'


class Teardown(NamedTuple):
    """How to release a closed session's transport, in this order: write
    ``flush`` on its WebSocket, close the WebSocket, then close the probe
    WebSocket (if any) after ``probe_delay`` seconds (0: at once)."""

    flush: list[Frame]
    probe_delay: float


class Timer(enum.Enum):
    """What a due timer asks of the driver (see :class:`TimerCommand`)."""

    #: A ping was buffered for a long-polling client: wake its poll.  The
    #: only command a driver performs inside its timer loop: the rest may
    #: block or run application code, and one session must never delay
    #: another session's heartbeat.
    WAKE_POLL = 'wake poll'
    #: A ping is due on a WebSocket: write it.
    WRITE_PING = 'write ping'
    #: The upgrade took too long: close the probe WebSocket.
    PROBE_EXPIRED = 'probe expired'
    #: The session closed (``event``): release its transport, then run the
    #: ``disconnect`` handler.
    CLOSED = 'closed'


class TimerCommand(NamedTuple):
    action: Timer
    session: Session
    event: Disconnected | None = None

    @property
    def inline(self) -> bool:
        """Whether the driver performs it in its timer loop."""
        return self.action is Timer.WAKE_POLL


def describe(value: Any) -> str:
    """A frame as a log line shows it (bounded)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'
