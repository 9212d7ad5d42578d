"""Compatibility names of the ASGI support (see :mod:`engineio.adapters.asgi`)."""
from __future__ import annotations

from typing import Any

from ..adapters.asgi import ASGIApp, ASGIWebSocket, Receive, Scope, Send
from ..adapters.asgi import translate_request as _exchange
from ..sansio.models import Response

WebSocket = ASGIWebSocket


async def translate_request(scope: Scope, receive: Receive,
                            send: Send) -> dict[str, Any]:
    """The WSGI-style environ of an ASGI request, as ``connect`` handlers
    receive it (``environ['wsgi.input'].read()`` is a coroutine)."""
    return _exchange(scope, receive, send).environ


async def make_response(status: str, headers: list[tuple[str, str]],
                        payload: bytes, environ: dict[str, Any]) -> None:
    """Send a complete response for the request of ``environ``.

    :param status: a status line such as ``'200 OK'``.
    """
    exchange = environ['wsgi.input']
    await exchange.respond(Response(int(status.split(' ', 1)[0]),
                                    list(headers), payload))


__all__ = ['ASGIApp', 'WebSocket', 'make_response', 'translate_request']
