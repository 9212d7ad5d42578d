"""The WSGI adapter: :class:`WSGIApp`, :class:`Middleware` and the
translation of a WSGI environ into the core's request model."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_plus

from ..sansio.models import Request, Response, WebSocketOpening, status_line
from .routing import (
    find_static_file,
    is_engineio_path,
    normalize_engineio_path,
    read_static_file,
)

StartResponse = Callable[..., Any]

#: Longest query string looked at; longer ones are cut (the protocol's own
#: arguments are short, so nothing legitimate is lost).
MAX_QUERY_LENGTH = 8192


def parse_query(qs: str) -> dict[str, str]:
    """Parse a query string keeping the first value of each argument."""
    query: dict[str, str] = {}
    if not qs:
        return query
    if len(qs) > MAX_QUERY_LENGTH:
        qs = qs[:MAX_QUERY_LENGTH]
    decode = '%' in qs or '+' in qs
    for part in qs.split('&'):
        key, _, value = part.partition('=')
        if decode:
            key, value = unquote_plus(key), unquote_plus(value)
        if key not in query:
            query[key] = value
    return query


def first_value(header: str | None) -> str | None:
    """The first of a comma-separated list of proxy header values."""
    if header is None:
        return None
    return header.split(',', 1)[0].strip()


#: The request headers the core reads (lowercase names), and where a WSGI
#: environ keeps them.
CORE_HEADERS = {
    'origin': 'HTTP_ORIGIN',
    'host': 'HTTP_HOST',
    'x-forwarded-proto': 'HTTP_X_FORWARDED_PROTO',
    'x-forwarded-host': 'HTTP_X_FORWARDED_HOST',
    'accept-encoding': 'HTTP_ACCEPT_ENCODING',
    'upgrade': 'HTTP_UPGRADE',
    'connection': 'HTTP_CONNECTION',
    'sec-websocket-key': 'HTTP_SEC_WEBSOCKET_KEY',
    'sec-websocket-version': 'HTTP_SEC_WEBSOCKET_VERSION',
    'access-control-request-headers': 'HTTP_ACCESS_CONTROL_REQUEST_HEADERS',
    'content-length': 'CONTENT_LENGTH',
}


def build_request(method: str, query_string: str,
                  header: Callable[[str], str | None], scheme: str,
                  websocket: bool = False, native: Any = None,
                  native_factory: Callable[[], Any] | None = None) -> Request:
    """The core's request model, from what every adapter has: the method,
    the raw query string, a lookup of the :data:`CORE_HEADERS` by their
    lowercase name, and the URL scheme.  Proxy headers
    (``X-Forwarded-Proto``/``-Host``) win over the connection's own.
    ``websocket`` says that the web server already completed a WebSocket
    handshake for this request (an ASGI ``websocket`` scope)."""
    length = header('content-length')
    try:
        content_length = int(length) if length else None
    except ValueError:
        content_length = None
    upgrade = header('upgrade')
    req = Request(
        method, parse_query(query_string), header('origin'),
        first_value(header('x-forwarded-proto')) or scheme,
        first_value(header('x-forwarded-host')) or header('host'),
        header('accept-encoding') or '',
        websocket or (upgrade is not None and upgrade.lower() == 'websocket'),
        header('access-control-request-headers'), content_length, native,
        None, native_factory)
    if upgrade is not None and not websocket:
        # The handshake is still to be answered: the core checks these
        # first (requests without Upgrade, all of polling, skip the lookups).
        req.websocket_opening = WebSocketOpening(
            header('connection'), header('sec-websocket-key'),
            header('sec-websocket-version'))
    return req


def request_from_environ(environ: dict[str, Any]) -> Request:
    """Build the core's request model from a WSGI environ."""
    get = environ.get
    return build_request(get('REQUEST_METHOD', 'GET'), get('QUERY_STRING', ''),
                         lambda name: get(CORE_HEADERS[name]),
                         get('wsgi.url_scheme', 'http'),
                         # gevent-websocket's handler answers the handshake
                         # before the application runs.
                         websocket=get('wsgi.websocket') is not None
                         or get('engineio.relay') is not None,
                         native=environ)


def respond(start_response: StartResponse, response: Response,
            head: bool = False) -> list[bytes]:
    """Send a core response through WSGI (without its body for a HEAD
    request)."""
    headers = list(response.headers)
    headers.append(('Content-Length', str(len(response.body))))
    start_response(status_line(response.status), headers)
    return [] if head else [response.body]


def read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """Read a request body of at most ``limit`` bytes; None if larger."""
    length = environ.get('CONTENT_LENGTH')
    stream = environ['wsgi.input']
    if length:
        try:
            n = int(length)
        except ValueError:
            return None
        if n > limit:
            return None
        return stream.read(n)  # type: ignore[no-any-return]
    data = stream.read(limit + 1)
    if len(data) > limit:
        return None
    return data  # type: ignore[no-any-return]


def not_found(start_response: StartResponse) -> list[bytes]:
    start_response('404 Not Found', [('Content-Type', 'text/plain'),
                                     ('Content-Length', '9')])
    return [b'Not Found']


class WSGIApp:
    """WSGI application middleware for Engine.IO.

    This middleware dispatches traffic to an Engine.IO application. It can
    also serve a list of static files to the client, or forward unrelated
    HTTP traffic to another WSGI application.

    :param engineio_app: The Engine.IO server. Must be an instance of the
                         ``engineio.Server`` class.
    :param wsgi_app: The WSGI app that receives all other traffic.
    :param static_files: A dictionary with static file mapping rules. See the
                         documentation for details on this argument.
    :param engineio_path: The endpoint where the Engine.IO application should
                          be installed. The default value is appropriate for
                          most cases.

    Example usage::

        import engineio
        import eventlet

        eio = engineio.Server()
        app = engineio.WSGIApp(eio, static_files={
            '/': {'content_type': 'text/html', 'filename': 'index.html'},
            '/index.html': {'content_type': 'text/html',
                            'filename': 'index.html'},
        })
        eventlet.wsgi.server(eventlet.listen(('', 8000)), app)
    """

    def __init__(self, engineio_app: Any, wsgi_app: Any = None,
                 static_files: dict[str, Any] | None = None,
                 engineio_path: str = 'engine.io') -> None:
        self.engineio_app = engineio_app
        self.wsgi_app = wsgi_app
        self.engineio_path = normalize_engineio_path(engineio_path)
        self.static_files = static_files or {}

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get('PATH_INFO') or '/'
        if is_engineio_path(path, self.engineio_path):
            return self.engineio_app.handle_request(  # type: ignore[no-any-return]
                environ, start_response)
        static = find_static_file(path, self.static_files)
        # A rule whose file does not exist falls through to the other app.
        body = read_static_file(static) if static is not None else None
        if body is not None:
            start_response('200 OK', [('Content-Type', static.content_type),  # type: ignore[union-attr]
                                      ('Content-Length', str(len(body)))])
            # Not every WSGI server drops a HEAD response's body itself
            # (gevent's and eventlet's do not): on a kept-alive connection
            # the stray bytes would be read as the next response.
            return [] if environ.get('REQUEST_METHOD') == 'HEAD' else [body]
        if self.wsgi_app is not None:
            return self.wsgi_app(environ, start_response)  # type: ignore[no-any-return]
        answer = self.not_found(start_response)
        return [] if environ.get('REQUEST_METHOD') == 'HEAD' else answer

    def not_found(self, start_response: StartResponse) -> list[bytes]:
        """Answer a request no route took with 404."""
        return not_found(start_response)


class Middleware(WSGIApp):
    """This class has been renamed to ``WSGIApp`` and is now deprecated."""

    def __init__(self, engineio_app: Any, wsgi_app: Any = None,
                 engineio_path: str = 'engine.io') -> None:
        warnings.warn('engineio.Middleware is deprecated, use '
                      'engineio.WSGIApp instead', DeprecationWarning,
                      stacklevel=2)
        super().__init__(engineio_app, wsgi_app,
                         engineio_path=engineio_path)
