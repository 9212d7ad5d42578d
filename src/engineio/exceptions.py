"""Exceptions raised by the Engine.IO server and client.

All of them derive from :class:`EngineIOError`, so an application can catch
every error this package raises with a single ``except`` clause.
"""


class EngineIOError(Exception):
    """Base class of every exception raised by this package."""


class ContentTooLongError(EngineIOError):
    """A message or payload is larger than the configured maximum size."""




class QueueEmpty(EngineIOError):
    """A queue had nothing to return before its timeout."""


class SocketIsClosedError(EngineIOError):
    """An operation was attempted on a session that is already closed."""


class ConnectionError(EngineIOError):
    """A client could not connect, or lost its connection to the server."""


class ProtocolError(EngineIOError):
    """Input that violates the Engine.IO protocol (bad packet or payload)."""


class UnknownPacketError(ProtocolError):
    """A packet has a type that the protocol does not define."""


__all__ = [
    'ConnectionError',
    'ContentTooLongError',
    'EngineIOError',
    'ProtocolError',
    'QueueEmpty',
    'SocketIsClosedError',
    'UnknownPacketError',
]
