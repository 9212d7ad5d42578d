"""The engineio demo: an :class:`~engineio.AsyncServer` under uvicorn with a
page that shows what Engine.IO does (latency, transport upgrade, a chat).

Run it with ``python -m engineio.demo`` (or ``./run-demo.sh`` from a
checkout) and open the printed URL in a few browser tabs.
"""
from __future__ import annotations

from .app import STATIC_DIR, create_app

__all__ = ['STATIC_DIR', 'create_app']
