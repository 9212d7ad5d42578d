"""An elastic pool of worker threads for message handlers.

Handlers may block (waiting on a database, or on another client), so the
pool never queues a job behind a busy worker: it reuses an idle thread or
starts a new one.  Idle threads exit after a while, so none outlive a burst.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class WorkerPool:
    def __init__(self, idle_timeout: float = 5.0,
                 name: str = 'engineio-worker') -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] \
            = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._idle_timeout = idle_timeout
        self._name = name
        self.threads = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._jobs.put((fn, args))
        with self._lock:
            if self._idle > 0:
                return
            self.threads += 1
        threading.Thread(target=self._work, name=self._name,
                         daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                fn, args = self._jobs.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._jobs.empty():
                        self.threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
            try:
                fn(*args)
            except BaseException:  # pragma: no cover - jobs catch their own
                pass
