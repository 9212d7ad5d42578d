"""In-process ASGI peers for the AsyncServer tests: hand-written ASGI
``receive``/``send`` callables driving a real :class:`engineio.ASGIApp`,
no network, every wait bounded."""
from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from support import SERVERS, Proc, start_server

TIMEOUT = 5.0


def scope(kind: str, path: str = '/engine.io/', query: str = '',
          headers: list[tuple[str, str]] | None = None,
          method: str = 'GET', root_path: str = '') -> dict[str, Any]:
    """An ASGI scope as a server on 127.0.0.1 would build it."""
    hdrs = [('host', 'testserver')] + (headers or [])
    out: dict[str, Any] = {
        'type': kind, 'asgi': {'version': '3.0'}, 'http_version': '1.1',
        'scheme': 'http' if kind == 'http' else 'ws', 'path': path,
        'raw_path': path.encode(), 'query_string': query.encode(),
        'root_path': root_path,
        'headers': [(k.lower().encode(), v.encode()) for k, v in hdrs],
        'client': ('127.0.0.1', 50000), 'server': ('127.0.0.1', 8000),
    }
    if kind == 'http':
        out['method'] = method
    return out


class HTTPResult:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


async def http(app: Any, method: str = 'GET', path: str = '/engine.io/',
               query: str = '', body: bytes = b'',
               headers: list[tuple[str, str]] | None = None,
               root_path: str = '') -> HTTPResult:
    """Run one HTTP request through an ASGI app."""
    sent: list[dict[str, Any]] = []
    chunks = [body]
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if chunks:
            return {'type': 'http.request', 'body': chunks.pop(),
                    'more_body': False}
        await never.wait()  # a client that stays connected
        return {'type': 'http.disconnect'}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    if body:
        headers = [*(headers or []), ('content-length', str(len(body)))]
    await asyncio.wait_for(
        app(scope('http', path, query, headers, method, root_path),
            receive, send), TIMEOUT)
    start = next(m for m in sent if m['type'] == 'http.response.start')
    out = b''.join(m.get('body', b'') for m in sent
                   if m['type'] == 'http.response.body')
    return HTTPResult(start['status'],
                      {k.decode().lower(): v.decode()
                       for k, v in start['headers']}, out)


class WSPeer:
    """A WebSocket client speaking ASGI ``websocket.*`` messages."""

    def __init__(self, app: Any, path: str = '/engine.io/', query: str = '',
                 headers: list[tuple[str, str]] | None = None) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.to_app.put_nowait({'type': 'websocket.connect'})
        self.accepted = False
        self.close_code: int | None = None
        self.task = asyncio.ensure_future(
            app(scope('websocket', path, query, headers), self._receive,
                self._send))

    async def _receive(self) -> dict[str, Any]:
        return await self.to_app.get()

    async def _send(self, message: dict[str, Any]) -> None:
        if message['type'] == 'websocket.accept':
            self.accepted = True
        self.from_app.put_nowait(message)

    async def recv(self, timeout: float = TIMEOUT) -> str | bytes | None:
        """The next frame from the server; None once it closed."""
        while True:
            message = await asyncio.wait_for(self.from_app.get(), timeout)
            if message['type'] == 'websocket.send':
                text = message.get('text')
                return text if text is not None else message['bytes']
            if message['type'] == 'websocket.close':
                self.close_code = message.get('code', 1000)
                self.to_app.put_nowait({'type': 'websocket.disconnect',
                                        'code': self.close_code})
                return None

    def send(self, frame: str | bytes) -> None:
        key = 'text' if isinstance(frame, str) else 'bytes'
        self.to_app.put_nowait({'type': 'websocket.receive', key: frame})

    def disconnect(self, code: int = 1000) -> None:
        self.to_app.put_nowait({'type': 'websocket.disconnect', 'code': code})

    async def finish(self) -> None:
        """Wait for the app to return (bounded)."""
        await asyncio.wait_for(self.task, TIMEOUT)


async def eventually(check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """Poll ``check`` until it returns something truthy (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError('condition not met in time')
        await asyncio.sleep(0.01)


def run(coro: Awaitable[Any]) -> Any:
    """Run a test coroutine on a fresh event loop, bounded in time."""
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, 30)
    return asyncio.run(bounded())


@pytest.fixture
def asgi() -> Any:
    """The in-process helpers: ``http``, ``WSPeer``, ``eventually``,
    ``run``."""
    class Helpers:
        pass
    h = Helpers()
    h.http = http  # type: ignore[attr-defined]
    h.WSPeer = WSPeer  # type: ignore[attr-defined]
    h.eventually = eventually  # type: ignore[attr-defined]
    h.run = run  # type: ignore[attr-defined]
    return h


@pytest.fixture
def launch() -> Iterator[Callable[..., tuple[Proc, int]]]:
    """Start a server script of tests/servers (``[script, *args]``) with
    EIO_OPTIONS; every process started is stopped by PID afterwards."""
    started: list[Proc] = []

    def start(args: list[str], options: dict[str, Any] | None = None
              ) -> tuple[Proc, int]:
        proc, port = start_server(
            [sys.executable, str(SERVERS / args[0]), *args[1:]], options)
        started.append(proc)
        return proc, port

    yield start
    for proc in started:
        proc.stop()
