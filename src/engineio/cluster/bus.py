"""What a cluster node needs from its bus: the small interface that
:mod:`.redis_bus` implements over Redis pub/sub, and another engine (NATS,
sharded pub/sub) or an in-memory bus for tests can implement too.

A bus delivers each message published on a channel to the nodes subscribed
to it, in the order one publisher published them, and tells the publisher
how many nodes received it.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol


class AsyncBus(Protocol):
    """The bus of :class:`~engineio.AsyncServer`'s node."""

    url: str

    async def start(self, channel: str, on_message: Callable[[bytes], None],
                    on_lost: Callable[[], None]) -> None:
        """Subscribe to ``channel``; deliver messages to ``on_message`` in
        order; call ``on_lost`` when messages may have been lost."""

    def publish_nowait(self, channel: str, data: bytes) -> asyncio.Future[int]:
        """Queue a message (sent in the order queued); the future gives the
        number of receivers or raises ``BusError``."""

    async def publish(self, channel: str, data: bytes) -> int: ...

    async def receivers(self, channel: str) -> int:
        """How many nodes listen on ``channel``."""

    async def close(self) -> None: ...


class Bus(Protocol):
    """The bus of the blocking :class:`~engineio.Server`'s node."""

    url: str

    def start(self, channel: str, on_message: Callable[[bytes], None],
              on_lost: Callable[[], None]) -> None: ...
    def publish(self, channel: str, data: bytes) -> int: ...
    def receivers(self, channel: str) -> int: ...
    def close(self) -> None: ...
