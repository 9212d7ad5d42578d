"""python-socketio's ``AsyncServer`` on this package's ``AsyncServer``,
mounted with ``socketio.ASGIApp`` under uvicorn, driven by the official npm
socket.io-client and by python-socketio's ``AsyncClient``; plus the asyncio
admin instrumentation."""
from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

import sio_scenarios as sc
from sio_scenarios import ALL_COUNTERS, run_admin
from sio_support import (
    assert_no_errors,
    require_node_peers,
    server_event,
    sio_client,
    start_sio_server,
)
from support import Proc

socketio = importlib.import_module('socketio')
importlib.import_module('uvicorn')

SCRIPT = 'socketio_uvicorn.py'


@pytest.fixture(scope='module')
def server() -> Iterator[tuple[Proc, str]]:
    proc, port = start_sio_server(SCRIPT)
    yield proc, f'http://127.0.0.1:{port}'
    proc.stop()


@pytest.fixture
def js(server: tuple[Proc, str]) -> tuple[Proc, str]:
    require_node_peers()
    return server


# -- socket.io-client -------------------------------------------------------
def test_connect_polling_then_upgrade(js: tuple[Proc, str]) -> None:
    sc.connect_polling_then_upgrade(*js)


def test_connect_websocket_only(js: tuple[Proc, str]) -> None:
    sc.connect_websocket_only(*js)


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_acknowledgements(js: tuple[Proc, str], transports: str) -> None:
    sc.check(js[0], sio_client(js[1], 'ack', transports))


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_binary_attachments(js: tuple[Proc, str], transports: str) -> None:
    sc.check(js[0], sio_client(js[1], 'binary', transports))


def test_rooms_and_broadcasts(js: tuple[Proc, str]) -> None:
    sc.check(js[0], sio_client(js[1], 'rooms'))


def test_namespaces(js: tuple[Proc, str]) -> None:
    sc.namespaces(*js)


@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_disconnect(js: tuple[Proc, str], transports: str) -> None:
    sc.disconnect_reasons(*js, transports)


def test_burst_over_polling(js: tuple[Proc, str]) -> None:
    sc.burst(*js, 'polling')


def test_reconnect_after_server_restart() -> None:
    require_node_peers()
    sc.reconnect_after_restart(SCRIPT)


def test_admin_instrumentation() -> None:
    result = run_admin(SCRIPT, 'polling,websocket')
    assert set(ALL_COUNTERS) <= set(result['aggregated']), result  # type: ignore[arg-type]


# -- python-socketio's AsyncClient ----------------------------------------
def run(coro_fn: Callable[[], Awaitable[None]], timeout: float = 30) -> None:
    """Run one client session in a fresh event loop, bounded in time."""
    importlib.import_module('aiohttp')

    async def bounded() -> None:
        await asyncio.wait_for(coro_fn(), timeout)

    asyncio.run(bounded())


async def wait_for(predicate: Callable[[], Any], timeout: float = 10,
                   what: str = 'condition') -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() >= deadline:
            raise AssertionError(f'timed out waiting for {what}')
        await asyncio.sleep(0.02)


def new_client(**kwargs: Any) -> Any:
    kwargs.setdefault('handle_sigint', False)
    kwargs.setdefault('reconnection', False)
    return socketio.AsyncClient(**kwargs)


@pytest.mark.parametrize('transports', [['polling'], ['websocket'],
                                        ['polling', 'websocket']], ids=','.join)
def test_async_client_round_trip(server: tuple[Proc, str],
                                 transports: list[str]) -> None:
    proc, url = server

    async def main() -> None:
        c = new_client()

        @c.on('question')
        async def question(data: dict[str, int]) -> dict[str, int]:
            return {'answer': data['x'] * 2}

        try:
            await c.connect(url, transports=transports,
                            namespaces=['/', '/chat'], wait_timeout=10)
            assert c.connected and c.sid and c.eio.state == 'connected'
            await wait_for(lambda: c.transport() == transports[-1], 10,
                           f'transport {transports[-1]}')
            assert await c.call('echo', 'hi', timeout=10) == 'hi'
            payload = {'raw': b'\x00\xff', 'list': [b'a', 'b']}
            assert await c.call('echo', payload, timeout=10) == payload
            assert await c.call('echo', 'x', namespace='/chat', timeout=10) == \
                ('chat', 'x')
            assert await c.call('ask_client', {'x': 21}, timeout=10) == \
                {'answer': 42}
            assert await c.call('session_roundtrip', 'kept', timeout=10) == 'kept'
            sid = c.get_sid()
        finally:
            await c.disconnect()
        assert server_event(proc, 'disconnect', sid)['reason'] == \
            'client disconnect'

    run(main)
    assert_no_errors(proc)


def test_async_client_refusal_and_server_disconnect(
        server: tuple[Proc, str]) -> None:
    proc, url = server

    async def main() -> None:
        refused = new_client()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(url, auth={'token': 'bad'}, wait_timeout=10)
        c = new_client(reconnection=True)
        reasons: list[str] = []
        c.on('disconnect', lambda reason: reasons.append(reason))
        await c.connect(url, transports=['websocket'], wait_timeout=10)
        await c.emit('bye')
        await wait_for(lambda: reasons, 10, 'disconnect')
        assert reasons == [c.reason.SERVER_DISCONNECT]
        await wait_for(lambda: c.eio.state == 'disconnected', 10, 'closed')
        assert c._reconnect_task is None

    run(main)
    assert_no_errors(proc)


def test_async_client_burst_over_polling(server: tuple[Proc, str]) -> None:
    proc, url = server

    async def main() -> None:
        c = new_client()
        got: list[int] = []
        c.on('b', got.append)
        try:
            await c.connect(url, transports=['polling'], wait_timeout=10)
            for i in range(200):
                await c.emit('burst', i)
            assert await c.call('burst_result', 200, timeout=15) == \
                {'count': 200, 'distinct': 200}
            assert await c.call('burst_me', 200, timeout=15) is True
            await wait_for(lambda: len(got) == 200, 10, '200 events')
            assert got == list(range(200))
        finally:
            await c.disconnect()

    run(main)
    assert_no_errors(proc)


def test_async_client_reconnect_after_server_restart() -> None:
    proc, port = start_sio_server(SCRIPT)
    url = f'http://127.0.0.1:{port}'
    restarted: list[Proc] = []

    async def main() -> None:
        c = new_client(reconnection=True, reconnection_delay=0.1,
                       reconnection_delay_max=0.3, randomization_factor=0)
        events: list[str] = []
        c.on('connect', lambda: events.append('connect'))
        c.on('disconnect', lambda reason: events.append(f'disconnect:{reason}'))
        try:
            await c.connect(url, wait_timeout=10)
            first = c.get_sid()
            await asyncio.to_thread(proc.stop)
            await wait_for(lambda: len(events) >= 2, 10, 'disconnect event')
            restarted.append((await asyncio.to_thread(
                start_sio_server, SCRIPT, port))[0])
            await wait_for(lambda: c.connected and events.count('connect') == 2,
                           20, 'reconnection')
            assert c.get_sid() != first
            assert await c.call('echo', 'again', timeout=10) == 'again'
        finally:
            await c.disconnect()

    try:
        run(main, timeout=45)
        assert_no_errors(restarted[0])
    finally:
        proc.stop()
        for p in restarted:
            p.stop()
