"""What the client core asks of a driver: a closed set of small commands.

The core's programs (:meth:`ClientCore.connecting`, ``reading``,
``writing``, ``dispatching`` and ``disconnecting``) are generators that
yield these values; a driver carries each one out with its own libraries
and sends the result back into the program (``None`` where the command
has no result).  Every protocol decision lives in the programs, so the
blocking and the asyncio client execute the same commands the same way
and decide nothing.

I/O commands resume with their result, or with a :class:`Failure` that
says what went wrong: drivers translate their libraries' exceptions into
it and never raise.
"""
from __future__ import annotations

import enum
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from ..packet import Frame
from .events import Disconnected, MessageReceived

T = TypeVar('T')

ClientEvent = MessageReceived | Disconnected


@dataclass(frozen=True, slots=True)
class Failure:
    """The result of an I/O command that did not complete."""

    #: What went wrong, in the words of the driver's library.
    error: str
    #: The time allowed for it ran out.
    timed_out: bool = False
    #: A refused WebSocket handshake: the HTTP status the server answered,
    #: and its body when the library kept it.
    status: int | None = None
    body: bytes | str | None = None


@dataclass(frozen=True, slots=True)
class HttpReply:
    """The result of an :class:`HttpRequest` the server answered."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# -- I/O -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HttpRequest:
    """Send an HTTP request with the application's headers; resume with an
    :class:`HttpReply` or a :class:`Failure` (``timed_out`` when no answer
    came within ``timeout``)."""

    method: str
    url: str
    body: str | None = None
    #: The ``Content-Type`` header, when there is a body.
    content_type: str | None = None
    #: Seconds to wait for the answer; None for the client's
    #: ``request_timeout``.
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class OpenWebSocket:
    """Open a WebSocket (within ``request_timeout``, with the application's
    headers); resume with the driver's WebSocket object, opaque to the
    core, or a :class:`Failure`."""

    url: str


@dataclass(frozen=True, slots=True)
class SendFrames:
    """Write each frame on the WebSocket as one message (``str`` as text,
    ``bytes`` as binary); resume with None or a :class:`Failure`."""

    ws: Any
    frames: list[Frame]


@dataclass(frozen=True, slots=True)
class ReceiveFrame:
    """Wait for the next message on the WebSocket; resume with it (``str``
    or ``bytes``), None when the WebSocket closed, or a :class:`Failure`
    (``timed_out`` when nothing came within ``timeout``)."""

    ws: Any
    #: Seconds; None for the client's ``request_timeout``.
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class CloseWebSocket:
    """Close the WebSocket and release its socket, which also ends a read
    or write blocked on it; never fails.  ``graceful``: a deliberate close,
    so send a close frame first (a driver whose close always sends one may
    ignore it)."""

    ws: Any
    graceful: bool = False


# -- the driver's own work ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class Log:
    """Write a line to the client's logger (``level`` from :mod:`logging`)."""

    level: int
    message: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class RunHandler:
    """Run the application's handler for ``event`` (none registered: do
    nothing); resume with None, or with the exception it raised when
    ``fatal`` (otherwise the driver logs it).

    ``queued``: the dispatcher runs it, so a handler that waits on the
    client's ``create_event()``, ``create_queue()`` or ``sleep()`` hands
    the next events to a new dispatcher first.
    """

    event: str
    args: tuple[Any, ...] = ()
    queued: bool = False
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class Deliver:
    """Queue events, in order, for the dispatcher (:class:`NextEvent`)."""

    events: list[ClientEvent]


@dataclass(frozen=True, slots=True)
class NextEvent:
    """Wait for the next queued event; resume with it, or with None when
    this dispatcher is done (another one took over, or
    :class:`StopDispatcher`)."""


@dataclass(frozen=True, slots=True)
class StopDispatcher:
    """End the dispatcher after its current handler: events still queued
    are not dispatched."""


@dataclass(frozen=True, slots=True)
class WakeWriter:
    """The core may have output: wake the writer (:class:`AwaitOutput`)."""


@dataclass(frozen=True, slots=True)
class AwaitOutput:
    """The writer has nothing to write: wait until woken."""


class Loop(enum.Enum):
    """The loops :class:`Join` waits for."""

    READER = 'reader'
    WRITER = 'writer'


@dataclass(frozen=True, slots=True)
class StartLoops:
    """Start the connection's dispatcher, writer and reader, each running
    its program (``dispatching()``, ``writing()``, ``reading()``)."""


@dataclass(frozen=True, slots=True)
class Join:
    """Wait (at most ``request_timeout``) for a loop to end, unless it is
    the one running this program."""

    loop: Loop


@dataclass(frozen=True, slots=True)
class AwaitEnd:
    """Wait (at most ``request_timeout``) until the connection's end has
    been dispatched, unless called from one of its own loops."""


@dataclass(frozen=True, slots=True)
class Connected:
    """The handshake succeeded: the client counts as connected (it is
    disconnected on SIGINT, for one)."""


@dataclass(frozen=True, slots=True)
class Ended:
    """The connection is over and its end was dispatched: release what the
    driver holds for it and wake whoever waits for the end."""


Command = (HttpRequest | OpenWebSocket | SendFrames | ReceiveFrame
           | CloseWebSocket | Log | RunHandler | Deliver | NextEvent
           | StopDispatcher | WakeWriter | AwaitOutput | StartLoops | Join
           | AwaitEnd | Connected | Ended)

#: A program of the core: it yields commands, is resumed with their
#: results, and returns a ``T``.
Program = Generator[Command, Any, T]
