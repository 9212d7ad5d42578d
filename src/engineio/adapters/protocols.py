"""What the drivers need from an adapter: the two interfaces every web
framework's translation implements.

The asyncio server talks to aiohttp, tornado, sanic and ASGI servers only
through an :class:`Exchange` (one HTTP request) and the
:class:`WebSocket` it may accept.  The blocking server's WebSockets
(:mod:`engineio.adapters.wsgi_websocket`, gevent-websocket's, uWSGI's)
offer the same three calls without ``await``: :class:`BlockingWebSocket`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from ..sansio.models import Request, Response


class WebSocket(Protocol):
    """A framework's WebSocket, as the asyncio driver uses it."""

    async def send(self, frame: str | bytes) -> None: ...
    # The next message; None once the WebSocket is closed.
    async def wait(self) -> str | bytes | None: ...
    async def close(self) -> None: ...


class BlockingWebSocket(Protocol):
    """A WebSocket served under WSGI, as the blocking driver uses it."""

    def send(self, frame: str | bytes) -> None: ...
    def wait(self) -> str | bytes | None: ...
    def close(self) -> None: ...
    # What the WSGI application returns once the WebSocket has ended.
    def finish_request(self) -> Iterable[bytes]: ...


class Exchange(Protocol):
    """One request as an asyncio adapter presents it to the driver."""

    environ: dict[str, Any]
    request: Request

    def set_cors(self, headers: list[tuple[str, str]]) -> None: ...
    # What the long-polling hooks receive (may be smaller than environ).
    def hook_environ(self) -> dict[str, Any]: ...
    # What a POST's body is read from (``await body_input().read(n)``).
    def body_input(self) -> Any: ...
    async def respond(self, response: Response) -> Any: ...
    # ``compression``: the permessage-deflate threshold, None for off; an
    # adapter whose framework cannot negotiate it ignores it.
    async def accept_websocket(self, max_size: int,
                               compression: int | None = None
                               ) -> WebSocket | None: ...
    async def finish_websocket(self) -> Any: ...
