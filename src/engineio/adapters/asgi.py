"""The ASGI adapter: :class:`ASGIApp`, and the translation of ASGI scopes,
bodies, responses and WebSockets for :class:`~engineio.AsyncServer`.

This module also holds the pieces every asyncio adapter shares (the
WSGI-style environ given to ``connect`` handlers, the exchange interface the
driver talks to); it imports no third-party package.
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ..exceptions import ContentTooLongError
from ..sansio.models import Request, Response
from .routing import (
    find_static_file,
    is_engineio_path,
    normalize_engineio_path,
    read_static_file,
)
from .wsgi import CORE_HEADERS, build_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: WebSocket close code for a message over ``max_http_buffer_size``.
MESSAGE_TOO_BIG = 1009


# -- shared by the asyncio adapters ----------------------------------------
def require() -> None:
    """ASGI needs no third-party package: the mode is always available."""


def make_environ(method: str, path: str, query_string: str,
                 headers: Iterable[tuple[str, str]], scheme: str,
                 server: tuple[str, int] | None = None,
                 client: tuple[str, int] | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A WSGI-style environ for a request of an asyncio framework.

    ``connect`` handlers receive it, as they receive the WSGI environ under
    a blocking server, so application code reads headers (``HTTP_*``) and
    the query string the same way everywhere; ``extra`` adds the framework's
    own objects (``'asgi.scope'``, ``'aiohttp.request'``...).
    """
    environ: dict[str, Any] = {
        'REQUEST_METHOD': method,
        'SCRIPT_NAME': '',
        'PATH_INFO': path,
        'QUERY_STRING': query_string,
        'RAW_URI': f'{path}?{query_string}' if query_string else path,
        'SERVER_PROTOCOL': 'HTTP/1.1',
        'SERVER_NAME': server[0] if server else 'localhost',
        'SERVER_PORT': str(server[1]) if server and server[1] else '0',
        'REMOTE_ADDR': client[0] if client else '',
        'REMOTE_PORT': str(client[1]) if client and client[1] else '0',
        'wsgi.url_scheme': scheme,
        'wsgi.async': True,
    }
    for name, value in headers:
        key = name.upper().replace('-', '_')
        if key == 'CONTENT_TYPE' or key == 'CONTENT_LENGTH':
            environ[key] = value
            continue
        key = 'HTTP_' + key
        old = environ.get(key)
        environ[key] = value if old is None else f'{old},{value}'
    if extra:
        environ.update(extra)
    return environ


def repeated_header(name: str, earlier: str, value: str) -> str:
    """The value of header ``name`` (lowercase) when it came again: joined
    as a WSGI server joins repeated headers, except Content-Length, where
    the last one counts (as in the environ)."""
    return value if name == 'content-length' else f'{earlier},{value}'


def header_lookup(getall: Callable[[str, None], list[str] | None]
                  ) -> Callable[[str], str | None]:
    """The header lookup :func:`build_request` takes, over a framework's
    case-insensitive multi-valued headers (``getall(name, None)``)."""
    def header(name: str) -> str | None:
        values = getall(name, None)
        if not values:
            return None
        value = values[0]
        for more in values[1:]:
            value = repeated_header(name, value, more)
        return value
    return header


class LazyEnvironExchange:
    """What an exchange whose environ is built only when something reads it
    (every asyncio adapter) offers the driver besides ``respond`` and the WebSocket
    calls.  Polling requests never read it: the core's :class:`Request`
    comes straight from the framework's headers.

    Subclasses set ``request`` and give :meth:`_build_environ`,
    :meth:`_hook_extra` and :meth:`_make_body`.
    """

    __slots__ = ('_body', '_environ', 'cors', 'request')

    request: Request

    def _init_environ(self) -> None:
        self._environ: dict[str, Any] | None = None
        self._body: Any = None
        #: The CORS headers the core decided, for ``environ['engineio.cors']``.
        self.cors: list[tuple[str, str]] | None = None

    def _build_environ(self) -> dict[str, Any]:
        """The WSGI-style environ of the request (see :func:`make_environ`)."""
        raise NotImplementedError

    def _hook_extra(self) -> tuple[str, Any]:
        """The framework's own object in the small environ of the hooks."""
        raise NotImplementedError

    def _make_body(self) -> Any:
        """A reader of the request's body (``await .read(n)``)."""
        raise NotImplementedError

    def body_input(self) -> Any:
        """What a POST's body is read from (``await .read(n)``); the same
        object as the environ's ``wsgi.input``."""
        body = self._body
        if body is None:
            body = self._body = self._make_body()
        return body

    @property
    def environ(self) -> dict[str, Any]:
        """The WSGI-style environ of this request (built on first use)."""
        environ = self._environ
        if environ is None:
            return self._make_environ()
        if self.cors is not None and 'engineio.cors' not in environ:
            # Built while the core was deciding the CORS headers.
            environ['engineio.cors'] = self.cors
        return environ

    @environ.setter
    def environ(self, value: dict[str, Any] | None) -> None:
        # None drops the server's reference (a long WebSocket session does
        # not need it); reading it again builds a new one.
        self._environ = value

    def _make_environ(self) -> dict[str, Any]:
        environ = self._environ
        if environ is not None:
            return environ
        environ = self._environ = self._build_environ()
        environ['engineio.request'] = self.request
        if self.cors is not None:
            environ['engineio.cors'] = self.cors
        return environ

    def set_cors(self, headers: list[tuple[str, str]]) -> None:
        """Keep the CORS headers the core decided (read by the environ)."""
        self.cors = headers

    def hook_environ(self) -> dict[str, Any]:
        """What the long-polling hooks (``handle_get_request``,
        ``handle_post_request``) receive: the full environ if something
        already built it, else a small one with what the driver and
        python-socketio's admin instrumentation read."""
        if self._environ is not None:
            return self.environ
        request = self.request
        key, native = self._hook_extra()
        environ = {'REQUEST_METHOD': request.method,
                   'wsgi.input': self.body_input(),
                   key: native,
                   'engineio.request': request,
                   'engineio.cors': self.cors}
        if request.content_length is not None:
            environ['CONTENT_LENGTH'] = str(request.content_length)
        return environ


class BodyReader:
    """``environ['wsgi.input']`` of the asyncio adapters: an awaitable
    ``read()`` over a body already in memory (tornado, sanic)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self, length: int = -1) -> bytes:
        """Return up to ``length`` bytes (all of them for ``-1``)."""
        if length < 0:
            data, self._body = self._body, b''
        else:
            data, self._body = self._body[:length], self._body[length:]
        return data


def check_size(frame: str | bytes, limit: int) -> str | bytes:
    """Raise :class:`ContentTooLongError` for a message over ``limit`` bytes.

    A ``str`` is measured in UTF-8 only when it could possibly be too long,
    so ordinary messages cost one ``len()``.
    """
    n = len(frame)
    if n > limit or (type(frame) is str and n * 4 > limit
                     and len(frame.encode('utf-8')) > limit):
        raise ContentTooLongError('websocket message too large')
    return frame


async def refuse_oversized(ws: Any, frame: str | bytes) -> None:
    """Close ``ws`` with "message too big" (1009) and raise
    :class:`ContentTooLongError` if ``frame`` is over ``ws.max_size``.

    Callers test ``len(frame) * 4 > ws.max_size`` first, so an ordinary
    message costs no call.
    """
    try:
        check_size(frame, ws.max_size)
    except ContentTooLongError:
        await ws.close(MESSAGE_TOO_BIG)
        raise


async def call_hook(hook: Callable[[], Any] | None) -> None:
    """Run a startup or shutdown hook that may be a coroutine function."""
    if hook is None:
        return
    ret = hook()
    if inspect.isawaitable(ret):
        await ret


# -- ASGI exchange ---------------------------------------------------------
class ASGIWebSocket:
    """A WebSocket over ASGI ``websocket.*`` messages, with the interface
    the driver uses: ``send(frame)``, ``wait()`` and ``close()``."""

    def __init__(self, receive: Receive, send: Send, max_size: int) -> None:
        self._receive = receive
        self._send = send
        self.max_size = max_size
        self.closed = False

    async def send(self, frame: str | bytes) -> None:
        """Send one message."""
        if self.closed:
            raise ConnectionError('websocket is closed')
        try:
            if type(frame) is str:
                await self._send({'type': 'websocket.send', 'text': frame})
            else:
                await self._send({'type': 'websocket.send', 'bytes': frame})
        except OSError:
            raise
        except Exception as exc:
            # Servers raise their own types on a dead connection.
            self.closed = True
            raise ConnectionError(str(exc)) from exc

    async def wait(self) -> str | bytes | None:
        """The next message; None once the WebSocket is closed."""
        if self.closed:
            return None
        message = await self._receive()
        if message['type'] == 'websocket.receive':
            text = message.get('text')
            frame = text if text is not None else message.get('bytes')
            if frame is None:
                return None
            if len(frame) * 4 > self.max_size:
                await refuse_oversized(self, frame)
            return frame  # type: ignore[no-any-return]
        self.closed = True
        return None

    async def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._send({'type': 'websocket.close', 'code': code})
        except Exception:  # the connection is gone already: nothing to do
            pass


#: The request headers the core reads: their names as :func:`build_request`
#: looks them up, by their ASGI (lowercase) names.
_REQUEST_HEADERS = {name.encode(): name for name in CORE_HEADERS}

#: ``wsgi.url_scheme`` of a WebSocket request's scheme.
WSGI_SCHEMES = {'ws': 'http', 'wss': 'https'}

#: Response headers as ASGI wants them, by the core's header lists: the same
#: few lists (content type, cache control, CORS of a few origins) come back
#: on every response, and encoding them each time is measurable.
_ENCODED_HEADERS: dict[tuple[tuple[str, str], ...],
                       list[tuple[bytes, bytes]]] = {}
_ENCODED_HEADERS_MAX = 512


def encode_headers(headers: Iterable[tuple[str, str]]
                   ) -> list[tuple[bytes, bytes]]:
    """``[('Content-Type', ...)]`` -> ``[(b'content-type', ...)]``; the
    result is shared, callers must copy it before changing it."""
    key = tuple(headers)
    encoded = _ENCODED_HEADERS.get(key)
    if encoded is None:
        encoded = [(k.lower().encode('latin-1'), v.encode('latin-1'))
                   for k, v in key]
        if len(_ENCODED_HEADERS) >= _ENCODED_HEADERS_MAX:
            # Per-session values (cookies, many origins) must not grow it
            # without bound.
            _ENCODED_HEADERS.clear()
        _ENCODED_HEADERS[key] = encoded
    return encoded


class ASGIExchange(LazyEnvironExchange):
    """One ASGI request as :class:`~engineio.AsyncServer` sees it.

    The core's :class:`Request` comes straight from the scope's headers; the
    WSGI-style environ (for ``connect``, ``allow_request``,
    ``connection_error`` and a callable ``cors_allowed_origins``) is only
    built when something reads it, which polling requests never do.
    """

    __slots__ = (
        '_connected',
        'is_websocket',
        'receive',
        'scheme',
        'scope',
        'send',
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self._connected = False
        self._init_environ()
        self.is_websocket = is_ws = scope['type'] == 'websocket'
        found: dict[str, str] = {}
        wanted = _REQUEST_HEADERS
        for name, value in scope.get('headers') or ():
            key = wanted.get(name)
            if key is None:
                # ASGI servers lowercase header names; a test harness or an
                # odd server may not.
                if name.islower():
                    continue
                key = wanted.get(name.lower())
                if key is None:
                    continue
            text = value.decode('latin-1')
            old = found.get(key)
            found[key] = text if old is None \
                else repeated_header(key, old, text)
        scheme = scope.get('scheme') or ('ws' if is_ws else 'http')
        #: The connection's scheme as WSGI names it (``wsgi.url_scheme``).
        self.scheme = WSGI_SCHEMES.get(scheme, scheme)
        self.request = build_request(
            scope.get('method', 'GET'),
            (scope.get('query_string') or b'').decode('latin-1'), found.get,
            self.scheme, is_ws, native_factory=self._make_environ)

    def _build_environ(self) -> dict[str, Any]:
        scope = self.scope
        return make_environ(
            scope.get('method', 'GET'), scope.get('path', '/'),
            (scope.get('query_string') or b'').decode('latin-1'),
            [(k.decode('latin-1'), v.decode('latin-1'))
             for k, v in scope.get('headers') or ()],
            self.scheme, scope.get('server'), scope.get('client'),
            {'asgi.scope': scope, 'asgi.receive': self.receive,
             'asgi.send': self.send, 'wsgi.input': self})

    def _hook_extra(self) -> tuple[str, Any]:
        return 'asgi.scope', self.scope

    def body_input(self) -> ASGIExchange:
        """What a POST's body is read from: this exchange (:meth:`read`)."""
        return self

    async def read(self, length: int = -1) -> bytes:
        """``environ['wsgi.input'].read()``: up to ``length`` body bytes."""
        message = await self.receive()
        if message['type'] != 'http.request':
            raise ConnectionError('client disconnected')
        first = message.get('body') or b''
        if not message.get('more_body') or 0 <= length <= len(first):
            return first
        chunks = [first]
        size = len(first)
        while length < 0 or size < length:
            message = await self.receive()
            if message['type'] != 'http.request':
                raise ConnectionError('client disconnected')
            chunk = message.get('body') or b''
            chunks.append(chunk)
            size += len(chunk)
            if not message.get('more_body'):
                break
        return b''.join(chunks)

    @staticmethod
    def response_messages(response: Response) -> tuple[Message, Message]:
        """The ``http.response.start`` and ``http.response.body`` messages
        of a response."""
        body = response.body
        return ({'type': 'http.response.start', 'status': response.status,
                 'headers': [*encode_headers(response.headers),
                             (b'content-length', b'%d' % len(body))]},
                {'type': 'http.response.body', 'body': body})

    async def respond(self, response: Response) -> None:
        """Send a complete response (over a WebSocket scope: refuse it)."""
        if not self.is_websocket:
            start, body = self.response_messages(response)
            await self.send(start)
            await self.send(body)
            return
        await self._connect()
        if 'websocket.http.response' in (self.scope.get('extensions') or {}):
            await self.send({'type': 'websocket.http.response.start',
                             'status': response.status,
                             'headers': list(encode_headers(response.headers))})
            await self.send({'type': 'websocket.http.response.body',
                             'body': response.body})
        else:
            await self.send({'type': 'websocket.close', 'code': 1008})

    async def _connect(self) -> bool:
        if not self._connected:
            self._connected = True
            message = await self.receive()
            return bool(message['type'] == 'websocket.connect')
        return True

    async def accept_websocket(self, max_size: int,
                               compression: int | None = None
                               ) -> ASGIWebSocket | None:
        """Accept the WebSocket of this scope; None for an HTTP scope.

        ``compression`` is ignored: ASGI has no way to ask for an extension,
        the web server negotiates permessage-deflate on its own (uvicorn
        and hypercorn whenever the client offers it, daphne never).
        """
        if self.scope['type'] != 'websocket':
            return None
        if not await self._connect():
            raise ConnectionError('client went away before the handshake')
        await self.send({'type': 'websocket.accept'})
        return ASGIWebSocket(self.receive, self.send, max_size)

    async def finish_websocket(self) -> None:
        """Nothing to return to an ASGI server once the WebSocket ended."""
        return None


def translate_request(scope: Scope, receive: Receive,
                      send: Send) -> ASGIExchange:
    """Wrap an ASGI call for the driver."""
    return ASGIExchange(scope, receive, send)


# -- the application -------------------------------------------------------
class ASGIApp:
    """ASGI application middleware for Engine.IO.

    This middleware dispatches traffic to an Engine.IO application. It can
    also serve a list of static files to the client, or forward unrelated
    HTTP traffic to another ASGI application.

    :param engineio_server: The Engine.IO server. Must be an instance of the
                            ``engineio.AsyncServer`` class.
    :param other_asgi_app: A separate ASGI app that receives all other
                           traffic.
    :param static_files: A dictionary with static file mapping rules. See
                         the documentation for details on this argument.
    :param engineio_path: The endpoint where the Engine.IO application
                          should be installed. The default value is
                          appropriate for most cases. With ``None``, all
                          HTTP and WebSocket traffic goes to the Engine.IO
                          server (routing is left to another layer), and
                          ``static_files`` and ``other_asgi_app`` are not
                          used for it.
    :param on_startup: function to be called on application startup; can be
                       a coroutine function.
    :param on_shutdown: function to be called on application shutdown; can
                        be a coroutine function.

    Example usage::

        import engineio
        import uvicorn

        eio = engineio.AsyncServer(async_mode='asgi')
        app = engineio.ASGIApp(eio, static_files={
            '/': {'content_type': 'text/html', 'filename': 'index.html'},
            '/index.html': {'content_type': 'text/html',
                            'filename': 'index.html'},
        })
        uvicorn.run(app, host='127.0.0.1', port=5000)
    """

    def __init__(self, engineio_server: Any, other_asgi_app: Any = None,
                 static_files: dict[str, Any] | None = None,
                 engineio_path: str | None = 'engine.io',
                 on_startup: Callable[[], Any] | None = None,
                 on_shutdown: Callable[[], Any] | None = None) -> None:
        self.engineio_server = engineio_server
        self.other_asgi_app = other_asgi_app
        self.engineio_path = None if engineio_path is None \
            else normalize_engineio_path(engineio_path)
        self.static_files = static_files or {}
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        kind = scope['type']
        if kind == 'http' or kind == 'websocket':
            # The common case first: a request for the Engine.IO endpoint.
            path = scope.get('path')
            eio_path = self.engineio_path
            if path and eio_path and path.startswith(eio_path):
                await self.engineio_server.handle_request(scope, receive, send)
                return
        if kind == 'lifespan':
            await self.lifespan(scope, receive, send)
            return
        if kind != 'http' and kind != 'websocket':
            if self.other_asgi_app is not None:
                await self.other_asgi_app(scope, receive, send)
            return
        path = self._path(scope)
        if path is None:
            await self.engineio_server.handle_request(scope, receive, send)
            return
        if kind == 'http' and self.static_files:
            static = find_static_file(path, self.static_files)
            if static is not None:
                body = read_static_file(static)
                if body is None:
                    await self.not_found(receive, send)
                else:
                    await self.serve_static_file(static.content_type, body,
                                                 send)
                return
        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
        elif kind == 'websocket':
            await receive()
            await send({'type': 'websocket.close', 'code': 1000})
        else:
            await self.not_found(receive, send)

    def _path(self, scope: Scope) -> str | None:
        """The path to route on, or None for an Engine.IO request.

        Mounted apps (Starlette's ``Mount``) see a ``root_path``; some
        servers keep it in ``path`` and some strip it, so both the full and
        the mount-relative path may name the Engine.IO endpoint.
        """
        path = scope.get('path') or '/'
        eio_path = self.engineio_path
        if eio_path is None or is_engineio_path(path, eio_path):
            return None
        root = scope.get('root_path') or ''
        if root and path.startswith(root):
            path = path[len(root):] or '/'
            if is_engineio_path(path, eio_path):
                return None
        return path

    async def serve_static_file(self, content_type: str, body: bytes,
                                send: Send) -> None:
        """Answer with the contents of a static file."""
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', content_type.encode()),
                                (b'content-length', str(len(body)).encode())]})
        await send({'type': 'http.response.body', 'body': body})

    async def lifespan(self, scope: Scope, receive: Receive,
                       send: Send) -> None:
        """Run the ASGI lifespan protocol.

        Without hooks of its own, lifespan goes to the other application,
        if there is one, so its own startup and shutdown code runs.
        """
        if self.other_asgi_app is not None and self.on_startup is None \
                and self.on_shutdown is None:
            await self.other_asgi_app(scope, receive, send)
            return
        while True:
            message = await receive()
            kind = message['type']
            if kind == 'lifespan.startup':
                try:
                    await call_hook(self.on_startup)
                except Exception as exc:
                    await send({'type': 'lifespan.startup.failed',
                                'message': repr(exc)})
                    return
                await send({'type': 'lifespan.startup.complete'})
            elif kind == 'lifespan.shutdown':
                try:
                    await call_hook(self.on_shutdown)
                    shutdown = getattr(self.engineio_server, 'shutdown', None)
                    if shutdown is not None:
                        await shutdown()
                except Exception as exc:
                    await send({'type': 'lifespan.shutdown.failed',
                                'message': repr(exc)})
                    return
                await send({'type': 'lifespan.shutdown.complete'})
                return

    async def not_found(self, receive: Receive, send: Send) -> None:
        """Return a 404 Not Found error to the client."""
        await send({'type': 'http.response.start', 'status': 404,
                    'headers': [(b'content-type', b'text/plain'),
                                (b'content-length', b'9')]})
        await send({'type': 'http.response.body', 'body': b'Not Found'})
