"""The ASGI exchange: the core's Request straight from the scope (the same
fields the WSGI-style environ gave), the environ built only when read, the
small environ of the polling hooks, and the cached response headers."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import engineio
from engineio.adapters.asgi import ASGIExchange, encode_headers, make_environ
from engineio.adapters.wsgi import request_from_environ
from engineio.sansio.models import Request, Response
from engineio.sansio.server import Action, Route, ServerConfig, ServerCore

FIELDS = ('method', 'query', 'origin', 'scheme', 'host', 'accept_encoding',
          'websocket', 'access_control_request_headers', 'content_length')


def scope(headers: list[tuple[bytes, bytes]], kind: str = 'http',
          method: str = 'GET', qs: bytes = b'EIO=4&transport=polling',
          scheme: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {'type': kind, 'method': method, 'path': '/engine.io/',
                         'query_string': qs, 'headers': headers,
                         'server': ('127.0.0.1', 8000),
                         'client': ('127.0.0.1', 5555)}
    if scheme is not None:
        s['scheme'] = scheme
    return s


def via_environ(s: dict[str, Any]) -> Request:
    """The request as the environ-based translation builds it."""
    is_ws = s['type'] == 'websocket'
    scheme = s.get('scheme') or ('ws' if is_ws else 'http')
    scheme = {'ws': 'http', 'wss': 'https'}.get(scheme, scheme)
    environ = make_environ(
        s.get('method', 'GET'), s['path'], s['query_string'].decode('latin-1'),
        [(k.decode('latin-1'), v.decode('latin-1')) for k, v in s['headers']],
        scheme, s.get('server'), s.get('client'))
    req = request_from_environ(environ)
    if is_ws:
        req.websocket = True
    return req


CASES = [
    scope([]),
    scope([(b'host', b'example.com:8000'), (b'connection', b'keep-alive')]),
    scope([(b'host', b'a'), (b'origin', b'http://a'),
           (b'accept-encoding', b'gzip, deflate')]),
    scope([(b'Host', b'a'), (b'Origin', b'http://a'),
           (b'X-Forwarded-Proto', b'https, http'),
           (b'x-forwarded-host', b'b.example, c.example')]),
    scope([(b'origin', b'http://a'), (b'origin', b'http://b')]),
    scope([(b'content-length', b'12'), (b'content-length', b'34')],
          method='POST'),
    scope([(b'content-length', b'x')], method='POST'),
    scope([(b'upgrade', b'WebSocket'), (b'connection', b'Upgrade')]),
    scope([(b'host', b'a')], kind='websocket', scheme='wss'),
    scope([(b'host', b'a')], kind='websocket'),
    scope([(b'access-control-request-headers', b'x-a'),
           (b'origin', b'http://a')], method='OPTIONS'),
    scope([], qs=b'EIO=4&transport=polling&sid=a%2Bb&t=1&t=2&x'),
]


@pytest.mark.parametrize('s', CASES)
def test_request_matches_the_environ_translation(s: dict[str, Any]) -> None:
    got = ASGIExchange(s, None, None).request  # type: ignore[arg-type]
    want = via_environ(s)
    for name in FIELDS:
        assert getattr(got, name) == getattr(want, name), name


def test_environ_is_built_on_first_read_only() -> None:
    s = scope([(b'host', b'a'), (b'x-custom', b'1')])
    exchange = ASGIExchange(s, None, None)  # type: ignore[arg-type]
    assert exchange._environ is None
    exchange.cors = [('Access-Control-Allow-Origin', 'http://a')]
    environ = exchange.environ
    assert environ is exchange.environ
    assert environ['HTTP_X_CUSTOM'] == '1'
    assert environ['asgi.scope'] is s
    assert environ['wsgi.input'] is exchange
    assert environ['engineio.request'] is exchange.request
    assert environ['engineio.cors'] == exchange.cors
    assert exchange.request.native is environ
    exchange.environ = None  # type: ignore[assignment]
    assert exchange._environ is None
    assert exchange.environ is not environ


def test_environ_built_by_the_core_gets_the_cors_headers_later() -> None:
    exchange = ASGIExchange(scope([(b'origin', b'http://a')]),  # type: ignore[arg-type]
                            None, None)
    environ = exchange.request.native  # a callable cors_allowed_origins
    assert 'engineio.cors' not in environ
    exchange.cors = []
    assert exchange.environ['engineio.cors'] == []
    assert exchange.hook_environ() is environ


def test_hook_environ_is_small() -> None:
    exchange = ASGIExchange(scope([(b'content-length', b'5')], method='POST'),  # type: ignore[arg-type]
                            None, None)
    exchange.cors = []
    environ = exchange.hook_environ()
    assert environ['engineio.request'] is exchange.request
    assert environ['engineio.cors'] == []
    assert environ['wsgi.input'] is exchange
    assert environ['CONTENT_LENGTH'] == '5'
    assert environ['REQUEST_METHOD'] == 'POST'
    assert exchange._environ is None


def test_request_native_factory_runs_once() -> None:
    calls = []

    def factory() -> dict[str, Any]:
        calls.append(1)
        return {'x': 1}

    req = Request('GET', {}, native_factory=factory)
    assert req.native == {'x': 1}
    assert req.native == {'x': 1}
    assert calls == [1]
    req.native = None
    assert req.native is None
    assert Request('GET', {}).extra == {}


def test_encoded_headers() -> None:
    headers = [('Content-Type', 'text/plain'), ('X-A', 'b')]
    first = encode_headers(headers)
    assert first == [(b'content-type', b'text/plain'), (b'x-a', b'b')]
    assert encode_headers(list(headers)) is first


def test_fast_polling_routes_equal_plain_ones() -> None:
    core = ServerCore(ServerConfig())
    session = core.open_session('s1', 'polling', 0.0)
    core.accept(session, 0.0)
    q = {'EIO': '4', 'transport': 'polling', 'sid': 's1'}
    assert core.route(Request('GET', q), 1.0) == \
        Route(Action.POLL, 'polling', session, headers=[])
    assert core.route(Request('POST', q), 1.0) == \
        Route(Action.POST, 'polling', session, headers=[])


def test_asgi_responses_and_hooks_end_to_end() -> None:
    """A polling session through ASGIApp: the connect handler gets the full
    environ, the polling hooks a small one, responses the same headers."""
    seen: dict[str, Any] = {}
    eio = engineio.AsyncServer(async_mode='asgi', cors_allowed_origins='*')

    @eio.on('connect')
    def connect(sid: str, environ: dict[str, Any]) -> None:
        seen['connect'] = environ

    @eio.on('message')
    async def message(sid: str, data: Any) -> None:
        await eio.send(sid, data)

    app = engineio.ASGIApp(eio)

    async def call(method: str, qs: bytes, body: bytes = b''
                   ) -> tuple[int, dict[bytes, bytes], bytes]:
        out: list[dict[str, Any]] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {'type': 'http.request', 'body': body}
            await asyncio.Event().wait()
            return {}

        async def send(m: dict[str, Any]) -> None:
            out.append(m)

        headers = [(b'host', b'x'), (b'origin', b'http://o')]
        if body:
            headers.append((b'content-length', str(len(body)).encode()))
        await app(scope(headers, method=method, qs=qs), receive, send)
        return out[0]['status'], dict(out[0]['headers']), out[1]['body']

    async def run() -> None:
        status, headers, body = await call('GET', b'EIO=4&transport=polling')
        assert status == 200
        assert headers[b'access-control-allow-origin'] == b'http://o'
        assert headers[b'content-length'] == str(len(body)).encode()
        environ = seen['connect']
        assert environ['HTTP_ORIGIN'] == 'http://o'
        assert environ['engineio.cors'][0] == \
            ('Access-Control-Allow-Origin', 'http://o')
        assert 'asgi.scope' in environ and 'asgi.receive' in environ
        sid = environ['engineio.request'].query.get('sid') or \
            next(iter(eio.sockets))
        qs = f'EIO=4&transport=polling&sid={sid}'.encode()
        poll = asyncio.ensure_future(call('GET', qs))
        await asyncio.sleep(0)
        status, headers, body = await call('POST', qs, b'4hi')
        assert (status, body) == (200, b'ok')
        assert headers[b'content-type'] == b'text/html'
        assert headers[b'cache-control'] == b'no-store'
        status, headers, body = await poll
        assert (status, body) == (200, b'4hi')
        assert headers[b'content-type'] == b'text/plain; charset=UTF-8'
        await eio.shutdown()

    asyncio.run(run())


def test_response_messages() -> None:
    start, body = ASGIExchange.response_messages(
        Response(400, [('Content-Type', 'application/json')], b'{}'))
    assert start == {'type': 'http.response.start', 'status': 400,
                     'headers': [(b'content-type', b'application/json'),
                                 (b'content-length', b'2')]}
    assert body == {'type': 'http.response.body', 'body': b'{}'}


def test_core_timer_bounds_a_stuck_poll() -> None:
    """With no heartbeat running, a held poll still ends at its limit
    (ping interval + ping timeout) with a noop, through the core's timer
    heap (no timer of the driver's own)."""
    from engineio.adapters.asgi import ASGIExchange as Exchange
    from engineio.async_socket import AsyncSocket

    eio = engineio.AsyncServer(async_mode='asgi', ping_interval=0.05,
                               ping_timeout=0.05)

    def environ(sid: str) -> dict[str, Any]:
        exchange = Exchange(scope([], qs=f'EIO=4&transport=polling&sid={sid}'
                                  .encode()), None, None)  # type: ignore[arg-type]
        exchange.cors = []
        return exchange.hook_environ()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        # Sessions whose heartbeat is far off: only the poll bound is due.
        later = time.monotonic() + 100
        stuck = eio.core.open_session('a', 'polling', later,
                                      eio._socket_factory)
        served = eio.core.open_session('b', 'polling', later,
                                       eio._socket_factory)
        assert isinstance(stuck, AsyncSocket)
        assert isinstance(served, AsyncSocket)
        got = asyncio.ensure_future(eio._handle_get(served, environ('b')))
        await asyncio.sleep(0)
        assert served.poll_active and served.poll_deadline > 0

        def output() -> None:
            served.push('4x')
            served.wake_poll()

        loop.call_later(0.01, output)
        assert (await got).body == b'4x'
        assert not served.poll_active and served.poll_deadline == 0
        started = loop.time()
        response = await eio._handle_get(stuck, environ('a'))
        assert response.body == b'6'
        assert 0.09 <= loop.time() - started < 1.0
        assert not stuck.poll_active
        await eio.shutdown()

    asyncio.run(run())
