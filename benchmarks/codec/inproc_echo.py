"""In-process echo: the Engine.IO layer's own cost per WebSocket message.

Drives ``engineio.ASGIApp`` (this project's or python-engineio's: the
interpreter decides) with fake ASGI ``receive``/``send`` callables backed by
asyncio queues, on uvloop, with no network and no web server.  Each of
``--conns`` sessions sends a message, waits for its echo, and repeats.  The
same plumbing around a bare ASGI echo app gives the floor, so

    engine.io layer cost = CPU per message (eio) - CPU per message (bare)

is measured without the kernel, uvicorn or the machine's noise (it is CPU
time of this process only).  Prints one JSON object.

    python inproc_echo.py [--conns 50] [--messages 200000] [--payload text16]
                          [--app eio|bare] [--cprofile FILE] [--patch eager,direct]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

OPEN = ('0{"sid":"bare","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')


async def bare_app(scope, receive, send):
    await receive()
    await send({'type': 'websocket.accept'})
    await send({'type': 'websocket.send', 'text': OPEN})
    while True:
        message = await receive()
        if message['type'] != 'websocket.receive':
            return
        text = message.get('text')
        if text is not None:
            await send({'type': 'websocket.send', 'text': text})
        else:
            await send({'type': 'websocket.send', 'bytes': message['bytes']})


def eio_app(patch: str = ''):
    import engineio
    if patch:
        sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parents[1]))
        from experiments import fastpath
        fastpath.apply(patch)
    eio = engineio.AsyncServer(async_mode='asgi')

    @eio.on('message')
    async def message(sid, data):
        await eio.send(sid, data)

    return engineio.ASGIApp(eio), eio


async def session(app, i: int, count: int, message: dict) -> None:
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    scope = {
        'type': 'websocket', 'asgi': {'version': '3.0'}, 'scheme': 'ws',
        'http_version': '1.1', 'path': '/engine.io/', 'raw_path': b'/engine.io/',
        'root_path': '', 'query_string': b'EIO=4&transport=websocket',
        'headers': [(b'host', b'127.0.0.1:8000'), (b'upgrade', b'websocket'),
                    (b'connection', b'Upgrade')],
        'server': ('127.0.0.1', 8000), 'client': ('127.0.0.1', 10000 + i),
        'subprotocols': [], 'extensions': {},
    }
    inbox.put_nowait({'type': 'websocket.connect'})

    async def send(m):
        outbox.put_nowait(m)

    task = asyncio.ensure_future(app(scope, inbox.get, send))
    accept = await outbox.get()
    assert accept['type'] == 'websocket.accept', accept
    opening = await outbox.get()
    assert opening.get('text', '')[:1] == '0', opening
    put = inbox.put_nowait
    get = outbox.get
    for _ in range(count):
        put(message)
        while True:
            out = await get()
            text = out.get('text')
            if text is None or text[:1] == '4':
                break  # the echo (pings and noops are skipped)
    put({'type': 'websocket.disconnect', 'code': 1000})
    await asyncio.wait_for(task, 10)


async def main_async(args) -> dict:
    if args.app == 'bare':
        app = bare_app
        version = 'bare'
    else:
        app, _ = eio_app(args.patch)
        import engineio
        version = f'{getattr(engineio, "__version__", "?")} {engineio.__file__}'
    if args.payload == 'text16':
        message = {'type': 'websocket.receive', 'text': '4abcdefghijklmnop'}
    elif args.payload == 'text1k':
        message = {'type': 'websocket.receive', 'text': '4' + 'x' * 1024}
    else:
        message = {'type': 'websocket.receive', 'bytes': b'0123456789abcdef'}
    per = max(1, args.messages // args.conns)
    # Warm-up, then the measured run.
    await asyncio.gather(*(session(app, i, min(per, 200), message)
                           for i in range(args.conns)))
    profiler = None
    if args.cprofile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(session(app, i, per, message)
                           for i in range(args.conns)))
    c1, w1 = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    total = per * args.conns
    return {'app': args.app, 'engineio': version, 'patch': args.patch, 'conns': args.conns,
            'payload': args.payload, 'messages': total,
            'cpu_us_per_msg': 1e6 * (c1 - c0) / total,
            'wall_us_per_msg': 1e6 * (w1 - w0) / total}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--conns', type=int, default=50)
    parser.add_argument('--messages', type=int, default=200_000)
    parser.add_argument('--payload', default='text16',
                        choices=['text16', 'text1k', 'bin16'])
    parser.add_argument('--app', default='eio', choices=['eio', 'bare'])
    parser.add_argument('--cprofile')
    parser.add_argument('--patch', default='',
                        help='experiments/fastpath.py patches: eager,direct')
    parser.add_argument('--no-uvloop', action='store_true')
    args = parser.parse_args()
    if not args.no_uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    print(json.dumps(asyncio.run(main_async(args))))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
