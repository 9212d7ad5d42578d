"""python-socketio's clients running on these Engine.IO clients.

python-socketio is installed by scripts/setup.sh after this package, so
it keeps this package as its python-engineio (pip sees the requirement
satisfied).
"""
from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from support import TESTS, Proc

socketio = importlib.import_module('socketio')

SERVER = TESTS / 'client' / 'sio_server.py'
TRANSPORTS = [None, ['websocket'], ['polling']]
IDS = ['default', 'websocket', 'polling']


class SioServer:
    def __init__(self) -> None:
        self.proc, self.port = self._start(0)
        self.url = f'http://127.0.0.1:{self.port}'

    @staticmethod
    def _start(port: int) -> tuple[Proc, int]:
        proc = Proc([sys.executable, str(SERVER), str(port)])
        try:
            return proc, int(proc.wait_for(r'READY (\d+)', 20).group(1))
        except BaseException:
            proc.stop()
            raise

    def restart(self) -> None:
        """Kill the server (clients see a transport error) and start a new
        one on the same port."""
        self.proc.stop()
        time.sleep(0.3)
        self.proc, _ = self._start(self.port)


@pytest.fixture
def sio_server() -> Iterator[SioServer]:
    server = SioServer()
    yield server
    server.proc.stop()


def wait_until(predicate: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize('transports', TRANSPORTS, ids=IDS)
def test_sync_socketio_client(sio_server: SioServer, transports: Any) -> None:
    sio = socketio.Client(reconnection_delay=0.1, reconnection_delay_max=0.3,
                          handle_sigint=False)
    log: list[Any] = []
    answered = threading.Event()
    sio.on('connect', lambda: log.append(
        ('connect', sio.call('echo', 'in connect', timeout=3))))
    sio.on('disconnect', lambda reason: log.append(('disconnect', reason)))
    sio.on('bin_reply', lambda data: log.append(('bin', data)))

    @sio.on('question')
    def question() -> None:
        # A call() inside an event handler: its acknowledgement arrives
        # while this handler waits.
        log.append(('nested', sio.call('echo', 'nested', timeout=3)))
        answered.set()

    try:
        sio.connect(sio_server.url, transports=transports)
        assert log == [('connect', 'in connect')]
        assert sio.call('echo', {'a': [1]}, timeout=5) == {'a': [1]}
        assert sio.call('echo', b'\x00\xff', timeout=5) == b'\x00\xff'
        sio.emit('bin', {'blob': b'\x01\x02'})
        # One event at a time: python-socketio's server runs handlers in
        # threads of their own, and a binary event's attachments could be
        # interleaved with another handler's emit.
        assert wait_until(lambda: ('bin', {'blob': b'\x01\x02'}) in log)
        sio.emit('ask')
        assert answered.wait(5)
        assert ('nested', 'nested') in log

        # A server restart is a transport error: python-socketio reconnects.
        log.clear()
        sio_server.restart()
        assert wait_until(lambda: sio.connected and len(log) >= 2)
        assert log[0] == ('disconnect', 'transport error')
        assert sio.call('echo', 'again', timeout=5) == 'again'

        # A kick is a deliberate server disconnect: no reconnection.
        log.clear()
        sio.emit('kick')
        assert wait_until(lambda: not sio.connected)
        time.sleep(0.5)
        assert log == [('disconnect', 'server disconnect')]
        assert sio.eio.state == 'disconnected'
    finally:
        sio.shutdown()


@pytest.mark.parametrize('transports', TRANSPORTS, ids=IDS)
def test_async_socketio_client(sio_server: SioServer,
                               transports: Any) -> None:
    async def main() -> None:
        sio = socketio.AsyncClient(reconnection_delay=0.1,
                                   reconnection_delay_max=0.3,
                                   handle_sigint=False)
        log: list[Any] = []
        answered = asyncio.Event()

        @sio.on('connect')
        async def connect() -> None:
            log.append(('connect',
                        await sio.call('echo', 'in connect', timeout=3)))

        @sio.on('disconnect')
        async def disconnect(reason: str) -> None:
            log.append(('disconnect', reason))

        @sio.on('question')
        async def question() -> None:
            log.append(('nested', await sio.call('echo', 'nested',
                                                 timeout=3)))
            answered.set()

        async def until(predicate: Any, timeout: float = 10) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if predicate():
                    return True
                await asyncio.sleep(0.02)
            return False

        try:
            await sio.connect(sio_server.url, transports=transports)
            assert log == [('connect', 'in connect')]
            assert await sio.call('echo', b'\x00', timeout=5) == b'\x00'
            await sio.emit('ask')
            await asyncio.wait_for(answered.wait(), 5)
            assert ('nested', 'nested') in log

            log.clear()
            await asyncio.to_thread(sio_server.restart)
            assert await until(lambda: sio.connected and len(log) >= 2)
            assert log[0] == ('disconnect', 'transport error')
            assert await sio.call('echo', 'again', timeout=5) == 'again'

            log.clear()
            await sio.emit('kick')
            assert await until(lambda: not sio.connected)
            await asyncio.sleep(0.5)
            assert log == [('disconnect', 'server disconnect')]
        finally:
            await sio.shutdown()

    asyncio.run(main())
