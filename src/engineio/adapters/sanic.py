"""The sanic adapter: routes on a ``sanic.Sanic`` application and the
translation of sanic requests, responses and WebSockets for
:class:`~engineio.AsyncServer`."""
from __future__ import annotations

import asyncio
from typing import Any

from ..sansio.models import Request, Response
from .asgi import (
    WSGI_SCHEMES,
    BodyReader,
    LazyEnvironExchange,
    header_lookup,
    make_environ,
    refuse_oversized,
)
from .wsgi import build_request

try:
    import sanic
    from sanic.compat import Header
    from sanic.response import HTTPResponse
except ImportError:  # the mode is unavailable; require() says so
    sanic = None  # type: ignore[assignment]


def require() -> None:
    """Raise :class:`ImportError` when sanic is not installed."""
    if sanic is None:
        raise ImportError('sanic is not installed')


def attach(server: Any, app: Any, engineio_path: str) -> None:
    """Route ``engineio_path`` to the server, for every method (the core
    answers the methods the protocol does not use, as on other servers).

    The route upgrades WebSocket requests itself, so the application's
    WebSocket support is switched on, and its WebSocket message limit is
    raised to ``max_http_buffer_size`` if it is lower (the driver enforces
    the exact limit).
    """
    async def engineio_handler(request: Any) -> Any:
        return await server.handle_request(request)

    # Tells sanic that a handler returning nothing answered by WebSocket.
    engineio_handler.is_websocket = True  # type: ignore[attr-defined]
    app.enable_websocket()
    limit = app.config.get('WEBSOCKET_MAX_SIZE')
    if limit is not None and limit < server.max_http_buffer_size:
        app.config.WEBSOCKET_MAX_SIZE = server.max_http_buffer_size
    app.add_route(engineio_handler, engineio_path,
                  methods=['GET', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'],
                  name='engineio_' + ''.join(
                      c if c.isalnum() else '_' for c in engineio_path))


class SanicWebSocket:
    """A sanic WebSocket with the interface the driver uses."""

    def __init__(self, ws: Any, max_size: int) -> None:
        self.ws = ws
        self.max_size = max_size
        self.closed = False

    async def send(self, frame: str | bytes) -> None:
        """Send one message."""
        if self.closed:
            raise ConnectionError('websocket is closed')
        try:
            await self.ws.send(frame)
        except OSError:
            raise
        except Exception as exc:  # sanic raises its own on a closed socket
            self.closed = True
            raise ConnectionError(str(exc)) from exc

    async def wait(self) -> str | bytes | None:
        """The next message; None once the WebSocket is closed."""
        if self.closed:
            return None
        try:
            frame = await self.ws.recv()
        except asyncio.CancelledError:
            # sanic cancels a pending recv() when the connection closes; a
            # cancellation of this task itself must go on.
            task = asyncio.current_task()
            if task is not None and getattr(task, 'cancelling', int)():
                raise
            self.closed = True
            return None
        except Exception:  # ConnectionClosed and sanic's own: closed
            self.closed = True
            return None
        if frame is None:
            self.closed = True
            return None
        if len(frame) * 4 > self.max_size:
            await refuse_oversized(self, frame)
        return frame  # type: ignore[no-any-return]

    async def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.ws.close(code)
        except Exception:  # the connection is gone already: nothing to do
            pass


class SanicExchange(LazyEnvironExchange):
    """One sanic request as :class:`~engineio.AsyncServer` sees it (the
    environ built only when read, as with ASGI)."""

    __slots__ = ('_ws', 'native', 'scheme')

    def __init__(self, request: Any) -> None:
        self.native = request
        self._ws: SanicWebSocket | None = None
        self._init_environ()
        scheme = request.scheme
        self.scheme = WSGI_SCHEMES.get(scheme, scheme)
        self.request: Request = build_request(
            request.method, request.query_string,
            header_lookup(request.headers.getall), self.scheme,
            native_factory=self._make_environ)

    def _build_environ(self) -> dict[str, Any]:
        request = self.native
        try:
            client: tuple[str, int] | None = (request.ip, int(request.port))
        except (TypeError, ValueError):
            client = None
        return make_environ(
            request.method, request.path, request.query_string,
            request.headers.items(), self.scheme, None, client,
            {'sanic.request': request, 'wsgi.input': self.body_input()})

    def _hook_extra(self) -> tuple[str, Any]:
        return 'sanic.request', self.native

    def _make_body(self) -> BodyReader:
        return BodyReader(self.native.body or b'')

    async def respond(self, response: Response) -> Any:
        """The sanic response for a core response."""
        if self._ws is not None:  # refused after the upgrade: just close
            await self._ws.close()
            return None
        return HTTPResponse(response.body, status=response.status,
                            headers=Header(response.headers),
                            content_type=None)

    async def accept_websocket(self, max_size: int,
                               compression: int | None = None
                               ) -> SanicWebSocket | None:
        """Complete the WebSocket handshake of this request.

        ``compression`` is ignored: sanic's handshake builds its websockets
        protocol without extensions, so it never negotiates permessage-deflate.
        """
        protocol = self.native.transport.get_protocol()
        handshake = getattr(protocol, 'websocket_handshake', None)
        if handshake is None:
            raise ValueError('WebSocket support is off in this sanic app')
        self._ws = SanicWebSocket(await handshake(self.native), max_size)
        return self._ws

    async def finish_websocket(self) -> None:
        """Nothing to return to sanic once the WebSocket ended."""
        if self._ws is not None:
            await self._ws.close()


def translate_request(request: Any) -> SanicExchange:
    """Wrap a sanic request for the driver."""
    return SanicExchange(request)
