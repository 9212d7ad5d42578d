"""Concurrency runtimes for the blocking server and client.

A runtime bundles the primitives of one concurrency model (threads,
eventlet or gevent green threads, uWSGI): spawning tasks, sleeping, events,
queues, locks, a pool that runs message handlers, and WebSocket support for
WSGI servers.  Web frameworks are a separate axis (see ``adapters``).
"""
from __future__ import annotations

import importlib
from typing import Any

#: The order in which ``Server(async_mode=None)`` tries runtimes.
SYNC_MODES = ('eventlet', 'gevent_uwsgi', 'gevent', 'threading')


def load(mode: str) -> Any:
    """Import the runtime module of an async mode.

    Raises :class:`ImportError` when the mode's dependencies are missing and
    :class:`ValueError` for a mode that does not exist.
    """
    if mode not in SYNC_MODES:
        raise ValueError(f'Invalid async_mode {mode!r}; valid modes: '
                         + ', '.join(SYNC_MODES))
    return importlib.import_module(f'{__name__}.{mode}_runtime'
                                   if mode != 'threading'
                                   else f'{__name__}.threading_runtime')
