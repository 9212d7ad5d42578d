"""Plain request and response models exchanged between adapters and the core."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

Headers = list[tuple[str, str]]


class WebSocketOpening(NamedTuple):
    """The headers of a WebSocket opening request (RFC 6455 section 4.2.1)
    beyond ``Upgrade``, as the client sent them (None: absent)."""

    connection: str | None
    key: str | None
    version: str | None


class Request:
    """What the core needs to know about an incoming HTTP request.

    Adapters fill it from their native request; ``native`` carries the
    framework's own object (the WSGI environ, the ASGI scope...) through to
    the application's ``connect`` handler untouched.  An adapter whose
    native object is costly to build gives ``native_factory`` instead: it is
    called the first time ``native`` is read, as most requests never need
    it.
    """

    __slots__ = ('_extra', '_native', 'accept_encoding',
                 'access_control_request_headers', 'content_length', 'host',
                 'method', 'native_factory', 'origin', 'query', 'scheme',
                 'websocket', 'websocket_opening')

    def __init__(self, method: str, query: Mapping[str, str],
                 origin: str | None = None, scheme: str = 'http',
                 host: str | None = None, accept_encoding: str = '',
                 websocket: bool = False,
                 access_control_request_headers: str | None = None,
                 content_length: int | None = None, native: Any = None,
                 extra: dict[str, Any] | None = None,
                 native_factory: Callable[[], Any] | None = None,
                 websocket_opening: WebSocketOpening | None = None) -> None:
        self.method = method
        self.query = query
        #: ``Origin`` header, if any.
        self.origin = origin
        #: Scheme and ``Host`` of the URL the client connected to, for the
        #: same-origin check.
        self.scheme = scheme
        self.host = host
        self.accept_encoding = accept_encoding
        #: True when the request asks for a WebSocket upgrade.
        self.websocket = websocket
        #: ``Access-Control-Request-Headers`` of a preflight request.
        self.access_control_request_headers = access_control_request_headers
        self.content_length = content_length
        #: The opening headers of an upgrade request whose WebSocket
        #: handshake is still to be answered, which the core checks before
        #: the request gets a session; None when there is nothing to check
        #: (no upgrade, or the web server already answered the handshake:
        #: an ASGI ``websocket`` scope, gevent-websocket's handler).
        self.websocket_opening = websocket_opening
        self._native = native
        self.native_factory = native_factory
        self._extra = extra

    @property
    def native(self) -> Any:
        native = self._native
        if native is None and self.native_factory is not None:
            native = self._native = self.native_factory()
            self.native_factory = None
        return native

    @native.setter
    def native(self, value: Any) -> None:
        self._native = value
        self.native_factory = None

    @property
    def extra(self) -> dict[str, Any]:
        """Free-form data an adapter or driver attaches to the request."""
        if self._extra is None:
            self._extra = {}
        return self._extra

    def _fields(self) -> tuple[Any, ...]:
        return (self.method, self.query, self.origin, self.scheme, self.host,
                self.accept_encoding, self.websocket,
                self.access_control_request_headers, self.content_length,
                self.websocket_opening, self.native, self.extra)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f'Request(method={self.method!r}, query={self.query!r}, '
                f'origin={self.origin!r}, scheme={self.scheme!r}, '
                f'host={self.host!r}, websocket={self.websocket!r}, '
                f'content_length={self.content_length!r})')


class Response(NamedTuple):
    """A complete HTTP response decided by the core."""

    status: int
    headers: Headers
    body: bytes


STATUS_TEXT = {
    101: 'Switching Protocols',
    200: 'OK',
    204: 'No Content',
    304: 'Not Modified',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    413: 'Payload Too Large',
    500: 'Internal Server Error',
}


def status_line(status: int) -> str:
    """``200`` -> ``'200 OK'``, as WSGI wants it."""
    return f'{status} {STATUS_TEXT.get(status, "Unknown")}'
