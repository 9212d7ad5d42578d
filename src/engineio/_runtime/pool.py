"""An elastic pool of worker threads for message handlers.

Handlers may block (waiting on a database, or on another client), so the
pool never queues a job behind a busy worker: it hands the job to an idle
thread or starts a new one.  Idle threads exit after a while, so none
outlive a burst.

The idle threads form a stack and a job goes to the one that became idle
last.  With one shared queue the jobs of a light steady load would be spread
over every thread left from a burst, each getting one often enough never to
time out; with the stack the threads at its bottom see no job and exit.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

Job = tuple[Callable[..., Any], tuple[Any, ...]]


class WorkerPool:
    def __init__(self, idle_timeout: float = 5.0,
                 name: str = 'engineio-worker') -> None:
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Job]] = []
        self._idle_timeout = idle_timeout
        self._name = name
        self.threads = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
            if inbox is None:
                self.threads += 1
        if inbox is None:
            # The job goes through the inbox, not the Thread's arguments,
            # which would keep it alive as long as the thread lives.
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._work, args=(inbox,),
                             name=self._name, daemon=True).start()
        inbox.put((fn, args))

    def _work(self, inbox: queue.SimpleQueue[Job]) -> None:
        job: Job | None = inbox.get()
        while job is not None:
            fn, args = job
            job = None  # the finished job's arguments must not stay alive
            try:
                fn(*args)
            except BaseException:  # pragma: no cover - jobs catch their own
                pass
            del fn, args
            with self._lock:
                self._idle.append(inbox)
            try:
                job = inbox.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        self.threads -= 1
                        return
                # A submitter took this thread just as it timed out; its job
                # is on the way.
                job = inbox.get()
