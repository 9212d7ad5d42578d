"""The cluster's bus protocol and routing, without sockets."""
from __future__ import annotations

import pytest

from engineio.sansio import cluster as proto
from engineio.sansio.models import Request, Response
from engineio.sansio.server import Action, ServerConfig, ServerCore


def test_sid_carries_its_owner() -> None:
    sid = proto.make_sid('Ab3dE_', 'x' * 16)
    assert len(sid) == proto.SID_LENGTH == 20
    assert proto.owner_tag(sid) == 'Ab3dE_'
    # Ids of another length were not made by a node of a cluster.
    assert proto.owner_tag('short') is None
    assert proto.owner_tag('x' * 21) is None


@pytest.mark.parametrize('body', [b'', b'4hello\x1e4w', bytes(range(256))])
def test_messages_round_trip(body: bytes) -> None:
    msg = proto.Message(proto.REQUEST, 42, {'from': 'node01', 'q': 'a=\n'},
                        body)
    back = proto.decode(msg.encode())
    assert (back.kind, back.id, back.sender, back.body) == \
        (proto.REQUEST, 42, 'node01', body)
    assert back.header['q'] == 'a=\n'  # a newline in a value stays escaped


@pytest.mark.parametrize('data', [b'', b'no header line', b'[1,2]\n',
                                  b'{"t":"req"}\n', b'{"id":1}\n',
                                  b'{"t":"req","id":"1"}\n'])
def test_bad_messages_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        proto.decode(data)


def test_forwarded_request_round_trip() -> None:
    environ = {'REQUEST_METHOD': 'POST', 'QUERY_STRING': 'EIO=4&sid=x',
               'HTTP_ORIGIN': 'http://a.example', 'CONTENT_TYPE': 'text/plain',
               'HTTP_COOKIE': 'io=1', 'HTTP_X_SECRET': 'not forwarded',
               'wsgi.url_scheme': 'https', 'REMOTE_ADDR': '10.0.0.7'}
    req = proto.environ_request(environ, b'4hi')
    msg = proto.request_message(7, 'node01', 'x', req)
    back = proto.forwarded_request(proto.decode(msg.encode()))
    assert back == req
    assert back.header('origin') == 'http://a.example'
    assert back.header('x-secret') is None
    env = proto.forwarded_environ(back)
    assert (env['REQUEST_METHOD'], env['QUERY_STRING'], env['HTTP_ORIGIN'],
            env['CONTENT_TYPE'], env['wsgi.url_scheme'], env['REMOTE_ADDR']) \
        == ('POST', 'EIO=4&sid=x', 'http://a.example', 'text/plain', 'https',
            '10.0.0.7')
    scope = proto.forwarded_scope(back)
    assert scope['type'] == 'http' and scope['query_string'] == b'EIO=4&sid=x'
    assert (b'origin', b'http://a.example') in scope['headers']
    ws_scope = proto.forwarded_scope(proto.environ_request(environ,
                                                          websocket=True))
    assert ws_scope['type'] == 'websocket'
    assert 'websocket.http.response' in ws_scope['extensions']


def test_malformed_forwarded_request() -> None:
    with pytest.raises(ValueError):
        proto.forwarded_request(proto.Message(proto.REQUEST, 1, {'m': 'GET'}))


def test_responses_and_frames_round_trip() -> None:
    response = Response(200, [('Content-Type', 'text/plain')], b'4x')
    msg = proto.decode(proto.response_message(3, response).encode())
    assert proto.response_of(msg) == response
    for frame in ('4text', b'\x00\xffbinary'):
        for to_owner in (True, False):
            m = proto.decode(proto.frame_message(9, 'n', frame,
                                                 to_owner).encode())
            assert m.kind == (proto.FRAME if to_owner else proto.FRAME_BACK)
            assert proto.frame_of(m) == frame
    assert proto.decode(proto.close_message(9, 'n', False).encode()).kind \
        == proto.CLOSE_BACK
    # A relay's encoder gives the same bytes as building each message.
    for to_owner in (True, False):
        encode = proto.frame_encoder(9, 'n', to_owner)
        for frame in ('4text', '', b'\x00\xff', b''):
            assert encode(frame) == \
                proto.frame_message(9, 'n', frame, to_owner).encode()


def test_forwarder_answers() -> None:
    cors = [('Access-Control-Allow-Origin', 'http://a.example')]
    gone = proto.owner_gone(cors)
    assert gone.status == 400 and gone.body == \
        b'{"code":1,"message":"Session ID unknown"}'
    assert cors[0] in gone.headers
    assert proto.bus_unavailable(cors).status == 503
    assert proto.owner_silent(cors).status == 504
    # A held poll may wait for the owner's next ping and its timeout.
    assert proto.forward_timeout('GET', False, 25, 20) == 50
    assert proto.forward_timeout('POST', False, 25, 20) == 10
    assert proto.forward_timeout('GET', True, 25, 20) == 10


def _request(sid: str, method: str = 'GET') -> Request:
    return Request(method, {'EIO': '4', 'transport': 'polling', 'sid': sid})


def test_core_forwards_sessions_of_other_nodes() -> None:
    core = ServerCore(ServerConfig())
    core.node = 'node01'
    route = core.route(_request('node02' + 'x' * 14), 0.0)
    assert route.action is Action.FORWARD and route.owner == 'node02'
    post = core.route(_request('node02' + 'x' * 14, 'POST'), 0.0)
    assert post.action is Action.FORWARD
    # Its own tag, or an id no node made: unknown here, as without a
    # cluster.
    for sid in ('node01' + 'x' * 14, 'plain'):
        route = core.route(_request(sid), 0.0)
        assert route.action is Action.REPLY
        assert route.response is not None and route.response.status == 400


def test_core_without_cluster_never_forwards() -> None:
    core = ServerCore(ServerConfig())
    route = core.route(_request('node02' + 'x' * 14), 0.0)
    assert route.action is Action.REPLY


def test_bad_requests_are_refused_before_forwarding() -> None:
    core = ServerCore(ServerConfig())
    core.node = 'node01'
    req = Request('GET', {'EIO': '3', 'transport': 'polling',
                          'sid': 'node02' + 'x' * 14})
    assert core.route(req, 0.0).action is Action.REPLY
