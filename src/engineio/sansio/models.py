"""Plain request and response models exchanged between adapters and the core."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Headers = list[tuple[str, str]]


@dataclass(slots=True)
class Request:
    """What the core needs to know about an incoming HTTP request.

    Adapters fill it from their native request; ``native`` carries the
    framework's own object (the WSGI environ, the ASGI scope...) through to
    the application's ``connect`` handler untouched.
    """

    method: str
    query: Mapping[str, str]
    #: ``Origin`` header, if any.
    origin: str | None = None
    #: Scheme and ``Host`` of the URL the client connected to, for the
    #: same-origin check.
    scheme: str = 'http'
    host: str | None = None
    accept_encoding: str = ''
    #: True when the request asks for a WebSocket upgrade.
    websocket: bool = False
    #: ``Access-Control-Request-Headers`` of a preflight request.
    access_control_request_headers: str | None = None
    content_length: int | None = None
    native: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


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
