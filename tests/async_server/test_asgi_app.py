"""ASGIApp routing and lifespan, driven with hand-written ASGI callables."""
from __future__ import annotations

import asyncio
from typing import Any

import engineio


def make_eio(**kwargs: Any) -> engineio.AsyncServer:
    return engineio.AsyncServer(async_mode='asgi', **kwargs)


async def other_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A host application that answers every HTTP request itself."""
    if scope['type'] == 'lifespan':
        while True:
            message = await receive()
            await send({'type': message['type'] + '.complete'})
            if message['type'] == 'lifespan.shutdown':
                return
    if scope['type'] == 'websocket':
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': 'other'})
        await send({'type': 'websocket.close', 'code': 1000})
        return
    await send({'type': 'http.response.start', 'status': 200,
                'headers': [(b'content-type', b'text/plain')]})
    await send({'type': 'http.response.body',
                'body': f'other {scope["path"]}'.encode()})


async def lifespan(app: Any, *events: str) -> list[dict[str, Any]]:
    inbox = [{'type': f'lifespan.{e}'} for e in events]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        await asyncio.sleep(10)  # never reached: the app returns first
        return {}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app({'type': 'lifespan', 'asgi': {}}, receive,
                               send), 5)
    return sent


def test_engineio_path_goes_to_server(asgi):
    async def main():
        app = engineio.ASGIApp(make_eio(), other_app)
        r = await asgi.http(app, query='EIO=4&transport=polling')
        assert r.status == 200 and r.body.startswith(b'0{"sid":"')
        r = await asgi.http(app, path='/engine.io',
                            query='EIO=4&transport=polling')
        assert r.status == 200 and r.body.startswith(b'0{"sid":"')
        r = await asgi.http(app, path='/elsewhere')
        assert (r.status, r.body) == (200, b'other /elsewhere')
    asgi.run(main())


def test_custom_and_none_engineio_path(asgi):
    async def main():
        app = engineio.ASGIApp(make_eio(), engineio_path='/my/path/')
        r = await asgi.http(app, path='/my/path/',
                            query='EIO=4&transport=polling')
        assert r.status == 200
        r = await asgi.http(app, query='EIO=4&transport=polling')
        assert (r.status, r.body) == (404, b'Not Found')
        everything = engineio.ASGIApp(make_eio(), other_app,
                                      engineio_path=None)
        r = await asgi.http(everything, path='/any/where',
                            query='EIO=4&transport=polling')
        assert r.body.startswith(b'0{"sid":"')
    asgi.run(main())


def test_mounted_under_a_root_path(asgi):
    # Starlette's Mount keeps the full path and adds root_path; the endpoint
    # must be found relative to the mount point.
    async def main():
        app = engineio.ASGIApp(make_eio())
        r = await asgi.http(app, path='/mnt/engine.io/', root_path='/mnt',
                            query='EIO=4&transport=polling')
        assert r.body.startswith(b'0{"sid":"')
        r = await asgi.http(app, path='/mnt/other', root_path='/mnt')
        assert r.status == 404
    asgi.run(main())


def test_not_found_without_other_app(asgi):
    async def main():
        app = engineio.ASGIApp(make_eio())
        r = await asgi.http(app, path='/nothing')
        assert (r.status, r.body) == (404, b'Not Found')
        peer = asgi.WSPeer(app, path='/nothing')
        assert await peer.recv() is None
        assert not peer.accepted
        await peer.finish()
    asgi.run(main())


def test_websocket_forwarded_to_other_app(asgi):
    async def main():
        app = engineio.ASGIApp(make_eio(), other_app)
        peer = asgi.WSPeer(app, path='/chat')
        assert await peer.recv() == 'other'
        assert await peer.recv() is None
        await peer.finish()
    asgi.run(main())


def test_static_files(asgi, tmp_path):
    (tmp_path / 'index.html').write_text('<h1>home</h1>')
    (tmp_path / 'pub').mkdir()
    (tmp_path / 'pub' / 'app.js').write_text('alert(1)')
    static = {'/index.html': str(tmp_path / 'index.html'),
              '/static': str(tmp_path / 'pub'),
              '/gone': str(tmp_path / 'missing.txt')}

    async def main():
        app = engineio.ASGIApp(make_eio(), other_app, static_files=static)
        r = await asgi.http(app, path='/index.html')
        assert (r.status, r.body) == (200, b'<h1>home</h1>')
        assert r.headers['content-type'] == 'text/html'
        assert r.headers['content-length'] == str(len(r.body))
        r = await asgi.http(app, path='/static/app.js')
        assert (r.status, r.body) == (200, b'alert(1)')
        assert r.headers['content-type'] == 'text/javascript'
        # A rule that matched a missing file answers 404 (as WSGIApp does).
        assert (await asgi.http(app, path='/gone')).status == 404
        # Leaving the directory is no static file: the other app gets it.
        r = await asgi.http(app, path='/static/../x')
        assert r.body == b'other /static/../x'
        r = await asgi.http(app, path='/api')
        assert r.body == b'other /api'
    asgi.run(main())


def test_lifespan_hooks_sync_and_async(asgi):
    calls: list[str] = []

    async def start() -> None:
        calls.append('start')

    def stop() -> None:
        calls.append('stop')

    async def main():
        app = engineio.ASGIApp(make_eio(), other_app, on_startup=start,
                               on_shutdown=stop)
        sent = await lifespan(app, 'startup', 'shutdown')
        assert [m['type'] for m in sent] == ['lifespan.startup.complete',
                                             'lifespan.shutdown.complete']
        assert calls == ['start', 'stop']
    asgi.run(main())


def test_lifespan_failures_are_reported(asgi):
    def boom() -> None:
        raise RuntimeError('no database')

    async def main():
        sent = await lifespan(engineio.ASGIApp(make_eio(), on_startup=boom),
                              'startup')
        assert sent[0]['type'] == 'lifespan.startup.failed'
        assert 'no database' in sent[0]['message']
        sent = await lifespan(engineio.ASGIApp(make_eio(), on_shutdown=boom),
                              'startup', 'shutdown')
        assert [m['type'] for m in sent] == ['lifespan.startup.complete',
                                             'lifespan.shutdown.failed']
    asgi.run(main())


def test_lifespan_goes_to_other_app_without_hooks(asgi):
    seen: list[str] = []

    async def host(scope, receive, send):
        seen.append(scope['type'])
        await other_app(scope, receive, send)

    async def main():
        sent = await lifespan(engineio.ASGIApp(make_eio(), host),
                              'startup', 'shutdown')
        assert seen == ['lifespan']
        assert [m['type'] for m in sent] == ['lifespan.startup.complete',
                                             'lifespan.shutdown.complete']
        # Alone, the app completes lifespan itself.
        sent = await lifespan(engineio.ASGIApp(make_eio()),
                              'startup', 'shutdown')
        assert [m['type'] for m in sent] == ['lifespan.startup.complete',
                                             'lifespan.shutdown.complete']
    asgi.run(main())


def test_lifespan_shutdown_stops_the_server(asgi):
    async def main():
        eio = make_eio()
        app = engineio.ASGIApp(eio)
        await asgi.http(app, query='EIO=4&transport=polling')
        assert eio._service_task is not None
        await lifespan(app, 'startup', 'shutdown')
        assert eio._service_task is None
    asgi.run(main())
