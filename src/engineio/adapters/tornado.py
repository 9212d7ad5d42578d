"""The tornado adapter: :func:`get_tornado_handler` and the translation of
tornado requests, responses and WebSockets for :class:`~engineio.AsyncServer`.

Importing this module never fails: without tornado installed,
:func:`get_tornado_handler` returns None.
"""
from __future__ import annotations

import asyncio
from typing import Any

from ..sansio.models import STATUS_TEXT, Request, Response
from .asgi import (
    BodyReader,
    LazyEnvironExchange,
    header_lookup,
    make_environ,
    refuse_oversized,
)
from .wsgi import build_request

try:
    import tornado.web
    import tornado.websocket
except ImportError:  # the mode is unavailable; require() says so
    tornado = None  # type: ignore[assignment]

_CLOSED = object()


def require() -> None:
    """Raise :class:`ImportError` when tornado is not installed."""
    if tornado is None:
        raise ImportError('tornado is not installed')


class TornadoWebSocket:
    """A tornado WebSocket with the interface the driver uses.

    Tornado pushes messages into ``on_message``; they wait in a queue for
    the driver's ``wait()``.
    """

    def __init__(self, handler: Any, max_size: int) -> None:
        self.handler = handler
        self.max_size = max_size
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = False

    def feed(self, message: Any) -> None:
        self.queue.put_nowait(message)

    async def send(self, frame: str | bytes) -> None:
        """Send one message."""
        if self.closed:
            raise ConnectionError('websocket is closed')
        try:
            await self.handler.write_message(frame,
                                             binary=type(frame) is not str)
        except tornado.websocket.WebSocketClosedError as exc:
            self.closed = True
            raise ConnectionError('websocket is closed') from exc

    async def wait(self) -> str | bytes | None:
        """The next message; None once the WebSocket is closed."""
        message = await self.queue.get()
        if message is _CLOSED:
            self.closed = True
            self.queue.put_nowait(_CLOSED)  # later calls see it too
            return None
        if len(message) * 4 > self.max_size:
            await refuse_oversized(self, message)
        return message  # type: ignore[no-any-return]

    async def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.handler.close(code)


class TornadoExchange(LazyEnvironExchange):
    """One tornado request as :class:`~engineio.AsyncServer` sees it (the
    environ built only when read, as with ASGI)."""

    __slots__ = ('_get', 'handler')

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self._get: asyncio.Task[Any] | None = None
        self._init_environ()
        req = handler.request
        get_list = req.headers.get_list
        self.request: Request = build_request(
            req.method, req.query,
            header_lookup(lambda name, _: get_list(name)), req.protocol,
            native_factory=self._make_environ)

    def _build_environ(self) -> dict[str, Any]:
        handler = self.handler
        req = handler.request
        return make_environ(
            req.method, req.path, req.query, req.headers.get_all(),
            req.protocol, None, (req.remote_ip, 0),
            {'tornado.handler': handler, 'wsgi.input': self.body_input()})

    def _hook_extra(self) -> tuple[str, Any]:
        return 'tornado.handler', self.handler

    def _make_body(self) -> BodyReader:
        return BodyReader(self.handler.request.body)

    async def respond(self, response: Response) -> None:
        """Write a core response through the handler."""
        handler = self.handler
        if self._get is not None:  # refused after the upgrade: just close
            handler.close()
            return
        handler.clear()
        handler.set_status(response.status,
                           STATUS_TEXT.get(response.status, 'Unknown'))
        seen = set()
        for name, value in response.headers:
            # set_header replaces tornado's defaults (Content-Type);
            # add_header keeps repeated headers.
            key = name.lower()
            if key in seen:
                handler.add_header(name, value)
            else:
                handler.set_header(name, value)
                seen.add(key)
        handler.finish(response.body)

    async def accept_websocket(self, max_size: int,
                               compression: int | None = None
                               ) -> TornadoWebSocket | None:
        """Run tornado's WebSocket handshake; None if it failed (tornado
        answered the client itself).  Compression is negotiated by the
        handler's ``get_compression_options``."""
        handler = self.handler
        ws = TornadoWebSocket(handler, max_size)
        handler.eio_ws = ws
        opened = handler.eio_opened = asyncio.get_running_loop().create_future()
        # tornado's get() performs the handshake and then reads frames until
        # the connection closes, calling open() once it is established.
        self._get = asyncio.ensure_future(
            tornado.websocket.WebSocketHandler.get(handler))
        await asyncio.wait([self._get, opened],
                           return_when=asyncio.FIRST_COMPLETED)
        if not opened.done():
            await self._get
            return None
        return ws

    async def finish_websocket(self) -> None:
        """Wait for tornado's frame loop to end."""
        if self._get is not None:
            try:
                await self._get
            except Exception:  # the connection is gone: nothing to report
                pass


def translate_request(handler: Any) -> TornadoExchange:
    """Wrap a tornado request handler for the driver."""
    return TornadoExchange(handler)


def get_tornado_handler(engineio_server: Any) -> Any:
    """A tornado ``RequestHandler`` class serving ``engineio_server``.

    :param engineio_server: The :class:`~engineio.AsyncServer` to serve, with
                            ``async_mode='tornado'``.

    Returns None when tornado is not installed. Example usage::

        app = tornado.web.Application([
            (r'/engine.io/', engineio.get_tornado_handler(eio)),
        ])
    """
    if tornado is None:
        return None

    class EngineIOHandler(tornado.websocket.WebSocketHandler):
        """Long-polling and WebSocket requests of one Engine.IO server."""

        eio_ws: TornadoWebSocket | None = None
        eio_opened: asyncio.Future[None] | None = None

        async def get(self, *args: Any, **kwargs: Any) -> None:
            await engineio_server.handle_request(self)

        async def post(self, *args: Any, **kwargs: Any) -> None:
            await engineio_server.handle_request(self)

        async def options(self, *args: Any, **kwargs: Any) -> None:
            await engineio_server.handle_request(self)

        # The core answers the methods the protocol does not use.
        put = patch = delete = options

        def open(self, *args: Any, **kwargs: Any) -> None:
            if self.eio_opened is not None and not self.eio_opened.done():
                self.eio_opened.set_result(None)

        def on_message(self, message: str | bytes) -> None:
            if self.eio_ws is not None:
                self.eio_ws.feed(message)

        def on_close(self) -> None:
            if self.eio_ws is not None:
                self.eio_ws.feed(_CLOSED)

        def check_origin(self, origin: str) -> bool:
            # The Engine.IO core applies cors_allowed_origins itself.
            return True

        def get_compression_options(self) -> dict[str, Any] | None:
            # Not None: tornado accepts permessage-deflate when offered, and
            # then compresses every message (it has no per-message switch,
            # so the threshold cannot apply).
            if engineio_server.config.websocket_compression is None:
                return None
            return {}

        @property
        def max_message_size(self) -> int:
            return int(engineio_server.max_http_buffer_size)

    return EngineIOHandler
