"""The AsyncServer API contract of the seeds: coroutines, helpers, sessions,
async_mode selection and the compatibility modules."""
from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys

import pytest

import engineio
from engineio.async_socket import AsyncSocket

POLL = 'EIO=4&transport=polling'


def test_coroutines_and_plain_methods():
    eio = engineio.AsyncServer(async_mode='asgi')
    for name in ('send', 'send_packet', 'get_session', 'save_session',
                 'disconnect', 'handle_request', 'shutdown', 'sleep'):
        assert inspect.iscoroutinefunction(getattr(eio, name)), name
    for name in ('start_background_task', 'create_queue', 'create_event',
                 'get_queue_empty_exception', 'generate_id', 'on',
                 'transport', 'attach', 'session'):
        assert not inspect.iscoroutinefunction(getattr(eio, name)), name
    for name in ('handle_get_request', 'handle_post_request', '_send_ping'):
        assert inspect.iscoroutinefunction(getattr(AsyncSocket, name)), name
    # Wrapped by python-socketio's admin like the others: it returns the
    # coroutine that runs the WebSocket (one frame less per session).
    socket = AsyncSocket('x', 'websocket', eio.core.config.heartbeat, 0.0,
                         server=eio)
    run = socket._websocket_handler(None)
    assert inspect.iscoroutine(run)
    run.close()
    assert eio.reason.PING_TIMEOUT == 'ping timeout'
    assert eio.async_mode == 'asgi'
    assert eio.is_asyncio_based()


def test_async_helpers():
    async def main():
        eio = engineio.AsyncServer(async_mode='asgi')
        assert isinstance(eio.create_queue(), asyncio.Queue)
        assert isinstance(eio.create_event(), asyncio.Event)
        assert eio.get_queue_empty_exception() is asyncio.QueueEmpty
        got = []

        async def coro(a, b=0):
            await eio.sleep(0)
            got.append(('coro', a, b))
            return 'c'

        def plain(a):
            got.append(('plain', a))
            return 'p'

        t1 = eio.start_background_task(coro, 1, b=2)
        t2 = eio.start_background_task(plain, 3)
        assert isinstance(t1, asyncio.Task) and isinstance(t2, asyncio.Task)
        assert await t1 == 'c' and await t2 == 'p'
        assert sorted(got) == [('coro', 1, 2), ('plain', 3)]
    asyncio.run(main())


def test_sessions_and_unknown_sids(asgi):
    async def main():
        eio = engineio.AsyncServer(async_mode='asgi')
        reasons = []
        eio.on('disconnect', lambda sid: reasons.append(sid))
        app = engineio.ASGIApp(eio)
        r = await asgi.http(app, query=POLL)
        sid = json.loads(r.body[1:])['sid']
        assert await eio.get_session(sid) == {}
        await eio.save_session(sid, {'user': 'ann'})
        async with eio.session(sid) as session:
            assert session == {'user': 'ann'}
            session['n'] = 1
        assert await eio.get_session(sid) == {'user': 'ann', 'n': 1}
        with pytest.raises(KeyError):
            await eio.get_session('nope')
        with pytest.raises(KeyError):
            eio.transport('nope')
        await eio.send('nope', 'x')  # logged, not raised
        await eio.send_packet(sid, engineio.packet.Packet(
            engineio.packet.MESSAGE, {'k': [1]}))
        r = await asgi.http(app, query=f'{POLL}&sid={sid}')
        assert r.body == b'4{"k":[1]}'
        await eio.disconnect(sid)
        await eio.disconnect(sid)  # once only
        assert reasons == [sid]  # a handler without the reason argument
        r = await asgi.http(app, query=f'{POLL}&sid={sid}')
        assert r.body == b'1'  # the client learns the close was deliberate
        await eio.shutdown()
        await eio.shutdown()
    asyncio.run(main())


def test_async_mode_selection():
    assert engineio.AsyncServer().async_mode == 'aiohttp'  # first installed
    for mode in ('aiohttp', 'sanic', 'tornado', 'asgi'):
        assert engineio.AsyncServer(async_mode=mode).async_mode == mode
    with pytest.raises(ValueError, match='Invalid async_mode'):
        engineio.AsyncServer(async_mode='eventlet')
    with pytest.raises(ValueError, match='attach'):
        engineio.AsyncServer(async_mode='asgi').attach(object())


def test_asgi_calls_work_whatever_the_mode(asgi):
    async def main():
        eio = engineio.AsyncServer()  # aiohttp, the first installed
        assert eio.async_mode == 'aiohttp'
        r = await asgi.http(engineio.ASGIApp(eio), query=POLL)
        assert r.status == 200 and r.body.startswith(b'0{"sid":"')
        await eio.shutdown()
    asyncio.run(main())


def test_refused_websocket_gets_an_http_answer_when_possible(asgi):
    # With the ASGI "websocket.http.response" extension (uvicorn has it) a
    # refused WebSocket gets the core's status and body, not just a close.
    async def main():
        app = engineio.ASGIApp(engineio.AsyncServer(async_mode='asgi'))
        sent = []
        inbox = [{'type': 'websocket.connect'}]

        async def receive():
            return inbox.pop(0)

        async def send(message):
            sent.append(message)

        scope = {'type': 'websocket', 'path': '/engine.io/', 'scheme': 'ws',
                 'query_string': b'EIO=4&transport=websocket&sid=nope',
                 'headers': [(b'host', b'testserver')],
                 'extensions': {'websocket.http.response': {}}}
        await asyncio.wait_for(app(scope, receive, send), 5)
        assert sent[0]['type'] == 'websocket.http.response.start'
        assert sent[0]['status'] == 400
        assert json.loads(sent[1]['body'])['code'] == 1
    asyncio.run(main())


def test_missing_frameworks():
    # Without the frameworks, the default falls back to asgi, asking for one
    # fails loudly, and get_tornado_handler is None.
    code = '''
import sys
for name in ('aiohttp', 'sanic', 'tornado'):
    sys.modules[name] = None
import engineio
assert engineio.get_tornado_handler(None) is None
assert engineio.AsyncServer().async_mode == 'asgi'
for mode in ('aiohttp', 'sanic', 'tornado'):
    try:
        engineio.AsyncServer(async_mode=mode)
    except ValueError as exc:
        assert 'not installed' in str(exc), exc
    else:
        raise AssertionError(mode)
import engineio.async_drivers.tornado
print('ok')
'''
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == 'ok', out.stderr


def test_compat_modules(asgi):
    from engineio.async_drivers import aiohttp as drv_aiohttp
    from engineio.async_drivers import asgi as drv_asgi
    from engineio.async_drivers import sanic as drv_sanic
    from engineio.async_drivers import tornado as drv_tornado

    assert drv_asgi.ASGIApp is engineio.ASGIApp
    assert drv_tornado.get_tornado_handler is engineio.get_tornado_handler
    assert callable(drv_aiohttp.translate_request)
    assert callable(drv_sanic.create_route)

    async def main():
        sent = []

        async def receive():
            return {'type': 'http.request', 'body': b'4hi', 'more_body': False}

        async def send(message):
            sent.append(message)

        scope = {'type': 'http', 'method': 'POST', 'path': '/socket.io/',
                 'query_string': b'EIO=4&transport=polling', 'scheme': 'http',
                 'headers': [(b'host', b'example.com'),
                             (b'authorization', b'Bearer t'),
                             (b'content-length', b'3')]}
        environ = await drv_asgi.translate_request(scope, receive, send)
        assert environ['HTTP_AUTHORIZATION'] == 'Bearer t'
        assert environ['CONTENT_LENGTH'] == '3'
        assert environ['QUERY_STRING'] == 'EIO=4&transport=polling'
        assert await environ['wsgi.input'].read() == b'4hi'
        await drv_asgi.make_response('200 OK', [('X-A', 'b')], b'ok', environ)
        assert sent[0]['status'] == 200 and sent[1]['body'] == b'ok'
    asyncio.run(main())
