"""The threading mode's elastic worker pool: never queues behind a busy
worker, and shrinks back once a burst is over even under a light load."""
from __future__ import annotations

import threading
import time

from engineio._runtime.pool import WorkerPool

from support import wait_until


def wait_for(predicate, timeout: float = 5.0) -> bool:
    return wait_until(predicate, timeout, interval=0.01)


def test_blocked_jobs_each_get_a_thread():
    pool = WorkerPool(idle_timeout=0.3)
    release = threading.Event()
    started = []
    for i in range(8):
        pool.submit(lambda i=i: (started.append(i), release.wait(5)))
    try:
        assert wait_for(lambda: len(started) == 8)
        assert pool.threads == 8
    finally:
        release.set()
    assert wait_for(lambda: pool.threads == 0)


def test_burst_threads_exit_under_a_trickle():
    # A job every 20 ms is far more often than the idle timeout: with one
    # shared queue the 20 threads would take turns and none would time out.
    pool = WorkerPool(idle_timeout=0.5)
    release = threading.Event()
    for _ in range(20):
        pool.submit(release.wait, 5)
    assert wait_for(lambda: pool.threads == 20)
    release.set()
    done: list[int] = []
    deadline = time.monotonic() + 4
    sent = 0
    while time.monotonic() < deadline and (sent < 50 or pool.threads > 2):
        pool.submit(done.append, sent)
        sent += 1
        time.sleep(0.02)
    assert pool.threads <= 2
    assert wait_for(lambda: len(done) == sent)
    assert sorted(done) == list(range(sent))


def test_job_arguments_are_not_kept_by_an_idle_thread():
    import gc
    import weakref

    class Payload:
        pass

    pool = WorkerPool(idle_timeout=2)
    payload = Payload()
    ref = weakref.ref(payload)
    ran = threading.Event()
    pool.submit(lambda p: ran.set(), payload)
    del payload
    assert ran.wait(5)
    assert wait_for(lambda: (gc.collect(), ref() is None)[1])
    assert pool.threads == 1
