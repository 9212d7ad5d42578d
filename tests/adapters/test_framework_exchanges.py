"""The aiohttp and tornado exchanges: the core's Request straight from the
framework's headers (the same fields the WSGI-style environ gives), the
environ built only when read, and the small environ of the polling hooks.
Sanic's, built alike, is covered by the tests on a real sanic server."""
from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip('aiohttp')

from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from engineio.adapters.aiohttp import AiohttpBody, AiohttpExchange
from engineio.adapters.wsgi import request_from_environ

FIELDS = ('method', 'query', 'origin', 'scheme', 'host', 'accept_encoding',
          'websocket', 'access_control_request_headers', 'content_length')

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ('GET', '/engine.io/?EIO=4&transport=polling', []),
    ('GET', '/engine.io/?EIO=4&transport=polling',
     [('Host', 'example.com:8000'), ('Connection', 'keep-alive')]),
    ('GET', '/engine.io/?EIO=4&transport=polling',
     [('Host', 'a'), ('Origin', 'http://a'),
      ('Accept-Encoding', 'gzip, deflate')]),
    ('GET', '/engine.io/?EIO=4&transport=polling',
     [('Host', 'a'), ('X-Forwarded-Proto', 'https, http'),
      ('x-forwarded-host', 'b.example'), ('X-Forwarded-Host', 'c.example')]),
    ('GET', '/engine.io/?EIO=4&transport=polling',
     [('Origin', 'http://a'), ('Origin', 'http://b')]),
    ('POST', '/engine.io/?EIO=4&transport=polling&sid=x',
     [('Content-Length', '12')]),
    ('POST', '/engine.io/?EIO=4&transport=polling&sid=x',
     [('Content-Length', 'x')]),
    ('GET', '/engine.io/?EIO=4&transport=websocket',
     [('Upgrade', 'WebSocket'), ('Connection', 'keep-alive'),
      ('Connection', 'Upgrade'), ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
      ('Sec-WebSocket-Version', '13')]),
    ('OPTIONS', '/engine.io/?EIO=4&transport=polling',
     [('Access-Control-Request-Headers', 'x-a'), ('Origin', 'http://a')]),
    ('GET', '/engine.io/?EIO=4&transport=polling&sid=a%2Bb&t=1&t=2&x', []),
]


def mocked(method: str, path: str, headers: list[tuple[str, str]]) -> Any:
    return make_mocked_request(method, path, headers=CIMultiDict(headers))


@pytest.mark.parametrize('case', CASES)
def test_request_matches_the_environ_translation(
        case: tuple[str, str, list[tuple[str, str]]]) -> None:
    exchange = AiohttpExchange(mocked(*case))
    got = exchange.request
    want = request_from_environ(exchange._build_environ())
    for name in FIELDS:
        assert getattr(got, name) == getattr(want, name), name
    assert got.websocket_opening == want.websocket_opening


def test_environ_is_built_on_first_read_only() -> None:
    request = mocked('GET', '/engine.io/?EIO=4', [('Host', 'a'),
                                                   ('X-Custom', '1')])
    exchange = AiohttpExchange(request)
    assert exchange._environ is None
    exchange.set_cors([('Access-Control-Allow-Origin', 'http://a')])
    environ = exchange.environ
    assert environ is exchange.environ
    assert environ['HTTP_X_CUSTOM'] == '1'
    assert environ['aiohttp.request'] is request
    assert isinstance(environ['wsgi.input'], AiohttpBody)
    assert environ['wsgi.input'] is exchange.body_input()
    assert environ['engineio.request'] is exchange.request
    assert environ['engineio.cors'] == exchange.cors
    assert exchange.request.native is environ


def test_hook_environ_is_small() -> None:
    request = mocked('POST', '/engine.io/?EIO=4&sid=x',
                     [('Content-Length', '5')])
    exchange = AiohttpExchange(request)
    exchange.set_cors([])
    environ = exchange.hook_environ()
    assert environ['engineio.request'] is exchange.request
    assert environ['engineio.cors'] == []
    assert environ['wsgi.input'] is exchange.body_input()
    assert environ['aiohttp.request'] is request
    assert environ['CONTENT_LENGTH'] == '5'
    assert environ['REQUEST_METHOD'] == 'POST'
    assert exchange._environ is None


@pytest.mark.parametrize('case', CASES)
def test_tornado_request_matches_the_environ_translation(
        case: tuple[str, str, list[tuple[str, str]]]) -> None:
    httputil = pytest.importorskip('tornado.httputil')
    from engineio.adapters.tornado import TornadoExchange

    method, uri, headers = case
    h = httputil.HTTPHeaders()
    if not any(name.lower() == 'host' for name, _ in headers):
        h.add('Host', 'localhost')  # tornado refuses a request without
    for name, value in headers:
        h.add(name, value)

    class Handler:
        request = httputil.HTTPServerRequest(
            start_line=httputil.RequestStartLine(method, uri, 'HTTP/1.1'),
            headers=h, body=b'')

    exchange = TornadoExchange(Handler())
    got = exchange.request
    want = request_from_environ(exchange._build_environ())
    for name in FIELDS:
        assert getattr(got, name) == getattr(want, name), name
    assert got.websocket_opening == want.websocket_opening
    assert exchange._environ is None
    assert exchange.environ['tornado.handler'] is exchange.handler
