"""The engineio demo: an :class:`~engineio.AsyncServer` on aiohttp (or any
ASGI server) with a page that shows what Engine.IO does (latency, transport
upgrade, a chat).

Run it with ``python -m engineio.demo`` (or ``./run-demo.sh`` from a
checkout) and open the printed URL in a few browser tabs.
"""
from __future__ import annotations

from .app import STATIC_DIR, create_aiohttp_app, create_app, create_server

__all__ = ['STATIC_DIR', 'create_aiohttp_app', 'create_app', 'create_server']
