"""Fixtures of the cluster tests: a real Redis, server workers, HAProxy in
front of them, multi-worker servers on one port (see helpers.py).

Every process a fixture starts is stopped by its own PID when the fixture
ends, whatever the test did.  A missing redis-server or haproxy fails the
test (CI installs both: scripts/setup.sh); nothing is skipped.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from . import helpers
from .helpers import Balanced, HAProxy, MultiWorker, RedisServer
from support import Proc


@pytest.fixture(scope='session')
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole run (``.url``, ``.port``, ``.pid``,
    ``.stop()``, ``.restart()``, ``.command(...)``, ``.ping()``).

    A test that stops it must start it again (``restart()`` or
    ``start()``); ``redis_url`` does so for the next test anyway.  Tests
    that break Redis on purpose are better off with ``private_redis``."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared Redis, running and empty (FLUSHALL) for this test."""
    if not redis_server.alive() or not redis_server.ping():
        redis_server.restart()
    assert redis_server.command('FLUSHALL') == 'OK'
    return redis_server.url


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, for fault tests (stop, restart,
    kill): the shared one stays untouched."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def start_workers() -> Iterator[Callable[..., list[tuple[Proc, int]]]]:
    """``start_workers(script, n, options=None, env=None, timeout=30.0)``
    -> ``[(Proc, port)] * n``: n processes of a server script printing
    ``READY <port>`` (tests/servers/*.py or tests/cluster/servers/*.py, or
    ``[script, *args]``), each with ``EIO_OPTIONS=json(options)``.  All
    are stopped by PID when the test ends (a test may stop one earlier:
    ``proc.stop()``)."""
    started: list[Proc] = []

    def start(script: str | Sequence[str], n: int,
              options: dict[str, Any] | None = None,
              env: dict[str, str] | None = None,
              timeout: float = 30.0) -> list[tuple[Proc, int]]:
        workers = helpers.start_workers(script, n, options, env, timeout)
        started.extend(p for p, _ in workers)
        return workers

    try:
        yield start
    finally:
        for p in started:
            p.stop()


@pytest.fixture
def haproxy() -> Iterator[Callable[..., HAProxy]]:
    """``haproxy(backend_ports, **kw)`` -> HAProxy (``.url``, ``.port``,
    ``.pid``, ``.routes()``, ``.stop()``): round-robin over the backends,
    every request balanced on its own (see helpers.HAProxy for ``kw``).
    Stopped by PID when the test ends."""
    started: list[HAProxy] = []

    def start(backend_ports: Sequence[int], **kw: Any) -> HAProxy:
        proxy = HAProxy(backend_ports, **kw)
        started.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()


@pytest.fixture
def uvicorn_workers() -> Iterator[Callable[..., MultiWorker]]:
    """``uvicorn_workers(n=3, options=None, env=None)`` -> MultiWorker:
    ``uvicorn --workers n`` on one port (``.url``, ``.port``,
    ``.worker_pids()``, ``.proc``, ``.stop()``). Stopped when the test
    ends."""
    started: list[MultiWorker] = []

    def start(n: int = 3, options: dict[str, Any] | None = None,
              env: dict[str, str] | None = None,
              timeout: float = 40.0) -> MultiWorker:
        server = helpers.start_uvicorn_workers(n, options, env, timeout)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def gunicorn_workers() -> Iterator[Callable[..., MultiWorker]]:
    """``gunicorn_workers(n=3, options=None, worker='gevent', env=None)``
    -> MultiWorker: ``gunicorn -k <worker> -w n`` on one port; ``worker``
    is one of helpers.GUNICORN_WORKERS (sync, gthread, gevent,
    geventwebsocket, eventlet). Stopped when the test ends."""
    started: list[MultiWorker] = []

    def start(n: int = 3, options: dict[str, Any] | None = None,
              worker: str = 'gevent', env: dict[str, str] | None = None,
              timeout: float = 40.0) -> MultiWorker:
        server = helpers.start_gunicorn_workers(n, options, worker, env,
                                                timeout)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def balanced_workers(request: pytest.FixtureRequest
                     ) -> Iterator[Callable[..., Balanced]]:
    """``balanced_workers(script='asgi_uvicorn.py', n=3, options=None,
    env=None, cluster=True, **haproxy_kw)`` -> Balanced: n workers of a
    server script behind one HAProxy (round-robin per request).  With
    ``cluster`` (the default) every worker gets ``"cluster": <URL of the
    shared, emptied Redis>`` in its options.  Everything is stopped by PID
    when the test ends."""
    started: list[Balanced] = []

    def start(script: str | Sequence[str] = 'asgi_uvicorn.py', n: int = 3,
              options: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, cluster: bool = True,
              **haproxy_kw: Any) -> Balanced:
        opts = dict(options or {})
        url = None
        if cluster:
            url = opts.setdefault('cluster',
                                  request.getfixturevalue('redis_url'))
        workers = helpers.start_workers(script, n, opts, env)
        try:
            proxy = HAProxy([port for _, port in workers], **haproxy_kw)
        except BaseException:
            for proc, _ in workers:
                proc.stop()
            raise
        stack = Balanced(proxy, workers, url, opts)
        started.append(stack)
        return stack

    try:
        yield start
    finally:
        for stack in started:
            stack.stop()
