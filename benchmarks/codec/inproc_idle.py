"""In-process memory of idle WebSocket sessions, by allocating source line.

Opens ``--sessions`` Engine.IO WebSocket sessions on ``engineio.ASGIApp``
(this project's or python-engineio's: the interpreter decides) through fake
ASGI ``receive``/``send`` callables, with no network and no web server, and
reports the Python memory they hold (tracemalloc), per session, grouped by
the source line that allocated it.  The fake ASGI plumbing (one queue pair
per session) is allocated before the first snapshot, so it is not counted;
what the web server itself keeps per connection is not in this figure (see
figure 4 of run.py for RSS under uvicorn).

    python inproc_idle.py [--sessions 2000] [--top 25] [--app eio|bare]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tracemalloc

from inproc_echo import bare_app, eio_app


async def main_async(args) -> dict:
    app = bare_app if args.app == 'bare' else eio_app(args.patch)[0]
    n = args.sessions
    boxes = []
    for _ in range(n):
        boxes.append((asyncio.Queue(), asyncio.Queue()))
    scope_base = {
        'type': 'websocket', 'asgi': {'version': '3.0'}, 'scheme': 'ws',
        'http_version': '1.1', 'path': '/engine.io/', 'raw_path': b'/engine.io/',
        'root_path': '', 'query_string': b'EIO=4&transport=websocket',
        'headers': [(b'host', b'127.0.0.1:8000'), (b'upgrade', b'websocket'),
                    (b'connection', b'Upgrade'),
                    (b'sec-websocket-version', b'13'),
                    (b'user-agent', b'benchmark')],
        'server': ('127.0.0.1', 8000), 'subprotocols': [], 'extensions': {},
    }
    scopes = [dict(scope_base, client=('127.0.0.1', 10000 + i)) for i in range(n)]
    for inbox, _ in boxes:
        inbox.put_nowait({'type': 'websocket.connect'})
    sends = []
    for _, outbox in boxes:
        async def send(m, outbox=outbox):
            outbox.put_nowait(m)
        sends.append(send)
    # One session first: imports, caches and the server's own start-up.
    warm_in, warm_out = asyncio.Queue(), asyncio.Queue()
    warm_in.put_nowait({'type': 'websocket.connect'})

    async def warm_send(m):
        warm_out.put_nowait(m)
    warm = asyncio.ensure_future(app(dict(scope_base, client=('127.0.0.1', 9999)),
                                     warm_in.get, warm_send))
    await warm_out.get()
    await warm_out.get()
    await asyncio.sleep(0)
    gc.collect()
    tracemalloc.start(args.frames)
    before = tracemalloc.take_snapshot()
    tasks = [asyncio.ensure_future(app(scopes[i], boxes[i][0].get, sends[i]))
             for i in range(n)]
    for _, outbox in boxes:
        accept = await outbox.get()
        opening = await outbox.get()
        assert accept['type'] == 'websocket.accept'
        assert opening['text'][0] == '0'
        # The messages themselves belong to the fake plumbing.
        del accept, opening
    for _ in range(5):
        await asyncio.sleep(0)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = after.compare_to(before, 'lineno')
    total = sum(s.size_diff for s in stats)
    top = [{'bytes_per_session': s.size_diff / n, 'count_per_session': s.count_diff / n,
            'where': f'{s.traceback[0].filename.split("site-packages/")[-1]}:'
                     f'{s.traceback[0].lineno}'}
           for s in stats[:args.top] if s.size_diff > 0]
    for inbox, _ in boxes:
        inbox.put_nowait({'type': 'websocket.disconnect', 'code': 1000})
    warm_in.put_nowait({'type': 'websocket.disconnect', 'code': 1000})
    await asyncio.wait([*tasks, warm], timeout=10)
    return {'app': args.app, 'sessions': n, 'bytes_per_session': total / n,
            'top': top}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--sessions', type=int, default=2000)
    parser.add_argument('--top', type=int, default=25)
    parser.add_argument('--frames', type=int, default=1)
    parser.add_argument('--app', default='eio', choices=['eio', 'bare'])
    parser.add_argument('--json', action='store_true')
    parser.add_argument('--patch', default='', help='experiments/fastpath.py patches')
    args = parser.parse_args()
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    out = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(out))
        return
    print(f'{out["app"]}: {out["bytes_per_session"]:.0f} bytes of Python '
          f'objects per idle session ({out["sessions"]} sessions)')
    for t in out['top']:
        print(f'  {t["bytes_per_session"]:8.0f} B  {t["count_per_session"]:5.1f} '
              f'objects  {t["where"]}')


if __name__ == '__main__':
    main()
