"""What the green-thread runtimes (eventlet, gevent, uWSGI) share.

Green threads are cheap and never run in parallel, so the job pool needs no
idle workers or locks: every job simply gets its own green thread.  The
threading runtime keeps its elastic pool (:mod:`.pool`), because real
threads are expensive to start.

A green runtime also offers ``Signal``, an event that resets as its one
waiter wakes: the server parks a session's handler worker on it between
messages, since waking a parked green thread costs about a third of
starting one per message (measured with gevent and eventlet).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class SpawnPool:
    """A "pool" that starts one green thread per job.

    It offers the ``submit(fn, *args)`` the server calls on
    :class:`~engineio._runtime.pool.WorkerPool`, so the server's code is the
    same under every runtime.
    """

    def __init__(self, spawn: Callable[..., Any]) -> None:
        self._spawn = spawn

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in a new green thread and return at once."""
        self._spawn(fn, *args)
