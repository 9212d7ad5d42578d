"""What the core reports to a driver after it consumed some input."""
from __future__ import annotations

from typing import Any, NamedTuple


class MessageReceived(NamedTuple):
    """The peer sent a message (``str``, ``bytes``, or decoded JSON)."""
    data: Any


class Disconnected(NamedTuple):
    """The session ended; ``reason`` is one of the reason strings."""
    reason: str


class UpgradeCompleted(NamedTuple):
    """The session moved from long-polling to WebSocket."""


Event = MessageReceived | Disconnected | UpgradeCompleted


class Reason:
    """Disconnection reasons (the strings python-engineio applications see)."""

    #: Server-initiated disconnection.
    SERVER_DISCONNECT = 'server disconnect'
    #: Client-initiated disconnection.
    CLIENT_DISCONNECT = 'client disconnect'
    #: Ping timeout.
    PING_TIMEOUT = 'ping timeout'
    #: Transport close.
    TRANSPORT_CLOSE = 'transport close'
    #: Transport error.
    TRANSPORT_ERROR = 'transport error'
