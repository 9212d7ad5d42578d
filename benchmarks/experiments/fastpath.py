"""Candidate fast paths for ``engineio.AsyncServer``, applied by monkey
patching so their effect can be measured before anything changes in src/.

    python benchmarks/codec/inproc_echo.py --patch eager,direct

``eager``  run a coroutine message handler's first step inline: a handler
           that completes without suspending (an echo whose write did not
           block) costs no Task and no extra event-loop round; one that
           suspends is resumed by the session's handler chain as before, so
           per-session ordering is kept.
``heap``   closed sessions are dropped from the timer heap (amortized
           compaction) and release their WebSocket, instead of staying
           referenced until their next deadline.
``release`` once a WebSocket is accepted, drop the server's references to
           the request environ (kept alive by the handshake's frames).
``direct`` ``AsyncServer.send`` writes straight to the WebSocket when the
           session is in direct-write mode, skipping two coroutine layers
           (``_send_frame`` and ``_ws_write``).
``spawnraw`` blocking server under gevent / eventlet: message handlers run in
           raw green threads (``gevent.spawn_raw`` / ``eventlet.spawn_n``).

Patches for this project only (python-engineio has none of these methods).
They are written against src/ as it was when measured (see
docs/benchmarks.md) and may need updating when it changes.
"""
from __future__ import annotations

import types
from typing import Any

_COROUTINE = types.CoroutineType


class Resume:
    """Await the rest of a coroutine whose first step already ran and
    yielded ``fut`` (what the Task running this would have received)."""

    __slots__ = ('coro', 'fut')

    def __init__(self, coro: Any, fut: Any) -> None:
        self.coro = coro
        self.fut = fut

    def __await__(self) -> Any:
        coro, fut = self.coro, self.fut
        while True:
            try:
                yield fut
            except BaseException as exc:  # cancellation or a thrown error
                try:
                    fut = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    fut = coro.send(None)
                except StopIteration as stop:
                    return stop.value


def patch_eager(server_cls: Any) -> None:
    from engineio import async_server as m

    original = server_cls._on_message

    async def _on_message(self: Any, socket: Any, data: Any) -> None:
        if socket.dispatching or not self.async_handlers:
            await original(self, socket, data)
            return
        handler = self.handlers.get('message')
        if handler is None:
            return
        try:
            ret = handler(socket.sid, data)
        except Exception:
            self.logger.exception('%s: message handler error', socket.sid)
            return
        if ret is None:
            return
        if type(ret) is _COROUTINE:
            try:
                fut = ret.send(None)
            except StopIteration:
                return  # done without suspending: no task needed
            except Exception:
                self.logger.exception('%s: message handler error',
                                      socket.sid)
                return
            self._enqueue(socket, (m._AWAIT, Resume(ret, fut)))
        elif m.isawaitable(ret):
            self._enqueue(socket, (m._AWAIT, ret))

    server_cls._on_message = _on_message


def patch_direct(server_cls: Any) -> None:
    from engineio import packet

    encode_data = packet.encode_data
    MESSAGE = packet.MESSAGE

    async def send(self: Any, sid: str, data: Any) -> None:
        frame = encode_data(MESSAGE, data)
        socket = self.sockets.get(sid)
        if socket is not None and socket.direct:
            ws = socket.ws
            if ws is not None:
                try:
                    await ws.send(frame)
                except (OSError, ValueError, RuntimeError) as exc:
                    self.logger.info('%s: websocket write failed (%s)', sid, exc)
                    await self._close(socket, self.reason.TRANSPORT_ERROR)
                return
        await self._send_frame(sid, frame)

    server_cls.send = send


def patch_heap(server_cls: Any) -> None:
    """Closed sessions leave the timer heap at once (amortized): without
    this a closed session, its WebSocket and through it the web server's
    whole connection object stay referenced by the heap until the
    session's next deadline (up to ping_interval later)."""
    import heapq

    from engineio.sansio.server import ServerCore

    forget = ServerCore.forget

    def forget_and_compact(self: Any, session: Any, now: float) -> None:
        forget(self, session, now)
        if session.sid in self._lingering:
            return
        stale = self.__dict__.get('_stale', 0) + 1
        timers = self._timers
        if stale > 64 and 2 * stale > len(timers):
            lingering = self._lingering
            timers[:] = [e for e in timers
                         if not e[2].closed or e[2].sid in lingering]
            heapq.heapify(timers)
            stale = 0
        self._stale = stale

    ServerCore.forget = forget_and_compact

    teardown = server_cls._teardown

    async def _teardown(self: Any, socket: Any, flush: bool = False) -> None:
        await teardown(self, socket, flush)
        if socket.closed:
            socket.ws = socket.upgrade_ws = None

    server_cls._teardown = _teardown


def patch_release(server_cls: Any) -> None:
    """Once a WebSocket session runs, the request's WSGI-style environ (and
    the header strings, query dict and Request in it) is no longer needed
    by the server: drop the references that keep it alive for the
    session's whole life (the exchange, and Request.native that the
    handle_request frame holds).  An application that keeps the environ
    (python-socketio does) still has it."""
    accept = server_cls._accept_websocket
    run = server_cls._run_websocket

    async def _accept_websocket(self: Any, exchange: Any) -> Any:
        ws = await accept(self, exchange)
        if ws is not None:
            try:
                ws._bench_exchange = exchange
            except AttributeError:  # a WebSocket class with __slots__
                pass
        return ws

    async def _run_websocket(self: Any, socket: Any, ws: Any) -> None:
        exchange = getattr(ws, '_bench_exchange', None)
        if exchange is not None:
            ws._bench_exchange = None
            req = getattr(exchange, 'request', None)
            if req is not None:
                req.native = None
            exchange.environ = None
        await run(self, socket, ws)

    server_cls._accept_websocket = _accept_websocket
    server_cls._run_websocket = _run_websocket


def patch_spawnraw(server_cls: Any) -> None:
    """Blocking server under gevent / eventlet: run each message handler in
    a raw green thread (``gevent.spawn_raw`` / ``eventlet.spawn_n``)
    instead of a ``Greenlet`` / ``GreenThread``: no spawning-stack capture
    (gevent's ``track_greenlet_tree``), no link machinery, no result
    object.  Applies to servers created after the patch."""
    from engineio._runtime import green
    try:
        import gevent

        from engineio._runtime import gevent_runtime
        gevent_runtime.make_pool = lambda: green.SpawnPool(gevent.spawn_raw)
    except ImportError:
        pass
    try:
        import eventlet

        from engineio._runtime import eventlet_runtime
        eventlet_runtime.make_pool = lambda: green.SpawnPool(eventlet.spawn_n)
    except ImportError:
        pass


PATCHES = {'spawnraw': patch_spawnraw, 'eager': patch_eager, 'direct': patch_direct, 'heap': patch_heap,
           'release': patch_release}


def apply(names: str) -> list[str]:
    import engineio
    applied = []
    for name in filter(None, names.split(',')):
        PATCHES[name](engineio.AsyncServer)
        applied.append(name)
    return applied
