"""Both clients against the official npm ``engine.io`` server.

Every scenario runs for the sync and the asyncio client; most also for the
three transport choices of ``connect()``: the default (polling, then the
WebSocket upgrade), WebSocket only and polling only.
"""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from client_harness import SyncHarness

import engineio
from engineio.exceptions import ConnectionError

pytestmark = pytest.mark.node

Make = Callable[..., SyncHarness]

EXPECTED_TRANSPORT = {None: 'websocket', ('websocket',): 'websocket',
                      ('polling',): 'polling'}


def expected_transport(transports: Any) -> str:
    return EXPECTED_TRANSPORT[tuple(transports) if transports else None]


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def test_connect_attributes(node: Any, make_client: Make,
                            transports: Any) -> None:
    c = make_client()
    c.connect(node.url, transports=transports)
    client = c.client
    assert client.state == 'connected'
    assert client.sid and client.transport() == expected_transport(transports)
    assert client.current_transport == client.transport()
    assert client.transports == (transports or ['polling', 'websocket'])
    assert client.ping_interval == 25 and client.ping_timeout == 20
    assert c.rec.connects == 1
    assert c.reply_to('__sid__') == f'sid:{client.sid}'
    if transports is None:
        node.proc.wait_for(f'"event":"upgrade","sid":"{client.sid}"', 5)
    with pytest.raises(ValueError):
        c.connect(node.url)  # already connected


def test_thousand_messages_each_way_in_order(node: Any, make_client: Make,
                                             transports: Any) -> None:
    c = make_client()
    c.connect(node.url, transports=transports)
    c.send('__burst__:1000')
    assert c.messages(1000) == [f's:{i}' for i in range(1000)]
    for i in range(1000):
        c.send(f'm{i}')
    assert c.messages(2000)[1000:] == [f'm{i}' for i in range(1000)]


def test_types_are_preserved(node: Any, make_client: Make,
                             transports: Any) -> None:
    c = make_client()
    c.connect(node.url, transports=transports)
    samples: list[Any] = [b'\x00\x01\xfe\xff', {'a': [1, 'b', None]},
                          [1, 2.5, True], 'plain text', 'ünïcødé ✓', '',
                          b'']
    for sample in samples:
        c.send(sample)
    assert c.messages(len(samples)) == samples
    sid = c.client.sid

    def binary_seen() -> int:
        return len([e for e in node.proc.events('message')
                    if e['sid'] == sid and e['type'] == 'binary'])

    # Bytes travel as binary messages, not as text (the server's log lines
    # may still be on their way through its stdout pipe).
    deadline = time.monotonic() + 5
    while binary_seen() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert binary_seen() == 2


def test_client_disconnect(node: Any, make_client: Make,
                           transports: Any) -> None:
    c = make_client()
    c.connect(node.url, transports=transports)
    sid = c.client.sid
    c.disconnect()
    # Deliberate closes report 'disconnecting' while the handler runs.
    assert c.rec.disconnects == [('client disconnect', 'disconnecting')]
    assert c.client.state == 'disconnected' and c.client.sid is None
    node.proc.wait_for(f'"event":"close","sid":"{sid}"', 5)
    c.wait()  # returns at once
    c.disconnect()  # a second call is harmless
    assert len(c.rec.disconnects) == 1


def test_disconnect_with_custom_reason_and_legacy_handler(
        node: Any, make_client: Make) -> None:
    c = make_client()
    calls: list[str] = []
    c.on('disconnect', lambda: calls.append('legacy'))
    c.connect(node.url)
    c.disconnect(reason='going away')
    assert calls == ['legacy']
    c2 = make_client()
    c2.connect(node.url)
    c2.disconnect(reason='going away')
    assert c2.rec.disconnects == [('going away', 'disconnecting')]


def test_server_disconnect(node: Any, make_client: Make,
                           transports: Any) -> None:
    c = make_client()
    c.connect(node.url, transports=transports)
    c.send('__close__')
    reason, state = c.disconnected()
    c.wait()
    assert c.client.state == 'disconnected'
    if expected_transport(transports) == 'polling':
        # The server's close packet: a deliberate close.
        assert (reason, state) == ('server disconnect', 'disconnecting')
    else:
        # The official server closes a WebSocket without a close packet,
        # which cannot be told apart from a server going away: reported as
        # a transport error (python-socketio reconnects), as python-engineio
        # and the JS client ("transport close") do.
        assert (reason, state) == ('transport error', 'connected')
    assert len(c.rec.disconnects) == 1


def test_dead_server_is_detected(node_fast: Any, make_client: Make,
                                 transports: Any) -> None:
    c = make_client()
    c.connect(node_fast.url, transports=transports)
    assert c.reply_to('__stop_pings__') == 'stopped_pings'
    t0 = time.monotonic()
    reason, state = c.disconnected(timeout=5)
    elapsed = time.monotonic() - t0
    # No ping within pingInterval + pingTimeout (0.7 s) of the last one;
    # the state is still 'connected' so python-socketio would reconnect.
    assert (reason, state) == ('transport error', 'connected')
    assert elapsed < 0.7 + 0.5
    c.wait()
    assert c.client.state == 'disconnected'


def test_heartbeat_keeps_the_connection_alive(node_fast: Any,
                                              make_client: Make,
                                              transports: Any) -> None:
    c = make_client()
    c.connect(node_fast.url, transports=transports)
    time.sleep(0.9)  # longer than pingInterval + pingTimeout
    assert c.client.state == 'connected' and not c.rec.disconnects
    assert c.reply_to('still here') == 'still here'


def test_headers_and_query_reach_the_server(node: Any, make_client: Make,
                                            transports: Any) -> None:
    c = make_client()
    c.connect(node.url + '/ignored/path?token=a%20b&lang=en',
              headers={'X-Token': 'secret', 'User-Agent': 'eio-test'},
              transports=transports)
    headers = json.loads(c.reply_to('__headers__')[len('headers:'):])
    assert headers['x-token'] == 'secret'
    assert headers['user-agent'] == 'eio-test'
    query = json.loads(c.reply_to('__query__')[len('query:'):])
    assert query['token'] == 'a b' and query['lang'] == 'en'
    assert query['EIO'] == '4'
    first = (transports or ['polling'])[0]
    assert query['transport'] == first
    assert ('t' in query) == (first == 'polling')


def test_no_timestamp(node: Any, make_client: Make) -> None:
    c = make_client(timestamp_requests=False)
    c.connect(node.url, transports=['polling'])
    query = json.loads(c.reply_to('__query__')[len('query:'):])
    assert 't' not in query


def test_connection_refused(make_client: Make, transports: Any) -> None:
    c = make_client(request_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(ConnectionError):
        c.connect(f'http://127.0.0.1:{free_port()}', transports=transports)
    assert time.monotonic() - t0 < 2
    assert c.client.state == 'disconnected'
    assert c.rec.connects == 0 and not c.rec.disconnects
    c.wait()  # nothing to wait for
    c.disconnect()  # nothing to disconnect


def test_unresponsive_server_times_out(make_client: Make) -> None:
    with socket.socket() as listener:
        # Accepts TCP connections (the backlog) but never answers.
        listener.bind(('127.0.0.1', 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        c = make_client(request_timeout=0.5)
        t0 = time.monotonic()
        with pytest.raises(ConnectionError):
            c.connect(f'http://127.0.0.1:{port}')
        assert time.monotonic() - t0 < 2


def test_http_error_carries_the_json_body(node_factory: Any,
                                          make_client: Make) -> None:
    server = node_factory('--transports', 'websocket')
    c = make_client()
    with pytest.raises(ConnectionError) as info:
        c.connect(server.url, transports=['polling'])
    assert 'status code 400' in info.value.args[0]
    assert info.value.args[1] == {'code': 0, 'message': 'Transport unknown'}
    assert c.client.state == 'disconnected'
    c.connect(server.url, transports=['websocket'])
    assert c.client.transport() == 'websocket'


def test_wrong_path_is_a_connection_error(node: Any,
                                          make_client: Make) -> None:
    c = make_client()
    with pytest.raises(ConnectionError) as info:
        c.connect(node.url, engineio_path='nope')
    assert len(info.value.args) == 1  # the 404 body is not JSON


def test_connect_handler_error_fails_connect(node: Any,
                                             make_client: Make) -> None:
    c = make_client()
    sids: list[str] = []

    def boom() -> None:
        sids.append(c.client.sid)
        raise RuntimeError('no thanks')

    c.on('connect', boom)
    with pytest.raises(ConnectionError, match='no thanks'):
        c.connect(node.url)
    assert c.client.state == 'disconnected'
    assert not c.rec.disconnects
    # The session was closed on the server.
    node.proc.wait_for(f'"event":"close","sid":"{sids[0]}"', 5)


def test_no_upgrade_when_server_offers_none(node_factory: Any,
                                            make_client: Make) -> None:
    server = node_factory('--allow-upgrades', 'false')
    c = make_client()
    c.connect(server.url)
    assert c.client.transport() == 'polling' and c.client.upgrades == []
    assert c.reply_to('hi') == 'hi'


def test_polling_batches_respect_max_payload(node_factory: Any,
                                             make_client: Make) -> None:
    server = node_factory('--max-payload', '300')
    c = make_client()
    c.connect(server.url, transports=['polling'])
    sent = [f'{i:03d}' + 'x' * 40 for i in range(60)]  # 2.6 kB in all
    for message in sent:
        c.send(message)
    # One POST of everything would be refused (413): the client splits.
    assert c.messages(60) == sent
    assert c.client.state == 'connected'


def test_disconnect_from_message_handler(node: Any, make_client: Make,
                                         transports: Any) -> None:
    c = make_client()
    client = c.client
    if c.kind == 'sync':
        c.on('message', lambda data: client.disconnect(abort=True))
    else:
        async def on_message(data: Any) -> None:
            # python-socketio does this on a namespace disconnect
            await client.disconnect(abort=True)
        c.on('message', on_message)
    c.connect(node.url, transports=transports)
    c.send('bye')
    assert c.disconnected() == ('client disconnect', 'disconnecting')
    c.wait()
    assert client.state == 'disconnected'


def test_send_while_disconnected_is_dropped(node: Any,
                                            make_client: Make) -> None:
    c = make_client()
    c.send('nobody listens')
    c.connect(node.url)
    c.disconnect()
    c.send('too late')
    assert c.rec.messages == []


def test_reconnect_after_transport_error(node_fast: Any,
                                         make_client: Make) -> None:
    """The python-socketio pattern: reconnect once the transport error was
    reported (the engine.io client is 'disconnected' again by then)."""
    c = make_client()
    c.connect(node_fast.url)
    first = c.client.sid
    c.send('__stop_pings__')
    assert c.disconnected(timeout=5)[0] == 'transport error'
    c.wait()
    c.connect(node_fast.url)
    assert c.client.sid != first and c.reply_to('again') == 'again'


def test_invalid_arguments() -> None:
    client = engineio.Client(handle_sigint=False)
    with pytest.raises(ValueError):
        client.connect('http://127.0.0.1:1', transports=['carrier-pigeon'])
    with pytest.raises(ValueError):
        client.on('bogus')
    assert client.state == 'disconnected' and client.sid is None
    assert client.transport() is None
    assert engineio.Client.reason.TRANSPORT_ERROR == 'transport error'
    assert engineio.AsyncClient.reason.SERVER_DISCONNECT == \
        'server disconnect'
    assert engineio.Client.reason.CLIENT_DISCONNECT == 'client disconnect'


@pytest.mark.parametrize('transports', [['polling'], ['websocket']],
                         ids=['polling', 'websocket'])
def test_http_session_cookies_reach_the_server(node: Any, make_client: Make,
                                               transports: Any) -> None:
    """Cookies of the application's HTTP session (a load balancer's sticky
    cookie, say) go on WebSocket handshakes too; a session factory works."""
    if make_client().kind == 'sync':
        import requests

        session = requests.Session()
        session.cookies.set('sticky', 'node-7')
        c = make_client(http_session=session)
    else:
        import aiohttp

        def factory() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(cookies={'sticky': 'node-7'})

        c = make_client(http_session=factory)
    c.connect(node.url, transports=transports)
    headers = json.loads(c.reply_to('__headers__')[len('headers:'):])
    assert 'sticky=node-7' in headers.get('cookie', '')
    c.disconnect()
    if c.kind == 'async':
        # The session made by the factory belonged to the connection.
        assert c.client._conn.http is None


def test_application_session_is_not_closed(node: Any) -> None:
    import asyncio

    import aiohttp

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            client = engineio.AsyncClient(http_session=session,
                                          handle_sigint=False)
            await client.connect(node.url)
            await client.disconnect()
            assert not session.closed
            await client.connect(node.url, transports=['polling'])
            await client.disconnect()
            assert not session.closed

    asyncio.run(main())
