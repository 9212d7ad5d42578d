"""The aiohttp adapter: routes on an ``aiohttp.web.Application`` and the
translation of aiohttp requests, responses and WebSockets for
:class:`~engineio.AsyncServer`."""
from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from ..exceptions import ContentTooLongError
from ..sansio.models import Request, Response
from .asgi import (
    MESSAGE_TOO_BIG,
    LazyEnvironExchange,
    header_lookup,
    make_environ,
    refuse_oversized,
)
from .wsgi import build_request

try:
    from aiohttp import WSMsgType, web
except ImportError:  # the mode is unavailable; require() says so
    web = None  # type: ignore[assignment]


def require() -> None:
    """Raise :class:`ImportError` when aiohttp is not installed."""
    if web is None:
        raise ImportError('aiohttp is not installed')


def attach(server: Any, app: Any, engineio_path: str) -> None:
    """Route every method of ``engineio_path`` to the server (the core
    answers the methods the protocol does not use, as on other servers)."""
    app.router.add_route('*', engineio_path, server.handle_request)


class AiohttpWebSocket:
    """An aiohttp WebSocket with the interface the driver uses."""

    def __init__(self, ws: Any, max_size: int) -> None:
        self.ws = ws
        self.max_size = max_size

    def send(self, frame: str | bytes) -> Coroutine[Any, Any, None]:
        """Send one message (awaitable).

        aiohttp's own coroutine is handed back, not wrapped in another:
        this runs for every message, and a coroutine less is an allocation
        less.  aiohttp reports a closed connection as a
        ``ConnectionResetError`` (``ClientConnectionResetError``), an
        ``OSError`` the driver handles like any failed write.
        """
        if type(frame) is str:
            return self.ws.send_str(frame)  # type: ignore[no-any-return]
        return self.ws.send_bytes(frame)  # type: ignore[no-any-return]

    async def wait(self) -> str | bytes | None:
        """The next message; None once the WebSocket is closed."""
        msg = await self.ws.receive()
        kind = msg.type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            frame: str | bytes = msg.data
            if len(frame) * 4 > self.max_size:
                await refuse_oversized(self, frame)
            return frame
        if kind is WSMsgType.ERROR and \
                getattr(msg.data, 'code', None) == MESSAGE_TOO_BIG:
            raise ContentTooLongError('websocket message too large')
        return None

    async def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent)."""
        try:
            await self.ws.close(code=code)
        except Exception:  # the connection is gone already: nothing to do
            pass


class AiohttpBody:
    """``environ['wsgi.input']``: reads the body of an aiohttp request."""

    def __init__(self, request: Any) -> None:
        self._content = request.content

    async def read(self, length: int = -1) -> bytes:
        """Return up to ``length`` bytes of the body (all for ``-1``)."""
        if length < 0:
            return bytes(await self._content.read())
        chunks = []
        size = 0
        while size < length:
            chunk = await self._content.read(length - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b''.join(chunks)


class AiohttpExchange(LazyEnvironExchange):
    """One aiohttp request as :class:`~engineio.AsyncServer` sees it.

    As with ASGI, the core's :class:`Request` comes straight from aiohttp's
    headers and the WSGI-style environ is built only when read.
    """

    __slots__ = ('_ws', 'native')

    def __init__(self, request: Any) -> None:
        self.native = request
        self._ws: Any = None
        self._init_environ()
        self.request: Request = build_request(
            request.method, request.query_string,
            header_lookup(request.headers.getall), request.scheme,
            native_factory=self._make_environ)

    def _build_environ(self) -> dict[str, Any]:
        request = self.native
        transport = request.transport
        server = transport.get_extra_info('sockname') if transport else None
        client = transport.get_extra_info('peername') if transport else None
        return make_environ(
            request.method, request.path, request.query_string,
            request.headers.items(), request.scheme,
            server if isinstance(server, tuple) else None,
            client if isinstance(client, tuple) else None,
            {'aiohttp.request': request, 'wsgi.input': self.body_input()})

    def _hook_extra(self) -> tuple[str, Any]:
        return 'aiohttp.request', self.native

    def _make_body(self) -> AiohttpBody:
        return AiohttpBody(self.native)

    async def respond(self, response: Response) -> Any:
        """The aiohttp response for a core response."""
        if self._ws is not None:  # refused after the upgrade: just close
            await self._ws.close()
            return self._ws
        return web.Response(body=response.body, status=response.status,
                            headers=response.headers)

    async def accept_websocket(self, max_size: int,
                               compression: int | None = None
                               ) -> AiohttpWebSocket:
        """Complete the WebSocket handshake of this request."""
        # compress=True negotiates permessage-deflate when the client offers
        # it; aiohttp then compresses every message (a per-message argument
        # can only turn compression on, so the threshold cannot apply), and
        # serializes compressed writes itself.  aiohttp refuses a message of
        # exactly max_msg_size, one byte more lets the limit itself through
        # (refuse_oversized does the rest).
        ws = web.WebSocketResponse(max_msg_size=max_size + 1,
                                   compress=compression is not None)
        await ws.prepare(self.native)
        self._ws = ws
        return AiohttpWebSocket(ws, max_size)

    async def finish_websocket(self) -> Any:
        """aiohttp wants the WebSocketResponse back from the handler."""
        return self._ws


def translate_request(request: Any) -> AiohttpExchange:
    """Wrap an aiohttp request for the driver."""
    return AiohttpExchange(request)
