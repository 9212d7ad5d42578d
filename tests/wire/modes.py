"""The server modes of the wire tests: each a real process on 127.0.0.1
serving the echo app (tests/servers/echo_app.py)."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from support import JS_DIR, NODE, SERVERS, start_server

#: Short heartbeats, so a vanished client is noticed within seconds.
PING_INTERVAL = 1.0
PING_TIMEOUT = 1.0
OPTIONS: dict[str, Any] = {'ping_interval': PING_INTERVAL,
                           'ping_timeout': PING_TIMEOUT,
                           'cors_allowed_origins': '*'}


@dataclass(frozen=True)
class Mode:
    name: str
    script: str
    args: tuple[str, ...] = ()
    async_mode: str | None = None
    #: The official Node server (tests/js/server.js), the reference.
    node: bool = False


#: The modes every wire rule is checked on.
CORE_MODES = [
    Mode('asgi', 'asgi_uvicorn.py'),
    Mode('threading', 'werkzeug_server.py', async_mode='threading'),
    Mode('eventlet', 'deploy_eventlet.py', async_mode='eventlet'),
    Mode('gevent', 'deploy_gevent.py', async_mode='gevent'),
    Mode('gevent-websocket', 'deploy_gevent.py', ('--websocket-handler',),
         async_mode='gevent'),
]
#: The other asyncio adapters, for rules whose path they share.
OTHER_ASYNC_MODES = [
    Mode('aiohttp', 'aiohttp_server.py'),
    Mode('tornado', 'tornado_server.py'),
    Mode('sanic', 'sanic_server.py'),
]
ALL_MODES = CORE_MODES + OTHER_ASYNC_MODES
#: The official engine.io server: the tests' expectations hold on it too.
OFFICIAL = Mode('official', 'server.js', node=True)


class Served:
    """A server process, its URL and the sessions it reported."""

    def __init__(self, mode: Mode, options: dict[str, Any],
                 env: dict[str, str] | None = None) -> None:
        self.mode = mode
        opts = dict(options)
        if mode.async_mode:
            opts['async_mode'] = mode.async_mode
        self.options = opts
        if mode.node:
            self.proc, self.port = start_server(
                [NODE, str(JS_DIR / mode.script), '--port', '0',
                 '--ping-interval', str(int(opts['ping_interval'] * 1000)),
                 '--ping-timeout', str(int(opts['ping_timeout'] * 1000)),
                 '--cors', '*'])
        else:
            self.proc, self.port = start_server(
                [sys.executable, str(SERVERS / mode.script), *mode.args],
                opts, env=env)
        self.url = f'http://127.0.0.1:{self.port}'

    def connected(self) -> set[str]:
        kind = 'connection' if self.mode.node else 'connect'
        return {e['sid'] for e in self.proc.events(kind)}

    def disconnected(self) -> dict[str, str]:
        kind = 'close' if self.mode.node else 'disconnect'
        return {e['sid']: e['reason'] for e in self.proc.events(kind)}

    def wait_disconnect(self, sid: str, timeout: float = 5.0) -> str:
        """The reason ``sid`` ended with, waiting for it at most
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reason = self.disconnected().get(sid)
            if reason is not None:
                return reason
            time.sleep(0.05)
        raise AssertionError(f'{self.mode.name}: session {sid} did not end '
                             f'within {timeout} s')

    def assert_sessions_end(self) -> None:
        """Every session ends within ping_interval + ping_timeout of its
        client vanishing (the test's peers are gone by now)."""
        bound = float(self.options.get('ping_interval', 25)) + \
            float(self.options.get('ping_timeout', 20)) + 1.5
        deadline = time.monotonic() + bound
        while True:
            open_ = self.connected() - set(self.disconnected())
            if not open_ or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert not open_, (f'{self.mode.name}: sessions still open '
                           f'{bound:.1f} s after their clients left: '
                           f'{sorted(open_)}\n'
                           + '\n'.join(self.proc.lines[-30:]))

    def stop(self) -> None:
        self.proc.stop()


def serve(mode: Mode, options: dict[str, Any] | None = None,
          env: dict[str, str] | None = None) -> Served:
    return Served(mode, {**OPTIONS, **(options or {})}, env)



def mode_ids(modes: list[Mode]) -> list[str]:
    return [m.name for m in modes]
