"""Where a WebSocket session's coroutine message handlers run.

The reader runs a handler's first step itself; a handler that suspends goes
on in the same task and the reading moves to another one.  These tests hold
the guarantees that this must keep: one task per handler from start to end
(``asyncio.timeout``, ``current_task()``), arrival order, and a clean end
when the web server cancels the connection's task mid-handler.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import engineio

WS = 'EIO=4&transport=websocket'


def server(message: Any, **kwargs: Any) -> tuple[Any, Any, list[Any]]:
    eio = engineio.AsyncServer(async_mode='asgi', **kwargs)
    log: list[Any] = []
    eio.on('message', message)

    @eio.on('disconnect')
    def disconnect(sid: str, reason: str) -> None:
        log.append(('disconnect', reason))

    return eio, engineio.ASGIApp(eio), log


async def close_cleanly(eio: Any, peer: Any, log: list[Any]) -> None:
    """The client closes; the server answers and reports it once."""
    peer.send('1')
    assert await peer.recv() is None
    await peer.finish()
    assert log == [('disconnect', 'client disconnect')]
    await eio.shutdown()


@contextlib.asynccontextmanager
async def _timeout_310(delay: float) -> AsyncIterator[None]:
    # asyncio.timeout() for Python 3.10, where it does not exist: the same
    # mechanism (cancel the current task when the delay passes), so the
    # test checks the same thing there: that the timer hits the handler's
    # own task.
    task = asyncio.current_task()
    assert task is not None
    handle = asyncio.get_running_loop().call_later(delay, task.cancel)
    try:
        yield
    except asyncio.CancelledError:
        if handle.cancelled() or asyncio.get_running_loop().time() < \
                handle.when():
            raise
        raise TimeoutError from None
    finally:
        handle.cancel()


task_timeout = getattr(asyncio, 'timeout', _timeout_310)


def test_a_suspended_handler_keeps_its_task(asgi):
    async def main():
        seen: list[Any] = []

        async def message(sid: str, data: str) -> None:
            first = asyncio.current_task()
            if data.startswith('slow'):
                # A timeout that does not fire, then one that does: both
                # must act on this handler's task, never on the reader's.
                async with task_timeout(5):
                    await asyncio.sleep(0.01)
                try:
                    async with task_timeout(0.01):
                        await asyncio.sleep(5)
                except TimeoutError:
                    seen.append('timed out')
            seen.append((data, asyncio.current_task() is first))
            await eio.send(sid, data)

        eio, app, log = server(message)
        peer = asgi.WSPeer(app, query=WS)
        await peer.recv()
        for frame in ('4a', '4slow1', '4b', '4slow2', '4c'):
            peer.send(frame)
        for expected in ('4a', '4slow1', '4b', '4slow2', '4c'):
            assert await peer.recv() == expected
        assert seen == [('a', True), 'timed out', ('slow1', True), ('b', True),
                        'timed out', ('slow2', True), ('c', True)]
        # The session still reads after two handlers held the reader's role.
        peer.send('4d')
        assert await peer.recv() == '4d'
        await close_cleanly(eio, peer, log)
    asgi.run(main())


def test_order_with_handlers_that_sometimes_suspend(asgi):
    async def main():
        async def message(sid: str, data: str) -> None:
            if int(data) % 3 == 0:
                await asyncio.sleep(0.002)
            await eio.send(sid, data)

        eio, app, log = server(message)
        peer = asgi.WSPeer(app, query=WS)
        await peer.recv()
        for i in range(60):
            peer.send(f'4{i}')
        got = [await peer.recv() for _ in range(60)]
        assert got == [f'4{i}' for i in range(60)]
        await close_cleanly(eio, peer, log)
    asgi.run(main())


def test_disconnect_waits_for_a_suspended_handler(asgi):
    async def main():
        order: list[str] = []

        async def message(sid: str, data: str) -> None:
            await asyncio.sleep(0.05)
            order.append(data)

        eio, app, log = server(message)
        peer = asgi.WSPeer(app, query=WS)
        await peer.recv()
        peer.send('4x')
        peer.send('4y')
        peer.disconnect()
        await peer.finish()
        await asgi.eventually(lambda: log)
        assert order == ['x', 'y']
        assert log == [('disconnect', 'transport close')]
        await eio.shutdown()
    asgi.run(main())


def test_cancelled_connection_mid_handler_ends_the_session(asgi):
    async def main():
        started = asyncio.Event()
        cancelled: list[bool] = []

        async def message(sid: str, data: str) -> None:
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        eio, app, log = server(message)
        peer = asgi.WSPeer(app, query=WS)
        sid = json.loads((await peer.recv())[1:])['sid']
        peer.send('4hold')
        await asyncio.wait_for(started.wait(), 5)
        before = {t for t in asyncio.all_tasks() if not t.done()}
        peer.task.cancel()
        try:
            await asyncio.wait_for(peer.task, 5)
        except asyncio.CancelledError:
            pass
        assert cancelled == [True]
        await asgi.eventually(lambda: log)
        assert log == [('disconnect', 'transport close')]
        assert sid not in eio.sockets
        # The session's other tasks (a reader that took over, a handler
        # chain) are gone too.
        others = [t for t in before if t is not asyncio.current_task()
                  and t is not peer.task
                  and ('run_websocket' in repr(t.get_coro())
                       or 'TaskChain.run' in repr(t.get_coro()))]
        assert others
        await asgi.eventually(lambda: all(t.done() for t in others))
        await eio.shutdown()
    asgi.run(main())


def test_without_async_handlers_the_reader_waits(asgi):
    async def main():
        running: list[int] = []
        overlap: list[bool] = []

        async def message(sid: str, data: str) -> None:
            running.append(1)
            overlap.append(len(running) > 1)
            await asyncio.sleep(0.002)
            running.pop()
            await eio.send(sid, data)

        eio, app, _ = server(message, async_handlers=False)
        peer = asgi.WSPeer(app, query=WS)
        await peer.recv()
        for i in range(10):
            peer.send(f'4{i}')
        assert [await peer.recv() for _ in range(10)] == \
            [f'4{i}' for i in range(10)]
        assert overlap == [False] * 10
        peer.disconnect()
        await peer.finish()
        await eio.shutdown()
    asgi.run(main())
