"""Compatibility names of the aiohttp support (see
:mod:`engineio.adapters.aiohttp`)."""
from __future__ import annotations

from typing import Any

from ..adapters.aiohttp import AiohttpWebSocket, attach
from ..adapters.aiohttp import translate_request as _exchange

WebSocket = AiohttpWebSocket


def create_route(app: Any, engineio_server: Any, engineio_endpoint: str) -> None:
    """Route the Engine.IO endpoint of an aiohttp application."""
    attach(engineio_server, app, engineio_endpoint)


def translate_request(request: Any) -> dict[str, Any]:
    """The WSGI-style environ of an aiohttp request."""
    return _exchange(request).environ


async def make_response(status: str, headers: list[tuple[str, str]],
                        payload: bytes, environ: dict[str, Any]) -> Any:
    """The aiohttp response for a status line, headers and body."""
    from aiohttp import web
    return web.Response(body=payload, status=int(status.split(' ', 1)[0]),
                        headers=headers)


__all__ = ['WebSocket', 'create_route', 'make_response', 'translate_request']
