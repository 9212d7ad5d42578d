"""Engine.IO server and client for Python: the real-time transport under
Socket.IO, speaking protocol v4 over HTTP long-polling and WebSocket."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .adapters.wsgi import Middleware, WSGIApp
from .server import Server

if TYPE_CHECKING:
    # What the lazy __getattr__ below returns, for type checkers: importing
    # them for real would pull in the optional dependencies at startup.
    from .adapters.asgi import ASGIApp
    from .adapters.tornado import get_tornado_handler
    from .async_client import AsyncClient
    from .async_server import AsyncServer
    from .client import Client

__version__ = '4.16.0'

__all__ = ['ASGIApp', 'AsyncClient', 'AsyncServer', 'Client', 'Middleware',
           'Server', 'WSGIApp', '__version__', 'get_tornado_handler']

# name -> module that defines it, imported on first use.
_LAZY = {
    'AsyncServer': '.async_server',
    'ASGIApp': '.adapters.asgi',
    'Client': '.client',
    'AsyncClient': '.async_client',
    'get_tornado_handler': '.adapters.tornado',
}


def __getattr__(name: str) -> Any:
    # The asyncio and client classes pull in optional dependencies: import
    # them on first use only.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    import importlib
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
