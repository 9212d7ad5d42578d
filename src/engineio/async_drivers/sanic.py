"""Compatibility names of the sanic support (see
:mod:`engineio.adapters.sanic`)."""
from __future__ import annotations

from typing import Any

from ..adapters.sanic import SanicWebSocket, attach
from ..adapters.sanic import translate_request as _exchange

WebSocket = SanicWebSocket


def create_route(app: Any, engineio_server: Any, engineio_endpoint: str) -> None:
    """Route the Engine.IO endpoint of a sanic application."""
    attach(engineio_server, app, engineio_endpoint)


def translate_request(request: Any) -> dict[str, Any]:
    """The WSGI-style environ of a sanic request."""
    return _exchange(request).environ


__all__ = ['WebSocket', 'create_route', 'translate_request']
