"""The AsyncServer driver through ASGIApp, in process: handshakes, polling,
WebSocket, upgrade, heartbeat, limits and handler dispatch."""
from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import engineio

POLL = 'EIO=4&transport=polling'
WS = 'EIO=4&transport=websocket'


def make(handlers: str = 'async', **kwargs: Any) -> tuple[Any, Any, dict]:
    """An echo server; ``log`` records connects and disconnect reasons."""
    eio = engineio.AsyncServer(async_mode='asgi', **kwargs)
    log: dict[str, Any] = {'connect': [], 'disconnect': [], 'environ': None}

    @eio.on('connect')
    def connect(sid, environ):
        log['connect'].append(sid)
        log['environ'] = environ

    @eio.on('disconnect')
    async def disconnect(sid, reason):
        log['disconnect'].append((sid, reason))

    if handlers == 'async':
        @eio.on('message')
        async def message(sid, data):
            if data == '__close__':
                await eio.disconnect(sid)
                return
            await eio.send(sid, data)
    return eio, engineio.ASGIApp(eio), log


async def handshake(asgi, app) -> str:
    r = await asgi.http(app, query=POLL)
    assert r.status == 200, r.body
    return json.loads(r.body[1:])['sid']


def test_polling_handshake_and_echo(asgi):
    async def main():
        eio, app, log = make(ping_interval=7, ping_timeout=3)
        r = await asgi.http(app, query=POLL)
        assert r.status == 200
        assert r.headers['content-type'] == 'text/plain; charset=UTF-8'
        assert r.headers['content-length'] == str(len(r.body))
        info = json.loads(r.body[1:])
        assert info['upgrades'] == ['websocket']
        assert (info['pingInterval'], info['pingTimeout']) == (7000, 3000)
        sid = info['sid']
        assert log['connect'] == [sid]
        q = f'{POLL}&sid={sid}'
        r = await asgi.http(app, 'POST', query=q, body=b'4hello\x1ebAAEC')
        assert (r.status, r.body) == (200, b'ok')
        r = await asgi.http(app, query=q)
        assert r.body == b'4hello\x1ebAAEC'
        assert eio.transport(sid) == 'polling'
        r = await asgi.http(app, 'POST', query=q, body=b'1')
        assert r.status == 200
        assert log['disconnect'] == [(sid, 'client disconnect')]
        await eio.shutdown()
    asgi.run(main())


def test_connect_handler_gets_a_wsgi_style_environ(asgi):
    async def main():
        eio, app, log = make()
        await asgi.http(app, query=POLL + '&token=abc',
                        headers=[('x-custom', 'yes'), ('x-custom', 'again')])
        env = log['environ']
        assert env['REQUEST_METHOD'] == 'GET'
        assert env['PATH_INFO'] == '/engine.io/'
        assert 'token=abc' in env['QUERY_STRING']
        assert env['HTTP_HOST'] == 'testserver'
        assert env['HTTP_X_CUSTOM'] == 'yes,again'
        assert env['REMOTE_ADDR'] == '127.0.0.1'
        assert env['asgi.scope']['type'] == 'http'
        await eio.shutdown()
    asgi.run(main())


def test_connect_rejected(asgi):
    async def main():
        eio = engineio.AsyncServer(async_mode='asgi')

        @eio.on('connect')
        async def connect(sid, environ):
            return {'why': 'no'}

        app = engineio.ASGIApp(eio)
        r = await asgi.http(app, query=POLL)
        assert (r.status, r.json()) == (401, {'why': 'no'})
        peer = asgi.WSPeer(app, query=WS)
        assert await peer.recv() is None  # refused before the accept
        assert not peer.accepted
        await peer.finish()
        assert eio.sockets == {}
    asgi.run(main())


def test_refusals_come_from_the_core(asgi):
    async def main():
        eio, app, _ = make()
        r = await asgi.http(app, query='EIO=3&transport=polling')
        assert (r.status, r.json()['code']) == (400, 5)
        r = await asgi.http(app, query=POLL + '&sid=nope')
        assert (r.status, r.json()['code']) == (400, 1)
        # Same-origin check: scheme and Host come from the ASGI scope.
        r = await asgi.http(app, query=POLL,
                            headers=[('origin', 'http://testserver')])
        assert r.status == 200
        r = await asgi.http(app, query=POLL,
                            headers=[('origin', 'http://evil.example')])
        assert r.status == 400
        await eio.shutdown()
    asgi.run(main())


def test_polling_body_limit(asgi):
    async def main():
        _eio, app, log = make(max_http_buffer_size=100)
        sid = await handshake(asgi, app)
        r = await asgi.http(app, 'POST', query=f'{POLL}&sid={sid}',
                            body=b'4' + b'x' * 200)
        assert r.status == 413
        assert log['disconnect'] == [(sid, 'transport error')]
    asgi.run(main())


def test_websocket_echo_and_close(asgi):
    async def main():
        eio, app, log = make()
        peer = asgi.WSPeer(app, query=WS)
        open_packet = await peer.recv()
        sid = json.loads(open_packet[1:])['sid']
        assert json.loads(open_packet[1:])['upgrades'] == []
        peer.send('4hello')
        assert await peer.recv() == '4hello'
        peer.send(b'\x00\x01')
        assert await peer.recv() == b'\x00\x01'
        peer.send('4{"a":1}')
        assert json.loads((await peer.recv())[1:]) == {'a': 1}
        assert eio.transport(sid) == 'websocket'
        peer.send('1')
        assert await peer.recv() is None
        await peer.finish()
        assert log['disconnect'] == [(sid, 'client disconnect')]
        peer = asgi.WSPeer(app, query=WS)
        sid = json.loads((await peer.recv())[1:])['sid']
        peer.disconnect()
        await peer.finish()
        await asgi.eventually(lambda: len(log['disconnect']) == 2)
        assert log['disconnect'][1] == (sid, 'transport close')
        await eio.shutdown()
    asgi.run(main())


def test_server_disconnect_flushes_a_close_packet(asgi):
    async def main():
        eio, app, log = make()
        peer = asgi.WSPeer(app, query=WS)
        sid = json.loads((await peer.recv())[1:])['sid']
        peer.send('4__close__')
        assert await peer.recv() == '1'
        assert await peer.recv() is None
        await peer.finish()
        assert log['disconnect'] == [(sid, 'server disconnect')]
        assert eio.sockets == {}
    asgi.run(main())


def test_websocket_message_limit(asgi):
    async def main():
        _eio, app, log = make(max_http_buffer_size=100)
        peer = asgi.WSPeer(app, query=WS)
        sid = json.loads((await peer.recv())[1:])['sid']
        peer.send('4' + 'é' * 40)  # 81 bytes: fine
        assert await peer.recv() == '4' + 'é' * 40
        peer.send('4' + 'é' * 60)  # 60 characters but 121 bytes: too big
        assert await peer.recv() is None
        assert peer.close_code == 1009
        await peer.finish()
        assert log['disconnect'] == [(sid, 'transport error')]
    asgi.run(main())


def test_upgrade_from_polling(asgi):
    async def main():
        eio, app, _log = make()
        sid = await handshake(asgi, app)
        q = f'{POLL}&sid={sid}'
        poll = asyncio.ensure_future(asgi.http(app, query=q))
        await asyncio.sleep(0.05)
        assert not poll.done()  # long-polling: waits for output
        peer = asgi.WSPeer(app, query=f'{WS}&sid={sid}')
        peer.send('2probe')
        assert await peer.recv() == '3probe'
        assert (await poll).body == b'6'  # the pending poll is released
        peer.send('5')
        await asgi.eventually(lambda: eio.transport(sid) == 'websocket')
        peer.send('4after')
        assert await peer.recv() == '4after'
        r = await asgi.http(app, query=q)
        assert r.status == 400  # polling is over for this session
        peer.disconnect()
        await peer.finish()
        await eio.shutdown()
    asgi.run(main())


def test_ping_timeout_and_pong(asgi):
    async def main():
        eio, app, log = make(ping_interval=0.1, ping_timeout=0.2)
        quiet = asgi.WSPeer(app, query=WS)
        quiet_sid = json.loads((await quiet.recv())[1:])['sid']
        alive = asgi.WSPeer(app, query=WS)
        alive_sid = json.loads((await alive.recv())[1:])['sid']
        assert await quiet.recv() == '2'  # v4 heartbeat: the server pings
        for _ in range(4):
            assert await alive.recv() == '2'
            alive.send('3')
        await asgi.eventually(lambda: log['disconnect'])
        assert log['disconnect'] == [(quiet_sid, 'ping timeout')]
        assert alive_sid in eio.sockets
        await eio.disconnect()
        assert eio.sockets == {}
        await eio.shutdown()
    asgi.run(main())


def test_polling_ping_timeout(asgi):
    async def main():
        eio, app, log = make(ping_interval=0.1, ping_timeout=0.1)
        sid = await handshake(asgi, app)
        r = await asgi.http(app, query=f'{POLL}&sid={sid}')
        assert r.body == b'2'
        await asgi.eventually(lambda: log['disconnect'])
        assert log['disconnect'] == [(sid, 'ping timeout')]
        await eio.shutdown()
    asgi.run(main())


def ordered_server(async_handlers: bool, kind: str) -> tuple[Any, Any, list]:
    eio = engineio.AsyncServer(async_mode='asgi',
                               async_handlers=async_handlers)
    seen: list[Any] = []
    if kind == 'coroutine':
        @eio.on('message')
        async def message(sid, data):
            # Handlers that suspend for different times must still see and
            # answer the messages of one client in order.
            await asyncio.sleep(random.random() / 500)
            seen.append(data)
            await eio.send(sid, data)
    else:
        @eio.on('message')
        def message(sid, data):
            seen.append(data)

    @eio.on('disconnect')
    def disconnect(sid, reason):
        seen.append(('disconnect', reason))

    return eio, engineio.ASGIApp(eio), seen


def test_handlers_keep_order(asgi):
    async def main():
        for async_handlers in (True, False):
            for kind in ('coroutine', 'function'):
                eio, app, seen = ordered_server(async_handlers, kind)
                peer = asgi.WSPeer(app, query=WS)
                await peer.recv()
                for i in range(50):
                    peer.send(f'4m{i}')
                if kind == 'coroutine':
                    for i in range(50):
                        assert await peer.recv() == f'4m{i}'
                peer.send('1')
                await asgi.eventually(lambda s=seen: len(s) == 51)
                assert seen == [f'm{i}' for i in range(50)] + [
                    ('disconnect', 'client disconnect')], (async_handlers, kind)
                await peer.finish()
                await eio.shutdown()
    asgi.run(main())


def test_handler_errors_are_contained(asgi):
    async def main():
        eio = engineio.AsyncServer(async_mode='asgi')
        calls = []

        @eio.on('message')
        async def message(sid, data):
            calls.append(data)
            if data == 'bad':
                raise RuntimeError('handler bug')
            await eio.send(sid, data)

        app = engineio.ASGIApp(eio)
        peer = asgi.WSPeer(app, query=WS)
        await peer.recv()
        peer.send('4bad')
        peer.send('4good')
        assert await peer.recv() == '4good'
        assert calls == ['bad', 'good']
        peer.disconnect()
        await peer.finish()
        await eio.shutdown()
    asgi.run(main())


def test_allow_request_and_connection_error(asgi):
    async def main():
        refused = []

        async def allow(environ):
            token = environ['QUERY_STRING'].rpartition('token=')[2]
            return True if token == 'good' else (
                'bad token' if token else False)

        eio = engineio.AsyncServer(async_mode='asgi', allow_request=allow)
        eio.on('connection_error',
               lambda error, environ: refused.append(
                   (error.code, error.detail, environ['PATH_INFO'])))
        app = engineio.ASGIApp(eio)
        assert (await asgi.http(app, query=POLL + '&token=good')).status == 200
        r = await asgi.http(app, query=POLL + '&token=bad')
        assert (r.status, r.json()) == (403, {'code': 4, 'message': 'bad token'})
        r = await asgi.http(app, query=POLL)
        assert r.status == 403
        r = await asgi.http(app, query='EIO=9&transport=polling')
        assert r.status == 400
        assert [c for c, _, _ in refused] == [4, 4, 5]
        assert 'bad token' in refused[0][1]
        assert refused[0][2] == '/engine.io/'
        # A plain-function hook works too, and a failing one refuses.
        eio.allow_request = lambda environ: 1 / 0
        assert (await asgi.http(app, query=POLL)).status == 403
        await eio.shutdown()
    asgi.run(main())


def test_initial_packet(asgi):
    async def main():
        eio, app, _ = make(initial_packet={'hello': 1})
        r = await asgi.http(app, query=POLL)
        assert r.body.split(b'\x1e')[1] == b'4{"hello":1}'
        peer = asgi.WSPeer(app, query=WS)
        assert (await peer.recv())[0] == '0'
        assert await peer.recv() == '4{"hello":1}'
        peer.disconnect()
        await peer.finish()
        await eio.shutdown()
    asgi.run(main())


def test_outgoing_buffer_limit(asgi):
    async def main():
        eio, app, log = make(max_outgoing_buffer_size=100)
        sid = await handshake(asgi, app)
        for _ in range(5):
            await eio.send(sid, 'x' * 30)  # nobody polls: it piles up
        assert log['disconnect'] == [(sid, 'transport error')]
        await eio.shutdown()
    asgi.run(main())
