"""Options beyond python-engineio (off by default): allow_request,
initial_packet and the connection_error event."""
from __future__ import annotations

import json
import queue

import requests

import engineio

from support import handshake, poll_url, ws_connect


def test_defaults_change_nothing():
    eio = engineio.Server(async_mode='threading')
    assert eio.allow_request is None and eio.initial_packet is None


def test_allow_request(serve):
    seen = []

    def allow(environ):
        seen.append(environ['QUERY_STRING'])
        token = environ.get('HTTP_X_TOKEN')
        if token == 'good':
            return True
        return 'bad token' if token else False

    eio = engineio.Server(async_mode='threading', allow_request=allow)
    errors: queue.Queue = queue.Queue()
    eio.on('connection_error', lambda err, environ: errors.put(err))
    s = serve(eio)
    r = requests.get(poll_url(s.url), headers={'X-Token': 'nope'}, timeout=5)
    assert r.status_code == 403
    assert r.json() == {'code': 4, 'message': 'bad token'}
    assert errors.get(timeout=2).code == 4
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 403 and r.json()['message'] == 'Forbidden'
    assert handshake(s.url, headers={'X-Token': 'good'})[0] in eio.sockets
    # Only handshakes are checked: requests of a session are not.
    sid = handshake(s.url, headers={'X-Token': 'good'})[0]
    n = len(seen)
    requests.post(poll_url(s.url, sid), data=b'4x', timeout=5)
    assert len(seen) == n


def test_allow_request_exception_refuses(serve):
    def allow(environ):
        raise RuntimeError('hook broke')

    s = serve(engineio.Server(async_mode='threading', allow_request=allow))
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 403 and b'hook broke' not in r.content


def test_initial_packet_polling_and_websocket(serve):
    eio = engineio.Server(async_mode='threading',
                          initial_packet={'welcome': True})
    eio.on('connect', lambda sid, environ: eio.send(sid, 'from connect'))
    s = serve(eio)
    _, r = handshake(s.url)
    frames = r.content.split(b'\x1e')
    assert frames[0].startswith(b'0{')
    assert frames[1:] == [b'4{"welcome":true}', b'4from connect']
    ws = ws_connect(s.url)
    assert ws.recv().startswith('0{')
    assert ws.recv() == '4{"welcome":true}'
    assert ws.recv() == '4from connect'
    ws.close()


def test_connection_error_reports(serve):
    eio = engineio.Server(async_mode='threading')
    errors: queue.Queue = queue.Queue()

    @eio.on('connection_error')
    def on_error(error, environ):
        errors.put((error.code, error.message, error.detail,
                    environ['REQUEST_METHOD']))

    s = serve(eio)
    base = f'{s.url}/engine.io/'
    requests.get(base + '?EIO=4&transport=carrier', timeout=5)
    requests.get(base + '?EIO=3&transport=polling', timeout=5)
    requests.get(base + '?EIO=4&transport=polling&sid=zzz', timeout=5)
    requests.post(base + '?EIO=4&transport=polling', data=b'4', timeout=5)
    requests.get(base + '?EIO=4&transport=websocket', timeout=5)
    got = [errors.get(timeout=2) for _ in range(5)]
    assert [g[0] for g in got] == [0, 5, 1, 2, 3]
    assert got[0][1] == 'Transport unknown' and 'carrier' in got[0][2]
    assert got[3][3] == 'POST'
    assert errors.empty()


def test_official_client_sees_the_refusal_and_initial_packet(serve, node_peers):
    from support import node_client
    eio = engineio.Server(async_mode='threading',
                          allow_request=lambda environ: 'no thanks')
    s = serve(eio)
    result = node_client(s.url, 'handshake', 'polling', timeout_ms=5000)
    assert not result['ok']
    assert '403' in json.dumps(result)
