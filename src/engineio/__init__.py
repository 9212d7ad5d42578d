"""Engine.IO server and client for Python: the real-time transport under
Socket.IO, speaking protocol v4 over HTTP long-polling and WebSocket."""
from __future__ import annotations

from typing import Any

from .adapters.wsgi import Middleware, WSGIApp
from .server import Server

__version__ = '4.16.0'

__all__ = ['ASGIApp', 'AsyncServer', 'Middleware', 'Server', 'WSGIApp',
           '__version__', 'get_tornado_handler']


def __getattr__(name: str) -> Any:
    # The asyncio and client classes pull in optional dependencies: import
    # them on first use only.
    if name == 'AsyncServer':
        from .async_server import AsyncServer
        return AsyncServer
    if name == 'ASGIApp':
        from .adapters.asgi import ASGIApp
        return ASGIApp
    if name == 'Client':
        from .client import Client
        return Client
    if name == 'AsyncClient':
        from .async_client import AsyncClient
        return AsyncClient
    if name == 'get_tornado_handler':
        from .adapters.tornado import get_tornado_handler
        return get_tornado_handler
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
