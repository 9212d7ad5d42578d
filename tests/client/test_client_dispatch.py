"""How handlers are dispatched: one at a time and in order, except that a
handler blocked on the client's own event, queue or sleep lets the next
messages through (python-socketio's ``call()`` inside a handler)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from client_harness import SyncHarness

pytestmark = pytest.mark.node

Make = Callable[..., SyncHarness]


def install(c: SyncHarness, sync_handler: Callable[[Any], Any],
            async_handler: Callable[[Any], Any]) -> None:
    c.on('message', sync_handler if c.kind == 'sync' else async_handler)


def test_handler_waiting_on_client_event(node: Any, make_client: Make,
                                         transports: Any) -> None:
    c = make_client()
    event = c.client.create_event()
    seen: list[Any] = []

    def on_message(data: Any) -> None:
        if data == 'first':
            seen.append(('first', event.wait(5)))
        else:
            if data == 'second':
                event.set()
            seen.append(data)
        c.rec.add('messages', data)

    async def a_on_message(data: Any) -> None:
        if data == 'first':
            ok = True
            try:
                await asyncio.wait_for(event.wait(), 5)
            except asyncio.TimeoutError:
                ok = False
            seen.append(('first', ok))
        else:
            if data == 'second':
                event.set()
            seen.append(data)
        c.rec.add('messages', data)

    install(c, on_message, a_on_message)
    c.connect(node.url, transports=transports)
    t0 = time.monotonic()
    for data in ('first', 'second', 'third', 'fourth'):
        c.send(data)
    c.messages(4)
    assert time.monotonic() - t0 < 3
    assert ('first', True) in seen
    assert seen.index('second') < seen.index(('first', True))
    assert [s for s in seen if isinstance(s, str)] == \
        ['second', 'third', 'fourth']


def test_handler_waiting_on_client_queue(node: Any,
                                         make_client: Make) -> None:
    c = make_client()
    q = c.client.create_queue()

    def on_message(data: Any) -> None:
        if data == 'get':
            c.rec.add('messages', ('got', q.get(timeout=5)))
        else:
            q.put(data)

    async def a_on_message(data: Any) -> None:
        if data == 'get':
            c.rec.add('messages',
                      ('got', await asyncio.wait_for(q.get(), 5)))
        else:
            await q.put(data)

    install(c, on_message, a_on_message)
    c.connect(node.url)
    c.send('get')
    c.send('item')
    assert c.messages(1) == [('got', 'item')]


def test_sleeping_handler_lets_messages_through(node: Any,
                                                make_client: Make) -> None:
    c = make_client()
    client = c.client

    def on_message(data: Any) -> None:
        if data == 'slow':
            client.sleep(0.5)
        c.rec.add('messages', data)

    async def a_on_message(data: Any) -> None:
        if data == 'slow':
            await client.sleep(0.5)
        c.rec.add('messages', data)

    install(c, on_message, a_on_message)
    c.connect(node.url)
    c.send('slow')
    c.send('fast')
    assert c.messages(2) == ['fast', 'slow']


def test_order_kept_when_a_background_task_waits(node: Any,
                                                 make_client: Make) -> None:
    """A handler that returned no longer hands dispatching off, even if
    work it left running in the background waits on a client event."""
    c = make_client()
    event = c.client.create_event()

    def on_message(data: Any) -> None:
        if data == 'spawn':
            c.client.start_background_task(event.wait, 5)
        c.rec.add('messages', data)

    async def a_on_message(data: Any) -> None:
        if data == 'spawn':
            # The task starts waiting after this handler returned.
            c.client.start_background_task(event.wait)
        c.rec.add('messages', data)

    install(c, on_message, a_on_message)
    c.connect(node.url)
    try:
        c.send('spawn')
        c.send('__burst__:300')
        assert c.messages(301) == ['spawn'] + [f's:{i}' for i in range(300)]
        assert len(c.client._conn.dispatchers) == 1
    finally:
        if c.kind == 'sync':
            event.set()
        else:
            c.loop.call_soon_threadsafe(event.set)


def test_slow_handler_does_not_stall_the_heartbeat(node_fast: Any,
                                                   make_client: Make) -> None:
    """Handlers do not run on the reader: a handler busy for longer than
    pingInterval + pingTimeout does not lose the connection."""
    c = make_client()

    def on_message(data: Any) -> None:
        time.sleep(1.0)  # deliberately blocking (not the client's sleep)
        c.rec.add('messages', data)

    async def a_on_message(data: Any) -> None:
        await asyncio.to_thread(time.sleep, 1.0)
        c.rec.add('messages', data)

    install(c, on_message, a_on_message)
    c.connect(node_fast.url)
    c.send('busy')
    assert c.messages(1) == ['busy']
    assert c.client.state == 'connected' and not c.rec.disconnects
