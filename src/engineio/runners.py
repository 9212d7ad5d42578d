"""Per-session handler runners: how each server runs a session's
``message`` and ``disconnect`` handlers apart from its connection.

All three keep one rule: the handlers of one session run one at a time, in
the order their input arrived, and the ``disconnect`` handler runs after
every message queued before it; different sessions run concurrently.  They
differ only in what carries the work:

- :class:`DrainJobs` (threading): a session with queued items gets one drain
  job on the server's elastic thread pool, which never queues a job behind
  a busy worker;
- :class:`GreenWorkers` (eventlet, gevent): a session that ever got a
  message gets one long-lived green thread that parks between messages
  (waking a parked green thread costs about a third of starting one);
- :class:`TaskChain` (asyncio): a busy session gets one task that runs its
  coroutine handlers in turn (started eagerly on Python 3.12+, so a handler
  that does not suspend costs no event loop round trip).

A queued item is what the server's ``run_item`` callable takes; it returns
True for the item that ends the session (the ``disconnect`` handler).
"""
from __future__ import annotations

import asyncio
import inspect
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from types import CoroutineType
from typing import Any

from .socket import DriverSession


class DrainJobs:
    """threading: a drain job per busy session on an elastic pool."""

    def __init__(self, pool: Any, lock: Any,
                 run_item: Callable[[str, Any], bool]) -> None:
        self._pool = pool
        self._lock = lock
        self._run_item = run_item

    def enqueue(self, socket: DriverSession, item: Any) -> None:
        with self._lock:
            pending = socket.pending
            if pending is None:
                pending = socket.pending = deque()
            pending.append(item)
            if socket.dispatching:
                return
            socket.dispatching = True
        self._pool.submit(self._drain, socket)

    def _drain(self, socket: DriverSession) -> None:
        sid = socket.sid
        while True:
            with self._lock:
                pending = socket.pending
                if not pending:
                    socket.dispatching = False
                    socket.pending = None
                    return
                items = list(pending)
                pending.clear()
            for item in items:
                self._run_item(sid, item)


class GreenWorkers:
    """eventlet and gevent: one parked green thread per busy session.

    A green thread switches only where it blocks, never in :meth:`enqueue`,
    so the queue and its flag need no lock.
    """

    def __init__(self, pool: Any, signal: Callable[[], Any],
                 run_item: Callable[[str, Any], bool]) -> None:
        self._pool = pool
        self._signal = signal
        self._run_item = run_item

    def enqueue(self, socket: DriverSession, item: Any) -> None:
        pending = socket.pending
        if pending is None:
            socket.pending = deque((item,))
            socket.wakeup = self._signal()
            socket.dispatching = True
            self._pool.submit(self._serve, socket)
            return
        pending.append(item)
        if not socket.dispatching:
            socket.dispatching = True
            socket.wakeup.set()

    def _serve(self, socket: DriverSession) -> None:
        sid = socket.sid
        pending = socket.pending
        wakeup = socket.wakeup
        assert pending is not None
        ended = False
        while True:
            while pending:
                ended = self._run_item(sid, pending.popleft()) or ended
            if ended:
                # A later enqueue (there should be none) starts a new one.
                socket.pending = None
                socket.wakeup = None
                socket.dispatching = False
                return
            socket.dispatching = False
            wakeup.wait()


if sys.version_info >= (3, 12):
    def _start_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return asyncio.Task(coro, loop=asyncio.get_running_loop(),
                            eager_start=True)
else:
    def _start_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return asyncio.get_running_loop().create_task(coro)


class Resumed:
    """The rest of a coroutine whose first step already ran in the current
    task and suspended on ``waiting``, as an awaitable: awaiting it in that
    same task waits for ``waiting`` and then drives the coroutine on."""

    __slots__ = ('coro', 'waiting')

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self.coro = coro
        self.waiting = waiting

    def __await__(self) -> Any:
        coro, waiting = self.coro, self.waiting
        self.waiting = None
        while True:
            try:
                yield waiting
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation, or a thrown error
                try:
                    waiting = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    waiting = coro.send(None)
                except StopIteration as stop:
                    return stop.value


def first_step(ret: Any) -> Awaitable[Any] | None:
    """Run the first step of what a handler returned, in the current task;
    return what is left to await if it suspended (None if it finished).

    Most coroutine handlers finish in their first step (an echo whose write
    did not block): this costs a function call where a task costs about
    1 us (3.12+, eager) to 2 us (3.11) per message (benchmarks, figure 2b).
    A handler that suspends must be finished by this same task, since
    ``asyncio.timeout()`` and ``current_task()`` bound to it.
    """
    if type(ret) is CoroutineType:
        try:
            return Resumed(ret, ret.send(None))
        except StopIteration:
            return None
    return ret if ret is not None and inspect.isawaitable(ret) else None


class TaskChain:
    """asyncio: one task per busy session runs its queued items in turn.

    The task is kept in ``socket.chain`` (the event loop keeps only weak
    references to tasks).  :meth:`run` lets the caller's task be the chain
    instead (a WebSocket reader whose handler suspended in
    :func:`first_step`).
    """

    def __init__(self, run_item: Callable[[str, Any], Awaitable[bool]]
                 ) -> None:
        self._run_item = run_item

    def enqueue(self, socket: Any, item: Any) -> None:
        if socket.dispatching:
            pending = socket.pending
            if pending is None:
                pending = socket.pending = deque()
            pending.append(item)
            return
        socket.dispatching = True
        task = _start_task(self.run(socket, item))
        if not task.done():  # an eager start may have finished it
            socket.chain = task

    async def run(self, socket: Any, item: Any) -> None:
        """Run ``item``, then what queues behind it, in the current task."""
        sid = socket.sid
        try:
            while True:
                await self._run_item(sid, item)
                pending = socket.pending
                if not pending:
                    return
                item = pending.popleft()
        finally:
            socket.dispatching = False
            socket.chain = None

    @staticmethod
    async def cancel(socket: Any) -> None:
        """The session's connection is going away: stop its running
        handler and drop what is queued behind it."""
        chain = socket.chain
        if chain is not None and chain is not asyncio.current_task():
            socket.pending = None
            chain.cancel()
            await asyncio.wait([chain])
