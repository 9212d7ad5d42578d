"""The blocking Server's public API over real sockets on 127.0.0.1."""
from __future__ import annotations

import gzip
import json
import queue
import time

import pytest
import requests

import engineio
from engineio.exceptions import EngineIOError

from support import handshake, poll_url, ws_connect


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_connect_rejections(serve):
    eio = engineio.Server(async_mode='threading')
    answers = iter([False, {'why': 'banned'}, 'nope', True, None])
    eio.on('connect', lambda sid, environ: next(answers))
    s = serve(eio)
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 401
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 401 and r.json() == {'why': 'banned'}
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 401 and r.json() == 'nope'
    assert handshake(s.url)[0]
    assert handshake(s.url)[0]
    assert len(eio.sockets) == 2


def test_connect_handler_exception_rejects(serve):
    eio = engineio.Server(async_mode='threading')

    @eio.on('connect')
    def connect(sid, environ):
        raise RuntimeError('boom')

    s = serve(eio)
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 401
    assert b'boom' not in r.content
    assert not eio.sockets


def test_environ_reaches_connect_and_custom_query(serve):
    eio = engineio.Server(async_mode='threading')
    seen = {}

    @eio.on('connect')
    def connect(sid, environ):
        seen['qs'] = environ['QUERY_STRING']
        seen['hdr'] = environ.get('HTTP_X_TOKEN')

    s = serve(eio)
    requests.get(poll_url(s.url) + '&token=abc', headers={'X-Token': 't1'},
                 timeout=5)
    assert 'token=abc' in seen['qs'] and seen['hdr'] == 't1'


def test_disconnect_handler_with_and_without_reason(serve):
    eio = engineio.Server(async_mode='threading', async_handlers=False)
    got: queue.Queue = queue.Queue()
    eio.on('disconnect', lambda sid: got.put(('noarg', sid)))
    s = serve(eio)
    sid, _ = handshake(s.url)
    requests.post(poll_url(s.url, sid), data=b'1', timeout=5)
    assert got.get(timeout=5) == ('noarg', sid)
    eio.on('disconnect', lambda sid, reason: got.put((reason, sid)))
    sid, _ = handshake(s.url)
    eio.disconnect(sid)
    assert got.get(timeout=5) == (eio.reason.SERVER_DISCONNECT, sid)


def test_sessions_transport_and_send_packet(serve):
    eio = engineio.Server(async_mode='threading')
    s = serve(eio)
    sid, _ = handshake(s.url)
    assert eio.transport(sid) == 'polling'
    assert eio.get_session(sid) == {}
    eio.save_session(sid, {'user': 'ann'})
    with eio.session(sid) as session:
        assert session['user'] == 'ann'
        session['n'] = 1
    assert eio.get_session(sid) == {'user': 'ann', 'n': 1}
    eio.send(sid, {'a': [1, 2]})
    eio.send(sid, b'\x00\x01')
    eio.send_packet(sid, engineio.packet.Packet(engineio.packet.MESSAGE, 'raw'))
    r = requests.get(poll_url(s.url, sid), timeout=5)
    assert r.content == b'4{"a":[1,2]}\x1ebAAE=\x1e4raw'
    eio.send('no-such-sid', 'x')  # logged, not raised
    with pytest.raises(KeyError):
        eio.get_session('no-such-sid')
    with pytest.raises(KeyError):
        eio.transport('no-such-sid')


def test_disconnect_all(serve):
    eio = engineio.Server(async_mode='threading')
    s = serve(eio)
    sids = [handshake(s.url)[0] for _ in range(3)]
    assert set(eio.sockets) == set(sids)
    eio.disconnect()
    assert not eio.sockets
    for sid in sids:
        assert requests.get(poll_url(s.url, sid), timeout=5).content == b'1'


def test_message_handler_exception_keeps_the_session(serve):
    eio = engineio.Server(async_mode='threading')

    @eio.on('message')
    def message(sid, data):
        if data == 'boom':
            raise ValueError('boom')
        eio.send(sid, data)

    s = serve(eio)
    sid, _ = handshake(s.url)
    requests.post(poll_url(s.url, sid), data=b'4boom\x1e4after', timeout=5)
    assert requests.get(poll_url(s.url, sid), timeout=5).content == b'4after'
    assert sid in eio.sockets


def test_cookie_and_compression(serve):
    eio = engineio.Server(async_mode='threading', cookie='io',
                          compression_threshold=100)
    eio.on('connect', lambda sid, environ: eio.send(sid, 'x' * 500))
    s = serve(eio)
    r = requests.get(poll_url(s.url), headers={'Accept-Encoding': 'gzip'},
                     timeout=5, stream=True)
    raw = r.raw.read()
    assert r.headers['Content-Encoding'] == 'gzip'
    body = gzip.decompress(raw)
    sid = json.loads(body[1:].split(b'\x1e')[0])['sid']
    assert body.endswith(b'\x1e4' + b'x' * 500)
    assert r.headers['Set-Cookie'] == f'io={sid}; Path=/; SameSite=Lax; HttpOnly'


def test_websocket_message_size_limit(serve):
    eio = engineio.Server(async_mode='threading', max_http_buffer_size=100)
    reasons: queue.Queue = queue.Queue()
    eio.on('disconnect', lambda sid, reason: reasons.put(reason))
    eio.on('message', lambda sid, data: eio.send(sid, data))
    s = serve(eio)
    ws = ws_connect(s.url)
    assert ws.recv().startswith('0{')
    ws.send('4' + 'y' * 50)
    assert ws.recv() == '4' + 'y' * 50
    ws.send('4' + 'z' * 500)
    assert reasons.get(timeout=5) == eio.reason.TRANSPORT_ERROR
    ws.close()
    # Other sessions are not affected.
    sid, _ = handshake(s.url)
    assert sid in eio.sockets


def test_raw_upgrade_sequence(serve):
    eio = engineio.Server(async_mode='threading')
    eio.on('message', lambda sid, data: eio.send(sid, data))
    s = serve(eio)
    sid, _ = handshake(s.url)
    ws = ws_connect(s.url, sid)
    ws.send('2probe')
    assert ws.recv() == '3probe'
    # A poll during the probe is released with a noop.
    assert requests.get(poll_url(s.url, sid), timeout=5).content == b'6'
    eio.send(sid, 'queued before upgrade')
    ws.send('5')
    assert ws.recv() == '4queued before upgrade'
    assert eio.transport(sid) == 'websocket'
    ws.send('4over ws')
    assert ws.recv() == '4over ws'
    r = requests.get(poll_url(s.url, sid), timeout=5)
    assert r.status_code == 400
    # A second WebSocket for an upgraded sid is accepted, then closed.
    second = ws_connect(s.url, sid)
    assert second.recv() == ''  # the close frame
    assert eio.transport(sid) == 'websocket'
    ws.send('4still')
    assert ws.recv() == '4still'
    ws.close()
    assert wait_until(lambda: sid not in eio.sockets)


def test_background_helpers():
    eio = engineio.Server(async_mode='threading')
    q = eio.create_queue()
    ev = eio.create_event()
    task = eio.start_background_task(lambda: (q.put(1), ev.set()))
    task.join(5)
    assert q.get(timeout=1) == 1 and ev.is_set()
    with pytest.raises(eio.get_queue_empty_exception()):
        q.get(timeout=0.01)
    t0 = time.monotonic()
    eio.sleep(0.05)
    assert time.monotonic() - t0 >= 0.04
    assert len(eio.generate_id()) == 20
    assert eio.generate_id() != eio.generate_id()


def test_invalid_options():
    with pytest.raises(ValueError):
        engineio.Server(async_mode='carrier-pigeon')
    with pytest.raises(ValueError):
        engineio.Server(async_mode='threading', transports=['smoke'])
    with pytest.raises(ValueError):
        engineio.Server(async_mode='threading').on('bogus')
    assert issubclass(engineio.exceptions.ContentTooLongError, EngineIOError)


def test_transports_option_websocket_only(serve):
    eio = engineio.Server(async_mode='threading', transports=['websocket'])
    s = serve(eio)
    r = requests.get(poll_url(s.url), timeout=5)
    assert r.status_code == 400 and r.json()['code'] == 0
    ws = ws_connect(s.url)
    assert json.loads(ws.recv()[1:])['upgrades'] == []
    ws.close()


def test_allow_upgrades_off(serve):
    eio = engineio.Server(async_mode='threading', allow_upgrades=False)
    s = serve(eio)
    sid, r = handshake(s.url)
    assert json.loads(r.content[1:])['upgrades'] == []
    # A client that tries anyway: the WebSocket is closed after its
    # handshake, and the session stays on polling.
    ws = ws_connect(s.url, sid)
    assert ws.recv() == ''
    assert eio.transport(sid) == 'polling'
