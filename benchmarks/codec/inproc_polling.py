"""In-process long-polling round trips: the Engine.IO layer's own cost.

Drives ``engineio.ASGIApp`` (asyncio) or ``engineio.WSGIApp`` (blocking,
threading mode) with fake requests, no network and no web server: each
round trip is a POST carrying a message, which the ``message`` handler
echoes with ``send()``, then the GET that collects the echo.  Handlers run
inline (``async_handlers=False``), so the figure is CPU time of this
process only.  Prints one JSON object.

    python inproc_polling.py [--server async|sync] [--rounds 20000]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import time


def wsgi_environ(method: str, query: str, body: bytes = b'') -> dict:
    return {'REQUEST_METHOD': method, 'PATH_INFO': '/engine.io/',
            'QUERY_STRING': query, 'SERVER_NAME': '127.0.0.1',
            'SERVER_PORT': '8000', 'HTTP_HOST': '127.0.0.1:8000',
            'REMOTE_ADDR': '127.0.0.1', 'wsgi.url_scheme': 'http',
            'wsgi.input': io.BytesIO(body), 'CONTENT_LENGTH': str(len(body)),
            'CONTENT_TYPE': 'text/plain;charset=UTF-8'}


def run_sync(rounds: int) -> float:
    import engineio
    eio = engineio.Server(async_mode='threading', async_handlers=False)
    eio.on('message', lambda sid, data: eio.send(sid, data))
    app = engineio.WSGIApp(eio)

    def call(method: str, query: str, body: bytes = b'') -> bytes:
        out = app(wsgi_environ(method, query, body), lambda *a: None)
        return b''.join(out)

    opening = json.loads(call('GET', 'EIO=4&transport=polling')[1:])
    q = f'EIO=4&transport=polling&sid={opening["sid"]}'

    def loop(n: int) -> None:
        for _ in range(n):
            call('POST', q, b'4hello')
            assert call('GET', q) == b'4hello'

    loop(min(rounds, 500))
    c0 = time.process_time()
    loop(rounds)
    c1 = time.process_time()
    eio.shutdown()
    return 1e6 * (c1 - c0) / rounds


async def run_async(rounds: int) -> float:
    import engineio
    eio = engineio.AsyncServer(async_mode='asgi', async_handlers=False)

    @eio.on('message')
    async def message(sid, data):
        await eio.send(sid, data)

    app = engineio.ASGIApp(eio)

    async def call(method: str, query: str, body: bytes = b'') -> bytes:
        scope = {'type': 'http', 'asgi': {'version': '3.0'},
                 'http_version': '1.1', 'method': method, 'scheme': 'http',
                 'path': '/engine.io/', 'raw_path': b'/engine.io/',
                 'root_path': '', 'query_string': query.encode(),
                 'headers': [(b'host', b'127.0.0.1:8000'),
                             (b'content-length', str(len(body)).encode())],
                 'server': ('127.0.0.1', 8000), 'client': ('127.0.0.1', 9999)}
        chunks: list[bytes] = []

        async def receive() -> dict:
            return {'type': 'http.request', 'body': body, 'more_body': False}

        async def send(m: dict) -> None:
            if m['type'] == 'http.response.body':
                chunks.append(m.get('body', b''))

        await app(scope, receive, send)
        return b''.join(chunks)

    opening = json.loads((await call('GET', 'EIO=4&transport=polling'))[1:])
    q = f'EIO=4&transport=polling&sid={opening["sid"]}'

    async def loop(n: int) -> None:
        for _ in range(n):
            await call('POST', q, b'4hello')
            assert await call('GET', q) == b'4hello'

    await loop(min(rounds, 500))
    c0 = time.process_time()
    await loop(rounds)
    c1 = time.process_time()
    await eio.shutdown()
    return 1e6 * (c1 - c0) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--server', default='async', choices=['async', 'sync'])
    parser.add_argument('--rounds', type=int, default=20_000)
    args = parser.parse_args()
    us = run_sync(args.rounds) if args.server == 'sync' \
        else asyncio.run(run_async(args.rounds))
    import engineio
    print(json.dumps({'server': args.server, 'engineio': engineio.__file__,
                      'rounds': args.rounds, 'cpu_us_per_round_trip': us}))


if __name__ == '__main__':
    main()
