"""One blocking interface over :class:`engineio.Client` and
:class:`engineio.AsyncClient`, so each scenario runs against both.

The asyncio client runs on an event loop in its own thread; its handlers
are coroutines (the sync client's are functions).  Every wait is bounded.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import engineio

WAIT = 10.0


class Recorder:
    """What the handlers saw, with bounded waits on it."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.messages: list[Any] = []
        self.connects = 0
        #: (reason, client state while the handler ran)
        self.disconnects: list[tuple[str, str]] = []

    def add(self, attr: str, value: Any) -> None:
        with self.cond:
            if attr == 'connects':
                self.connects += 1
            else:
                getattr(self, attr).append(value)
            self.cond.notify_all()

    def wait_until(self, predicate: Callable[[], bool],
                   timeout: float = WAIT) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout)


class SyncHarness:
    kind = 'sync'

    def __init__(self, **options: Any) -> None:
        options.setdefault('handle_sigint', False)
        self.client = engineio.Client(**options)
        self.rec = Recorder()
        c, rec = self.client, self.rec
        c.on('connect', lambda: rec.add('connects', None))
        c.on('message', lambda data: rec.add('messages', data))
        c.on('disconnect',
             lambda reason: rec.add('disconnects', (reason, c.state)))

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        self.client.on(event, handler)

    def connect(self, url: str, **kwargs: Any) -> None:
        self.client.connect(url, **kwargs)

    def send(self, data: Any) -> None:
        self.client.send(data)

    def disconnect(self, **kwargs: Any) -> None:
        self.client.disconnect(**kwargs)

    def wait(self) -> None:
        self.client.wait()

    def close(self) -> None:
        self.client.disconnect(abort=True)

    # shared helpers
    def messages(self, n: int, timeout: float = WAIT) -> list[Any]:
        ok = self.rec.wait_until(lambda: len(self.rec.messages) >= n,
                                 timeout)
        assert ok, f'got {len(self.rec.messages)} of {n} messages: ' \
            f'{self.rec.messages[-5:]}; {self.state_of()}'
        return list(self.rec.messages)

    def state_of(self) -> str:
        """The client's state, for a failed wait's message."""
        c = self.client
        return (f'state={c.state} transport={c.transport()} sid={c.sid} '
                f'connects={self.rec.connects} '
                f'disconnects={self.rec.disconnects}')

    def reply_to(self, data: Any, timeout: float = WAIT) -> Any:
        """Send ``data`` and return the next message."""
        n = len(self.rec.messages)
        self.send(data)
        return self.messages(n + 1, timeout)[n]

    def disconnected(self, timeout: float = WAIT) -> tuple[str, str]:
        ok = self.rec.wait_until(lambda: bool(self.rec.disconnects), timeout)
        assert ok, f'no disconnect event; {self.state_of()}'
        return self.rec.disconnects[0]


class AsyncHarness(SyncHarness):
    kind = 'async'

    def __init__(self, **options: Any) -> None:
        options.setdefault('handle_sigint', False)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       daemon=True)
        self.thread.start()
        self.client = engineio.AsyncClient(**options)  # type: ignore
        self.rec = Recorder()
        c, rec = self.client, self.rec

        async def on_connect() -> None:
            rec.add('connects', None)

        async def on_message(data: Any) -> None:
            rec.add('messages', data)

        async def on_disconnect(reason: str) -> None:
            rec.add('disconnects', (reason, c.state))

        c.on('connect', on_connect)
        c.on('message', on_message)
        c.on('disconnect', on_disconnect)

    def run(self, coro: Any, timeout: float = WAIT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(
            timeout)

    def connect(self, url: str, **kwargs: Any) -> None:
        self.run(self.client.connect(url, **kwargs))

    def send(self, data: Any) -> None:
        self.run(self.client.send(data))

    def disconnect(self, **kwargs: Any) -> None:
        self.run(self.client.disconnect(**kwargs))

    def wait(self) -> None:
        self.run(self.client.wait())

    def close(self) -> None:
        try:
            self.run(self.client.disconnect(abort=True))

            async def settle() -> None:
                # Let background tasks (an aborted close) finish cleanly.
                pending = [t for t in asyncio.all_tasks()
                           if t is not asyncio.current_task()]
                if pending:
                    await asyncio.wait(pending, timeout=5)

            self.run(settle())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


HARNESSES = {'sync': SyncHarness, 'async': AsyncHarness}


class Server:
    """A server process the tests talk to."""

    def __init__(self, proc: Any, port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f'http://127.0.0.1:{port}'
