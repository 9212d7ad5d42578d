"""Request validation in the server core: every refusal and its status."""
from __future__ import annotations

import json

import pytest

from engineio.sansio.models import Request
from engineio.sansio.server import Action, ServerConfig, ServerCore


def route(method='GET', core=None, websocket=False, origin=None, host=None,
          **query):
    core = core or ServerCore(ServerConfig())
    return core.route(Request(method, query, websocket=websocket,
                              origin=origin, host=host), 0.0)


@pytest.mark.parametrize('query,code', [
    ({'transport': 'polling'}, 5),
    ({'EIO': '3', 'transport': 'polling'}, 5),
    ({'EIO': '5', 'transport': 'polling'}, 5),
    ({'EIO': '4'}, 0),
    ({'EIO': '4', 'transport': 'foo'}, 0),
    ({'EIO': '4', 'transport': 'polling', 'sid': 'nope'}, 1),
    ({'EIO': '4', 'transport': 'websocket'}, 3),
])
def test_refusals(query, code):
    r = route(**query)
    assert r.action is Action.REPLY
    assert r.response.status == 400
    assert json.loads(r.response.body)['code'] == code
    assert r.error


def test_handshake_must_be_a_get():
    r = route('POST', EIO='4', transport='polling')
    assert r.response.status == 400
    assert json.loads(r.response.body) == {'code': 2,
                                           'message': 'Bad handshake method'}


def test_transport_not_allowed_by_option():
    core = ServerCore(ServerConfig(transports=['websocket']))
    r = route(core=core, EIO='4', transport='polling')
    assert json.loads(r.response.body)['code'] == 0
    r = route(core=core, EIO='4', transport='websocket', websocket=True)
    assert r.action is Action.HANDSHAKE


def test_invalid_transport_option():
    with pytest.raises(ValueError):
        ServerConfig(transports=['carrier-pigeon'])


@pytest.mark.parametrize('allowed,origin,ok', [
    (None, 'http://example.com', True),        # same origin as host
    (None, 'http://evil.com', False),
    (None, 'https://example.com', False),      # scheme differs
    ('*', 'http://evil.com', True),
    (['*'], 'http://evil.com', True),
    ('http://a.com', 'http://a.com', True),
    ('http://a.com', 'http://b.com', False),
    (['http://a.com', 'http://b.com'], 'http://b.com', True),
    (['http://a.com'], 'http://c.com', False),
    (lambda origin, environ: origin.endswith('.ok'), 'http://x.ok', True),
    (lambda origin, environ: origin.endswith('.ok'), 'http://x.no', False),
    ([], 'http://anything', True),
])
def test_cors(allowed, origin, ok):
    core = ServerCore(ServerConfig(cors_allowed_origins=allowed))
    r = route(core=core, origin=origin, host='example.com', EIO='4',
              transport='polling')
    if ok:
        assert r.action is Action.HANDSHAKE
        if allowed != []:
            assert ('Access-Control-Allow-Origin', origin) in r.headers
            assert ('Access-Control-Allow-Credentials', 'true') in r.headers
        else:
            assert r.headers == []
    else:
        assert r.response.status == 400


def test_no_origin_header_is_not_restricted():
    r = route(EIO='4', transport='polling')
    assert r.action is Action.HANDSHAKE and r.headers == []


def test_credentials_header_follows_option():
    core = ServerCore(ServerConfig(cors_allowed_origins='*',
                                   cors_credentials=False))
    r = route(core=core, origin='http://x', EIO='4', transport='polling')
    assert ('Access-Control-Allow-Credentials', 'true') not in r.headers


def test_preflight():
    core = ServerCore(ServerConfig(cors_allowed_origins='*'))
    r = core.route(Request('OPTIONS', {}, origin='http://x',
                           access_control_request_headers='X-Y'), 0.0)
    assert r.action is Action.REPLY and r.response.status == 200
    headers = dict(r.response.headers)
    assert headers['Access-Control-Allow-Origin'] == 'http://x'
    assert headers['Access-Control-Allow-Headers'] == 'X-Y'
    assert 'GET' in headers['Access-Control-Allow-Methods']


@pytest.mark.parametrize('cookie,expected', [
    ('io', 'io=SID; Path=/; SameSite=Lax; HttpOnly'),
    ({'name': 'c', 'path': '/x', 'secure': True, 'httponly': False},
     'c=SID; Path=/x; Secure'),
    ({'name': 'c', 'max-age': lambda: 60}, 'c=SID; Max-Age=60'),
])
def test_cookie(cookie, expected):
    core = ServerCore(ServerConfig(cookie=cookie))
    assert core.cookie_header('SID') == ('Set-Cookie', expected)


def test_no_cookie_by_default():
    assert ServerCore(ServerConfig()).cookie_header('SID') is None


def test_compression():
    import gzip
    import zlib
    core = ServerCore(ServerConfig(compression_threshold=10))
    big = ['4' + 'x' * 100]
    r = core.payload_response(big, Request('GET', {},
                                           accept_encoding='gzip, deflate'), [])
    assert ('Content-Encoding', 'gzip') in r.headers
    assert gzip.decompress(r.body) == ('4' + 'x' * 100).encode()
    r = core.payload_response(big, Request('GET', {}, accept_encoding='deflate'),
                              [])
    assert zlib.decompress(r.body) == ('4' + 'x' * 100).encode()
    r = core.payload_response(['4x'], Request('GET', {}, accept_encoding='gzip'),
                              [])
    assert r.body == b'4x'
    off = ServerCore(ServerConfig(http_compression=False,
                                  compression_threshold=0))
    r = off.payload_response(big, Request('GET', {}, accept_encoding='gzip'), [])
    assert r.body == ('4' + 'x' * 100).encode()


def test_reject_bodies():
    core = ServerCore(ServerConfig())
    s = core.open_session('a', 'polling', 0.0)
    r = core.reject(s, False, [])
    assert r.status == 401 and json.loads(r.body) == {'message': 'Unauthorized'}
    assert 'a' not in core.sessions
    s = core.open_session('b', 'polling', 0.0)
    r = core.reject(s, {'reason': 'nope'}, [])
    assert r.status == 401 and json.loads(r.body) == {'reason': 'nope'}


@pytest.mark.parametrize('sid', ['AbC-_9', 'with "quote', 'é\\x', ''])
@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_open_frame_is_the_json_of_the_handshake(sid, transport):
    config = ServerConfig(ping_interval=7, ping_timeout=3,
                          max_http_buffer_size=123)
    core = ServerCore(config)
    session = core.open_session(sid, transport, 0.0)
    for _ in range(2):  # the second one comes from the cached tail
        frame = core.open_frame(session)
        assert frame[0] == '0'
        assert json.loads(frame[1:]) == {
            'sid': sid,
            'upgrades': ['websocket'] if transport == 'polling' else [],
            'pingInterval': 7000, 'pingTimeout': 3000, 'maxPayload': 123}
    # Settings changed after start are announced to the next sessions.
    config.ping_interval = 9
    assert json.loads(core.open_frame(session)[1:])['pingInterval'] == 9000
