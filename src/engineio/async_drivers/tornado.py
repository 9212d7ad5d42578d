"""Compatibility names of the tornado support (see
:mod:`engineio.adapters.tornado`); python-socketio imports
``get_tornado_handler`` from here."""
from __future__ import annotations

from ..adapters.tornado import TornadoWebSocket, get_tornado_handler

WebSocket = TornadoWebSocket

__all__ = ['WebSocket', 'get_tornado_handler']
