"""A session's requests spread over several AsyncServer nodes in one
process, joined by an in-memory bus: the same scenario answered by one
server and by three nodes must look the same on the wire, races included.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import engineio

OPTIONS: dict[str, Any] = {'async_mode': 'asgi', 'ping_interval': 0.4,
                           'ping_timeout': 5}


class Hub:
    """The in-memory pub/sub every node's bus shares."""

    def __init__(self) -> None:
        self.subscribers: dict[str, Callable[[bytes], None]] = {}
        self.published = 0


class MemoryBus:
    """A bus of :mod:`engineio.cluster.bus` in memory: messages are
    delivered on the next loop turns, in the order published."""

    url = 'memory://'

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.channel: str | None = None

    async def start(self, channel: str, on_message: Callable[[bytes], None],
                    on_lost: Callable[[], None]) -> None:
        self.channel = channel
        self.hub.subscribers[channel] = on_message

    def publish_nowait(self, channel: str, data: bytes) -> asyncio.Future[int]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        receiver = self.hub.subscribers.get(channel)
        self.hub.published += 1
        if receiver is not None:
            loop.call_soon(receiver, data)
        future.set_result(0 if receiver is None else 1)
        return future

    async def publish(self, channel: str, data: bytes) -> int:
        return await self.publish_nowait(channel, data)

    async def receivers(self, channel: str) -> int:
        return int(channel in self.hub.subscribers)

    async def close(self) -> None:
        if self.channel is not None:
            self.hub.subscribers.pop(self.channel, None)


def make_servers(n: int) -> tuple[list[engineio.AsyncServer], Hub]:
    hub = Hub()
    servers = []
    for _ in range(n):
        kwargs = dict(OPTIONS)
        if n > 1:
            kwargs['cluster'] = MemoryBus(hub)
        eio = engineio.AsyncServer(**kwargs)
        seen: list[Any] = []
        eio.seen = seen  # type: ignore[attr-defined]

        def install(eio: engineio.AsyncServer, seen: list[Any]) -> None:
            @eio.on('connect')
            def connect(sid: str, environ: Any) -> None:
                seen.append(('connect', sid))

            @eio.on('message')
            async def message(sid: str, data: Any) -> None:
                seen.append(('message', sid, data))
                await eio.send(sid, data)

            @eio.on('disconnect')
            def disconnect(sid: str, reason: str) -> None:
                seen.append(('disconnect', sid, reason))

        install(eio, seen)
        servers.append(eio)
    return servers, hub


async def http(eio: engineio.AsyncServer, query: str,
               body: bytes | None = None) -> tuple[int, bytes]:
    scope = {'type': 'http', 'method': 'POST' if body is not None else 'GET',
             'path': '/engine.io/', 'scheme': 'http',
             'query_string': f'EIO=4&transport=polling{query}'.encode(),
             'headers': [(b'host', b'127.0.0.1')]}
    sent = False
    out: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {'type': 'http.request', 'body': body or b'',
                    'more_body': False}
        await asyncio.sleep(3600)
        return {'type': 'http.disconnect'}

    async def send(message: dict[str, Any]) -> None:
        if message['type'] == 'http.response.start':
            out['status'] = message['status']
        elif message['type'] == 'http.response.body':
            out['body'] = out.get('body', b'') + message.get('body', b'')

    await eio.handle_request(scope, receive, send)
    return out['status'], out['body']


class ScopeWebSocket:
    """A client WebSocket as an ASGI scope of one server."""

    def __init__(self, eio: engineio.AsyncServer, sid: str) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[Any] = asyncio.Queue()
        self.inbox.put_nowait({'type': 'websocket.connect'})
        scope = {'type': 'websocket', 'path': '/engine.io/', 'scheme': 'ws',
                 'query_string':
                     f'EIO=4&transport=websocket&sid={sid}'.encode(),
                 'headers': [(b'host', b'127.0.0.1')]}
        self.task = asyncio.ensure_future(
            eio.handle_request(scope, self.inbox.get, self._send))

    async def _send(self, message: dict[str, Any]) -> None:
        if message['type'] == 'websocket.send':
            self.outbox.put_nowait(message.get('text') or message.get('bytes'))
        elif message['type'] == 'websocket.close':
            self.outbox.put_nowait(None)

    def send(self, frame: str) -> None:
        self.inbox.put_nowait({'type': 'websocket.receive', 'text': frame})

    async def recv(self) -> Any:
        while True:
            frame = await asyncio.wait_for(self.outbox.get(), 5)
            if frame != '2':
                return frame
            self.send('3')


async def scenario_interleaved(servers: list[engineio.AsyncServer]
                               ) -> list[Any]:
    """Handshake on the first, then POSTs and GETs on the others, a GET and
    a POST at the same time on two nodes, an upgrade on a third."""
    a, b, c = (servers * 3)[:3]
    out: list[Any] = []
    status, body = await http(a, '')
    sid = body[1:].split(b'"')[3].decode()
    out.append(status)
    out.append(await http(b, f'&sid={sid}', b'4one\x1e4two'))
    out.append(await http(c, f'&sid={sid}'))
    # A GET held on one node while a POST arrives on another.
    held = asyncio.ensure_future(http(b, f'&sid={sid}'))
    await asyncio.sleep(0.05)
    out.append(await http(c, f'&sid={sid}', b'4three'))
    out.append(await held)
    # An upgrade on a third node while a GET is held on another.
    held = asyncio.ensure_future(http(c, f'&sid={sid}'))
    await asyncio.sleep(0.05)
    ws = ScopeWebSocket(servers[-1], sid)
    ws.send('2probe')
    out.append(await ws.recv())
    ws.send('5')
    out.append(await held)
    for i in range(20):
        ws.send(f'4m{i}')
    out.append([await ws.recv() for _ in range(20)])
    await asyncio.sleep(1.0)  # heartbeats over the relay
    ws.send('4late')
    out.append(await ws.recv())
    ws.inbox.put_nowait({'type': 'websocket.disconnect', 'code': 1000})
    await asyncio.wait_for(ws.task, 5)
    out.append(await http(a, f'&sid={sid}'))
    return out


async def scenario_duplicate_get(servers: list[engineio.AsyncServer]
                                 ) -> list[Any]:
    """Two GETs of one session at once on two nodes: refused and closed as
    on one server."""
    a, b, c = (servers * 3)[:3]
    _, body = await http(a, '')
    sid = body[1:].split(b'"')[3].decode()
    held = asyncio.ensure_future(http(b, f'&sid={sid}'))
    await asyncio.sleep(0.05)
    second = await http(c, f'&sid={sid}')
    first = await asyncio.wait_for(held, 5)
    after = await http(a, f'&sid={sid}')
    return [second, first, after]


def run(scenario: Any, n: int) -> tuple[list[Any], list[engineio.AsyncServer],
                                        Hub]:
    async def main() -> list[Any]:
        servers, hub = make_servers(n)
        run.hub = hub  # type: ignore[attr-defined]
        run.servers = servers  # type: ignore[attr-defined]
        try:
            return await asyncio.wait_for(scenario(servers), 20)
        finally:
            for eio in servers:
                await eio.shutdown()
    out = asyncio.run(main())
    return out, run.servers, run.hub  # type: ignore[attr-defined]


@pytest.mark.parametrize('scenario', [scenario_interleaved,
                                      scenario_duplicate_get])
def test_three_nodes_answer_as_one_server(scenario: Any) -> None:
    alone, _, _ = run(scenario, 1)
    spread, servers, hub = run(scenario, 3)
    assert spread == alone
    assert hub.published > 0
    # Handlers ran on the owner only, each event once.
    owner, *others = servers
    assert all(not eio.seen for eio in others)  # type: ignore[attr-defined]
    kinds = [e[0] for e in owner.seen]  # type: ignore[attr-defined]
    assert kinds.count('connect') == 1 and kinds.count('disconnect') == 1


def test_expected_answers_of_the_interleaved_scenario() -> None:
    out, _, _ = run(scenario_interleaved, 3)
    assert out[:5] == [200, (200, b'ok'), (200, b'4one\x1e4two'),
                       (200, b'ok'), (200, b'4three')]
    assert out[5] == '3probe' and out[6] == (200, b'6')
    assert out[7] == [f'4m{i}' for i in range(20)]
    assert out[8] == '4late' and out[9][0] == 400


def test_forwarded_request_costs_two_bus_messages() -> None:
    async def main() -> int:
        servers, hub = make_servers(2)
        a, b = servers
        try:
            _, body = await http(a, '')
            sid = body[1:].split(b'"')[3].decode()
            before = hub.published
            assert await http(b, f'&sid={sid}', b'4x') == (200, b'ok')
            assert await http(b, f'&sid={sid}') == (200, b'4x')
            return hub.published - before
        finally:
            for eio in servers:
                await eio.shutdown()
    assert asyncio.run(main()) == 4


def test_without_cluster_nothing_of_it_is_imported() -> None:
    import subprocess
    import sys
    code = ('import sys, engineio\n'
            "engineio.AsyncServer(async_mode='asgi')\n"
            "engineio.Server(async_mode='threading')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'redis'"
            " or m.startswith('engineio.cluster')))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == '[]', out.stdout + out.stderr


def test_a_node_starts_again_after_shutdown(redis_url: str) -> None:
    """shutdown() closes the node's bus; the next request opens a new one
    (a real Redis: the in-memory bus has nothing to close)."""
    async def main() -> list[Any]:
        a = engineio.AsyncServer(**OPTIONS, cluster=redis_url)
        b = engineio.AsyncServer(**OPTIONS, cluster=redis_url)

        @a.on('message')
        async def echo(sid: str, data: Any) -> None:
            await a.send(sid, data)

        out = []
        try:
            for _ in range(2):
                _, body = await http(a, '')
                sid = body[1:].split(b'"')[3].decode()
                out.append(await http(b, f'&sid={sid}', b'4again'))
                out.append(await http(b, f'&sid={sid}'))
                await a.shutdown()
                await b.shutdown()
        finally:
            await a.shutdown()
            await b.shutdown()
        return out
    assert asyncio.run(main()) == [(200, b'ok'), (200, b'4again')] * 2
