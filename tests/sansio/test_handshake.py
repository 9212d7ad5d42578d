"""The WebSocket opening request check (RFC 6455 section 4.2.1) and its use
by the router: a bad request is refused before it gets a session."""
from __future__ import annotations

import base64
import json

import pytest

from engineio.sansio.handshake import check_websocket_opening
from engineio.sansio.models import Request, WebSocketOpening
from engineio.sansio.server import Action, ServerConfig, ServerCore
from engineio.sansio.session import POLLING, WEBSOCKET

GOOD_KEY = base64.b64encode(bytes(range(16))).decode()


def opening(method: str = 'GET', *, sid: str | None = None,
            websocket: bool = True, host: str | None = 'example.com',
            connection: str | None = 'Upgrade', key: str | None = GOOD_KEY,
            version: str | None = '13') -> Request:
    query = {'EIO': '4', 'transport': WEBSOCKET}
    if sid is not None:
        query['sid'] = sid
    return Request(method, query, host=host, websocket=websocket,
                   websocket_opening=WebSocketOpening(connection, key,
                                                      version))


@pytest.mark.parametrize('kw', [
    {},
    {'connection': 'keep-alive, Upgrade'},
    {'connection': 'upgrade'},
    {'key': f' {GOOD_KEY} '},
    {'key': base64.b64encode(b'\xff' * 16).decode()},  # + and /
    {'version': ' 13'},
])
def test_valid_openings_pass(kw):
    assert check_websocket_opening(opening(**kw)) is None


@pytest.mark.parametrize('kw, words', [
    ({'key': 'short'}, 'Sec-WebSocket-Key'),
    ({'key': '@' * 22 + '=='}, 'Sec-WebSocket-Key'),
    ({'key': base64.b64encode(b'k' * 15).decode()}, 'Sec-WebSocket-Key'),
    ({'key': base64.b64encode(b'k' * 17).decode()}, 'Sec-WebSocket-Key'),
    ({'key': GOOD_KEY[:-2]}, 'Sec-WebSocket-Key'),  # no padding
    ({'key': ''}, 'Sec-WebSocket-Key'),
    ({'key': None}, 'Sec-WebSocket-Key'),
    ({'version': '99'}, 'Sec-WebSocket-Version'),
    ({'version': '8'}, 'Sec-WebSocket-Version'),
    ({'version': '13, 8'}, 'Sec-WebSocket-Version'),
    ({'version': None}, 'Sec-WebSocket-Version'),
    ({'connection': None}, 'Connection: Upgrade'),
    ({'connection': 'keep-alive'}, 'Connection: Upgrade'),
    ({'connection': 'upgrades'}, 'Connection: Upgrade'),
    ({'websocket': False}, 'Upgrade: websocket'),
    ({'host': None}, 'Host'),
    ({'method': 'POST'}, 'method'),
])
def test_bad_openings_are_refused(kw, words):
    bad = check_websocket_opening(opening(**kw))
    assert bad is not None
    assert words in bad.detail
    assert bad.bad_method == ('method' in kw)
    if words == 'Sec-WebSocket-Version':
        assert bad.headers == [('Sec-WebSocket-Version', '13')]
    else:
        assert bad.headers == []


def test_a_long_header_is_cut_in_the_detail():
    bad = check_websocket_opening(opening(key='x' * 10_000))
    assert bad is not None
    assert len(bad.detail) < 200


def test_nothing_to_check_without_opening_headers():
    # The web server answered the handshake itself (an ASGI websocket
    # scope): it has its 101 already.
    req = Request('GET', {'EIO': '4', 'transport': WEBSOCKET},
                  websocket=True)
    assert check_websocket_opening(req) is None


def refused(route):
    assert route.action is Action.REPLY
    assert route.response.status == 400
    return json.loads(route.response.body)['code']


def test_bad_handshake_is_refused_before_a_session():
    core = ServerCore(ServerConfig())
    route = core.route(opening(key='short'), 1.0)
    assert refused(route) == 3
    assert 'Sec-WebSocket-Key' in route.error
    assert route.refusal.detail == route.error
    assert core.sessions == {}
    route = core.route(opening('POST'), 1.0)
    assert refused(route) == 2  # a bad handshake method, as for polling
    assert core.sessions == {}


def test_version_refusal_names_the_version_spoken():
    core = ServerCore(ServerConfig(cors_allowed_origins='*'))
    req = opening(version='99')
    req.origin = 'http://elsewhere'
    route = core.route(req, 1.0)
    assert refused(route) == 3
    assert ('Sec-WebSocket-Version', '13') in route.response.headers
    # CORS headers stay those of the request, the version goes only into
    # this response.
    assert ('Sec-WebSocket-Version', '13') not in route.headers
    assert all(h in route.response.headers for h in route.headers)


def test_bad_upgrade_leaves_the_session_alone():
    core = ServerCore(ServerConfig())
    session = core.open_session('s1', POLLING, 1.0)
    core.accept(session, 1.0)
    before = (session.transport, session.upgrade, session.closed)
    for kw in ({'key': None}, {'version': '99'}, {'connection': None},
               {'method': 'POST'}):
        assert refused(core.route(opening(sid='s1', **kw), 2.0)) == 3
        assert (session.transport, session.upgrade, session.closed) == before
    assert core.route(opening(sid='s1'), 2.0).action is Action.UPGRADE


def test_valid_handshake_still_routes():
    core = ServerCore(ServerConfig())
    route = core.route(opening(), 1.0)
    assert route.action is Action.HANDSHAKE
    assert route.transport == WEBSOCKET
