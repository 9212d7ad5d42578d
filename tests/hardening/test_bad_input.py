"""Hostile and broken input against the running servers on a real socket:
the blocking server under Werkzeug and the asyncio server under uvicorn.

Each case checks the answer, then that a fresh client still connects and
echoes (nothing else was lost).  The expected answers are listed in
docs/limits.md.
"""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from support import start_server

COMMON = {'max_http_buffer_size': 10000, 'async_handlers': False}
SERVERS = {
    'werkzeug': ('werkzeug_server.py', {'async_mode': 'threading'}),
    'uvicorn': ('asgi_uvicorn.py', {'async_mode': 'asgi'}),
}


@pytest.fixture(scope='module', params=list(SERVERS))
def server_kind(request):
    return request.param


@pytest.fixture(scope='module')
def base(server_kind):
    script, options = SERVERS[server_kind]
    proc, port = start_server(script, dict(COMMON, **options))
    yield f'http://127.0.0.1:{port}', port, proc
    proc.stop()


def url(base_url, sid=None, transport='polling'):
    u = f'{base_url}/engine.io/?EIO=4&transport={transport}'
    return u + (f'&sid={sid}' if sid else '')


def open_session(base_url):
    r = requests.get(url(base_url), timeout=5)
    assert r.status_code == 200
    return json.loads(r.content[1:])['sid']


def healthy(base_url):
    sid = open_session(base_url)
    assert requests.post(url(base_url, sid), data=b'4ping-me',
                         timeout=5).content == b'ok'
    assert requests.get(url(base_url, sid), timeout=5).content == b'4ping-me'
    requests.post(url(base_url, sid), data=b'1', timeout=5)


def raw_request(port, data: bytes, timeout=5.0) -> bytes:
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b''.join(chunks)


@pytest.mark.parametrize('method', ['PUT', 'DELETE', 'PATCH'])
def test_other_methods(base, method):
    base_url, _, _ = base
    sid = open_session(base_url)
    r = requests.request(method, url(base_url, sid), data=b'4x', timeout=5)
    assert r.status_code == 400
    r = requests.request(method, url(base_url), timeout=5)
    assert r.status_code == 400 and r.json()['code'] == 2
    healthy(base_url)


def test_huge_query_string(base):
    base_url, _, _ = base
    r = requests.get(url(base_url) + '&junk=' + 'x' * 60000, timeout=10)
    assert r.status_code in (200, 400, 414, 431)
    healthy(base_url)


def test_unknown_packet_types_close_only_that_session(base):
    base_url, _, _ = base
    sid = open_session(base_url)
    r = requests.post(url(base_url, sid), data=b'8what', timeout=5)
    assert r.status_code == 400
    assert requests.get(url(base_url, sid), timeout=5).status_code == 400
    healthy(base_url)


def test_truncated_body(base):
    base_url, port, _ = base
    sid = open_session(base_url)
    # Announce 100 bytes, send 10, then hang up.
    req = (f'POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n'
           f'Host: 127.0.0.1\r\nContent-Length: 100\r\n\r\n4truncated').encode()
    with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
        s.sendall(req)
    time.sleep(0.2)
    healthy(base_url)


def test_content_length_over_limit(base):
    base_url, _, _ = base
    sid = open_session(base_url)
    r = requests.post(url(base_url, sid), data=b'4' + b'x' * 20000, timeout=5)
    assert r.status_code == 413
    healthy(base_url)


def test_overlapping_polls(base):
    import threading
    base_url, _, _ = base
    sid = open_session(base_url)
    first: list[requests.Response] = []
    t = threading.Thread(target=lambda: first.append(
        requests.get(url(base_url, sid), timeout=10)))
    t.start()
    time.sleep(0.3)
    second = requests.get(url(base_url, sid), timeout=5)
    t.join(10)
    assert second.status_code == 400
    assert first[0].status_code == 200 and first[0].content == b'1'
    assert requests.get(url(base_url, sid), timeout=5).status_code == 400
    healthy(base_url)


@pytest.mark.parametrize('headers', [
    # No Sec-WebSocket-Key.
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n',
    # Wrong version.
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n'
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
])
def test_bad_websocket_handshake(base, headers):
    base_url, port, _ = base
    req = ('GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n'
           f'Host: 127.0.0.1\r\n{headers}\r\n').encode()
    answer = raw_request(port, req, timeout=3)
    assert not answer.startswith(b'HTTP/1.1 101'), answer[:200]
    healthy(base_url)


def test_client_vanishes_mid_poll(base):
    base_url, port, _proc = base
    sid = open_session(base_url)
    req = (f'GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n'
           'Host: 127.0.0.1\r\n\r\n').encode()
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    s.sendall(req)
    time.sleep(0.1)
    s.close()
    healthy(base_url)


def test_garbage_on_the_socket(base):
    base_url, port, _ = base
    answer = raw_request(port, b'\x16\x03\x01\x00\xa5garbage\r\n\r\n', timeout=3)
    assert b'101' not in answer[:20]
    healthy(base_url)


def test_error_bodies_carry_no_exception_text(base):
    base_url, _, _ = base
    sid = open_session(base_url)
    r = requests.post(url(base_url, sid), data=b'\xff\xfe', timeout=5)
    assert r.status_code == 400
    assert b'Traceback' not in r.content and b'Error' not in r.content
    assert set(r.json()) == {'code', 'message'}


def test_slow_consumer_is_disconnected_at_the_buffer_limit(server_kind):
    script, options = SERVERS[server_kind]
    proc, port = start_server(script, dict(
        COMMON, **options, max_outgoing_buffer_size=1000))
    try:
        base_url = f'http://127.0.0.1:{port}'
        sid = open_session(base_url)
        # The client never polls while the app produces 500 messages.
        requests.post(url(base_url, sid), data=b'4__burst__:500', timeout=5)
        deadline = time.monotonic() + 5
        reasons = []
        while time.monotonic() < deadline and not reasons:
            reasons = [e['reason'] for e in proc.events('disconnect')
                       if e['sid'] == sid]
            time.sleep(0.05)
        assert reasons == ['transport error']
        assert requests.get(url(base_url, sid), timeout=5).status_code == 400
        healthy(base_url)
    finally:
        proc.stop()


def test_foreign_origin_refused_on_both_transports(base):
    import websocket
    base_url, _, _ = base
    host = base_url.split('://', 1)[1]
    r = requests.get(url(base_url), headers={'Origin': 'http://evil.example'},
                     timeout=5)
    assert r.status_code == 400
    ws_url = base_url.replace('http', 'ws', 1) + \
        '/engine.io/?EIO=4&transport=websocket'
    refused = False
    try:
        ws = websocket.create_connection(ws_url, timeout=5,
                                         origin='http://evil.example')
    except (websocket.WebSocketBadStatusException, ConnectionError, OSError):
        refused = True
    else:
        # An ASGI server that cannot answer a refused handshake with HTTP
        # closes the WebSocket before any Engine.IO packet.
        try:
            refused = not ws.recv()
        except (websocket.WebSocketException, OSError):
            refused = True
        ws.close()
    assert refused
    # The same origin is accepted on both.
    ws = websocket.create_connection(ws_url, timeout=5,
                                     origin=f'http://{host}')
    assert ws.recv().startswith('0{')
    ws.close()
    healthy(base_url)
