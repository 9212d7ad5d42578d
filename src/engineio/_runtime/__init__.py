"""Concurrency runtimes for the blocking server and client.

A runtime bundles the primitives of one concurrency model (threads,
eventlet or gevent green threads, uWSGI): spawning tasks, sleeping, events,
queues, locks, a pool that runs message handlers, and WebSocket support for
WSGI servers.  Web frameworks are a separate axis (see ``adapters``).

Each mode ``M`` lives in the module ``M_runtime`` and provides ``name``,
``Event``, ``Lock``, ``Queue``, ``QueueEmpty``, ``sleep``, ``spawn``,
``make_pool`` and ``websocket(environ, max_message_size, write_timeout,
compression)`` (``compression``: the permessage-deflate threshold in bytes,
or None for none).
Importing a runtime module raises :class:`ImportError` when the mode cannot
be used here (a package is missing, or for ``gevent_uwsgi``, the process is
not a uWSGI server running gevent), which is what automatic selection tests.
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
    return importlib.import_module(f'{__name__}.{mode}_runtime')
