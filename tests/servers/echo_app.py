"""The echo application every server test drives (see tests/js/client.js).

Any message is echoed back with the same type; ``__burst__:N`` makes the
server send N numbered messages, ``__close__`` disconnects the client and
``__sid__`` returns the session id.  Disconnect reasons are recorded so a
test can ask for them with ``__reasons__`` from another connection.
"""
from __future__ import annotations

import collections
import json
import os
import sys
from typing import Any

import engineio

# Options come from the environment so one module serves every test.
OPTIONS: dict[str, Any] = json.loads(os.environ.get('EIO_OPTIONS', '{}'))


def tls_files() -> tuple[str, str] | None:
    """The certificate and key to serve TLS with (``EIO_TLS_CERT`` and
    ``EIO_TLS_KEY``), if the test asked for TLS."""
    cert = os.environ.get('EIO_TLS_CERT')
    return (cert, os.environ['EIO_TLS_KEY']) if cert else None


def emit(event: dict[str, Any]) -> None:
    # One write per line: the server's own log shares the stream.
    sys.stdout.write(json.dumps(event) + '\n')
    sys.stdout.flush()


def stats(eio: Any) -> dict[str, Any]:
    """What a soak test checks for leaks: sessions, threads/tasks, RSS."""
    import threading
    with open('/proc/self/statm') as f:
        rss_pages = int(f.read().split()[1])
    names = collections.Counter(t.name.split('-')[0] if t.name.startswith('Thread-')
                                else t.name for t in threading.enumerate())
    out = {'sessions': len(eio.sockets), 'threads': threading.active_count(),
           'names': dict(names), 'rss': rss_pages * os.sysconf('SC_PAGE_SIZE')}
    try:
        import asyncio
        out['tasks'] = len(asyncio.all_tasks())
    except RuntimeError:
        pass
    return out


def install(eio: Any, is_async: bool = False) -> None:
    # Bounded: long soak runs must not see the test app itself grow.
    reasons: collections.deque[str] = collections.deque(maxlen=1000)

    def reply_for(sid: str, data: Any) -> list[Any]:
        if isinstance(data, str):
            if data.startswith('__burst__:'):
                return [f's:{i}' for i in range(int(data.split(':')[1]))]
            if data == '__sid__':
                return [f'sid:{sid}']
            if data == '__reasons__':
                return ['reasons:' + json.dumps(list(reasons))]
            if data == '__stats__':
                return ['stats:' + json.dumps(stats(eio))]
        return [data]

    def other(data: Any) -> tuple[str, str, str] | None:
        # ``__op__:<sid>:<arg>``: act on another session, which may live in
        # another process of a cluster.
        if isinstance(data, str) and data.startswith('__') \
                and data.count(':') >= 2:
            op, target, arg = data.split(':', 2)
            if op in ('__send__', '__kick__', '__setsess__', '__getsess__'):
                return op, target, arg
        return None

    if is_async:
        @eio.on('message')
        async def amessage(sid: str, data: Any) -> None:
            if data == '__close__':
                await eio.disconnect(sid)
                return
            cmd = other(data)
            if cmd is not None:
                op, target, arg = cmd
                try:
                    if op == '__send__':
                        await eio.send(target, arg)
                    elif op == '__kick__':
                        await eio.disconnect(target)
                    elif op == '__setsess__':
                        async with eio.session(target) as session:
                            session['v'] = arg
                    else:
                        session = await eio.get_session(target)
                        await eio.send(sid, 'sess:' + json.dumps(session))
                        return
                except KeyError as exc:
                    await eio.send(sid, f'error:{exc}')
                    return
                await eio.send(sid, 'done:' + op)
                return
            for item in reply_for(sid, data):
                await eio.send(sid, item)
    else:
        @eio.on('message')
        def message(sid: str, data: Any) -> None:
            if data == '__close__':
                eio.disconnect(sid)
                return
            cmd = other(data)
            if cmd is not None:
                op, target, arg = cmd
                try:
                    if op == '__send__':
                        eio.send(target, arg)
                    elif op == '__kick__':
                        eio.disconnect(target)
                    elif op == '__setsess__':
                        with eio.session(target) as session:
                            session['v'] = arg
                    else:
                        eio.send(sid, 'sess:'
                                 + json.dumps(eio.get_session(target)))
                        return
                except KeyError as exc:
                    eio.send(sid, f'error:{exc}')
                    return
                eio.send(sid, 'done:' + op)
                return
            for item in reply_for(sid, data):
                eio.send(sid, item)

    # A slow disconnect handler, for the tests that check it delays no other
    # session (seconds; 0: none).
    slow = float(os.environ.get('EIO_SLOW_DISCONNECT', '0'))

    if is_async and slow:
        @eio.on('disconnect')
        async def adisconnect(sid: str, reason: str) -> None:
            reasons.append(reason)
            emit({'event': 'disconnect', 'sid': sid, 'reason': reason})
            await eio.sleep(slow)
    else:
        @eio.on('disconnect')
        def disconnect(sid: str, reason: str) -> None:
            reasons.append(reason)
            emit({'event': 'disconnect', 'sid': sid, 'reason': reason})
            if slow:
                eio.sleep(slow)

    @eio.on('connect')
    def connect(sid: str, environ: Any) -> Any:
        emit({'event': 'connect', 'sid': sid})
        return None


def make_wsgi_app() -> Any:
    eio = engineio.Server(**OPTIONS)
    install(eio)
    return engineio.WSGIApp(eio)
