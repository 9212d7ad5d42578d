"""The bus of a cluster over Redis (or Valkey) pub/sub, through ``redis``.

A node subscribes to its own channel and publishes to the others'.  Redis's
``PUBLISH`` answers how many subscribers got the message, which is how a
node learns at once that the owner of a session is gone (zero).  Messages
from one publisher connection to one subscriber arrive in the order they
were sent; both buses here publish through one connection at a time so
that the frames of a relayed WebSocket keep their order.
"""
from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import Any

from ..exceptions import EngineIOError

#: Pauses between attempts to subscribe again after the connection to the
#: bus was lost (seconds, doubling up to the last).
RETRY_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)
#: Most messages written in one pipeline round trip.
BATCH = 512


class BusError(EngineIOError):
    """The bus cannot be reached (or refused a command)."""


def normalize_url(url: str) -> str:
    """The ``redis`` package's URL for a cluster option: ``valkey://`` and
    ``valkeys://`` are the same servers under another name."""
    for alias, real in (('valkey://', 'redis://'), ('valkeys://', 'rediss://')):
        if url.startswith(alias):
            return real + url[len(alias):]
    if not url.startswith(('redis://', 'rediss://', 'unix://')):
        raise ValueError(f'cluster URL {url!r}: expected redis://, rediss://, '
                         'valkey://, valkeys:// or unix://')
    return url


def _retry_delay(attempt: int) -> float:
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]


class AsyncRedisBus:
    """The bus for :class:`~engineio.AsyncServer` (``redis.asyncio``)."""

    def __init__(self, url: str, logger: logging.Logger) -> None:
        import redis.asyncio as aioredis  # the 'cluster' extra

        self.url = normalize_url(url)
        self.logger = logger
        self._errors: tuple[type[BaseException], ...] = (
            aioredis.RedisError, OSError)
        self._redis = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2.0, health_check_interval=0)
        self._out: collections.deque[tuple[str, bytes, asyncio.Future[int]]] \
            = collections.deque()
        self._kick = asyncio.Event()
        # The writer's connection (made on first use, again after an error).
        self._conn: Any = None
        self._conn_stale = False
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    async def start(self, channel: str, on_message: Callable[[bytes], None],
                    on_lost: Callable[[], None]) -> None:
        """Subscribe to ``channel`` (returns once subscribed; BusError if the
        bus cannot be reached) and deliver each message to ``on_message``
        in order.  ``on_lost`` runs each time the subscription breaks
        (messages may have been lost); the bus subscribes again by itself."""
        subscribed: asyncio.Future[None] = \
            asyncio.get_running_loop().create_future()
        # Retrieved here, as the caller may stop waiting before it fails.
        subscribed.add_done_callback(
            lambda f: None if f.cancelled() else f.exception())
        self._tasks.append(asyncio.ensure_future(
            self._read_loop(channel, on_message, on_lost, subscribed)))
        self._tasks.append(asyncio.ensure_future(self._write_loop()))
        await subscribed

    def publish_nowait(self, channel: str, data: bytes) -> asyncio.Future[int]:
        """Queue a message; the future gives the number of receivers, or
        raises :class:`BusError`.  Messages go out in the order queued."""
        future: asyncio.Future[int] = \
            asyncio.get_running_loop().create_future()
        self._out.append((channel, data, future))
        self._kick.set()
        return future

    async def publish(self, channel: str, data: bytes) -> int:
        return await self.publish_nowait(channel, data)

    async def receivers(self, channel: str) -> int:
        """How many nodes listen on ``channel``; BusError if unknown."""
        try:
            result = await self._redis.pubsub_numsub(channel)
        except self._errors as exc:
            raise BusError(str(exc) or type(exc).__name__) from exc
        return int(result[0][1]) if result else 0

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except BaseException:  # ending, whatever it was
                pass
        self._tasks.clear()
        if self._conn is not None:
            await self._conn.disconnect()
            self._conn = None
        await self._redis.aclose()

    async def _write_loop(self) -> None:
        out, kick = self._out, self._kick
        while True:
            await kick.wait()
            kick.clear()
            while out:
                batch = [out.popleft() for _ in range(min(len(out), BATCH))]
                try:
                    results = await self._publish_batch(batch)
                except self._errors as exc:
                    error = BusError(str(exc) or type(exc).__name__)
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, _, future), count in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(int(count))

    async def _publish_batch(self, batch: list[Any]) -> list[Any]:
        """PUBLISH a batch in one write on this bus's own connection (the
        pipeline object of redis-py costs more than the command here)."""
        packed = None
        if self._conn is not None and self._conn_stale:
            # The subscription broke since the last write: this connection
            # may be dead too, and a write to it would not fail at once.
            await self._conn.disconnect()
            self._conn = None
        self._conn_stale = False
        for attempt in (1, 2):
            conn = self._conn
            if conn is None:
                # Taken from the pool for good: this task alone writes on it.
                conn = self._conn = \
                    await self._redis.connection_pool.get_connection()  # type: ignore[no-untyped-call]
                packed = None
            if packed is None:
                packed = conn.pack_commands(
                    [('PUBLISH', channel, data) for channel, data, _ in batch])
            try:
                await conn.send_packed_command(packed, check_health=False)
            except self._errors:
                # Not sent (a connection that died while idle, as after a
                # Redis restart): once more on a new one.
                self._conn = None
                await conn.disconnect()
                if attempt == 2:
                    raise
                continue
            try:
                results = [await conn.read_response() for _ in batch]
            except BaseException:
                self._conn = None
                await conn.disconnect()
                raise
            for result in results:
                if isinstance(result, Exception):
                    raise result
            return results
        raise AssertionError('unreachable')  # pragma: no cover

    async def _read_loop(self, channel: str,
                         on_message: Callable[[bytes], None],
                         on_lost: Callable[[], None],
                         subscribed: asyncio.Future[None]) -> None:
        attempt = 0
        while not self._closing:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(channel)
                while True:  # the subscription is confirmed by a message
                    msg = await pubsub.get_message(timeout=5.0)
                    if msg is not None and msg['type'] == 'subscribe':
                        break
                    if msg is None:
                        raise BusError('no subscription confirmation')
                if subscribed.done():
                    self.logger.info('cluster: bus reachable again, '
                                     'subscribed to %s', channel)
                else:
                    subscribed.set_result(None)
                attempt = 0
                while True:
                    msg = await pubsub.get_message(timeout=None)
                    if msg is not None and msg['type'] == 'message':
                        on_message(msg['data'])
            except (*self._errors, BusError) as exc:  # type: ignore[misc]
                if not subscribed.done() and attempt >= 2:
                    # The server goes on without the bus; this loop keeps
                    # trying.
                    subscribed.set_exception(BusError(
                        f'cannot subscribe to {self.url}: {exc}'))
                elif subscribed.done():
                    self.logger.warning('cluster: bus connection lost (%s); '
                                        'subscribing again', exc)
                    self._conn_stale = True
                    on_lost()
            finally:
                try:
                    await pubsub.aclose()
                except BaseException:  # the connection is gone
                    pass
            await asyncio.sleep(_retry_delay(attempt))
            attempt += 1


class RedisBus:
    """The bus for the blocking :class:`~engineio.Server` (``redis``;
    under eventlet or gevent the process must be monkey patched, as the
    ``redis`` package uses the standard socket module)."""

    def __init__(self, url: str, logger: logging.Logger, runtime: Any) -> None:
        import redis  # the 'cluster' extra

        self.url = normalize_url(url)
        self.logger = logger
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,
                                                         OSError)
        self._redis = redis.Redis.from_url(self.url, socket_connect_timeout=2.0)
        self._runtime = runtime
        self._lock = runtime.Lock()
        self._closing = False
        self._pubsub: Any = None

    def start(self, channel: str, on_message: Callable[[bytes], None],
              on_lost: Callable[[], None]) -> None:
        """As :meth:`AsyncRedisBus.start`, in a task of the runtime."""
        ready = self._runtime.Event()
        failure: list[BaseException] = []
        self._runtime.spawn(self._read_loop, channel, on_message, on_lost,
                            ready, failure)
        ready.wait()
        if failure:
            raise failure[0]

    def publish(self, channel: str, data: bytes) -> int:
        try:
            with self._lock:
                return int(self._redis.publish(channel, data))
        except self._errors as exc:
            raise BusError(str(exc) or type(exc).__name__) from exc

    def receivers(self, channel: str) -> int:
        try:
            result = self._redis.pubsub_numsub(channel)
        except self._errors as exc:
            raise BusError(str(exc) or type(exc).__name__) from exc
        return int(result[0][1]) if result else 0

    def close(self) -> None:
        self._closing = True
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # the connection is gone
                pass
        self._redis.close()

    def _read_loop(self, channel: str, on_message: Callable[[bytes], None],
                   on_lost: Callable[[], None], ready: Any,
                   failure: list[BaseException]) -> None:
        attempt = 0
        while not self._closing:
            pubsub = self._pubsub = self._redis.pubsub()
            try:
                pubsub.subscribe(channel)
                while True:
                    msg = pubsub.get_message(timeout=5.0)
                    if msg is not None and msg['type'] == 'subscribe':
                        break
                    if msg is None:
                        raise BusError('no subscription confirmation')
                if ready.is_set():
                    self.logger.info('cluster: bus reachable again, '
                                     'subscribed to %s', channel)
                else:
                    ready.set()
                attempt = 0
                while not self._closing:
                    msg = pubsub.get_message(timeout=1.0)
                    if msg is not None and msg['type'] == 'message':
                        on_message(msg['data'])
            except (*self._errors, BusError) as exc:  # type: ignore[misc]
                if self._closing:
                    return
                if not ready.is_set() and attempt >= 2:
                    failure.append(BusError(
                        f'cannot subscribe to {self.url}: {exc}'))
                    ready.set()
                elif ready.is_set():
                    self.logger.warning('cluster: bus connection lost (%s); '
                                        'subscribing again', exc)
                    on_lost()
            finally:
                try:
                    pubsub.close()
                except Exception:  # the connection is gone
                    pass
            self._runtime.sleep(_retry_delay(attempt))
            attempt += 1
