"""The cluster tests' own machinery, checked before any cluster exists:
Redis, HAProxy's balancing, the load client (js/load.js) against one plain
echo server, and the multi-worker launchers."""
from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from .helpers import (
    HANDSHAKE_PATH,
    Balanced,
    HAProxy,
    MultiWorker,
    RedisServer,
    handshake_ok,
    run_load,
    summary,
)
from support import Proc, start_server

#: Heartbeats every second, so a run of a few seconds spans several.
FAST_PINGS: dict[str, Any] = {'ping_interval': 1, 'ping_timeout': 2}


# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------

def test_redis_answers(redis_server: RedisServer, redis_url: str) -> None:
    assert redis_url == f'redis://127.0.0.1:{redis_server.port}/0'
    assert redis_server.ping()
    assert redis_server.command('SET', 'k', 'v') == 'OK'
    assert redis_server.command('GET', 'k') == b'v'
    # The Python client the feature uses talks to it as well.
    import redis
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
        assert client.get('k') == b'v'
    finally:
        client.close()


def test_redis_url_is_empty_for_each_test(redis_server: RedisServer,
                                          redis_url: str) -> None:
    # test_redis_answers left a key behind; this test's FLUSHALL removed it.
    assert redis_server.command('DBSIZE') == 0


def test_redis_stop_and_restart(private_redis: RedisServer) -> None:
    r = private_redis
    first_pid = r.pid
    assert r.command('SET', 'k', 'v') == 'OK'
    r.stop()
    assert not r.alive()
    assert not r.ping(timeout=0.5)
    r.start()
    assert r.ping()
    assert r.pid != first_pid
    # No persistence: a restarted Redis has forgotten everything.
    assert r.command('GET', 'k') is None
    second_pid = r.pid
    r.restart(down_for=0.2, hard=True)
    assert r.ping() and r.pid not in (first_pid, second_pid)
    assert r.url == f'redis://127.0.0.1:{r.port}/0'


# ---------------------------------------------------------------------------
# HAProxy
# ---------------------------------------------------------------------------

def _get(conn: http.client.HTTPConnection) -> tuple[int, str | None, bytes]:
    conn.request('GET', HANDSHAKE_PATH)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, resp.getheader('X-Backend'), body


def test_haproxy_balances_each_request_of_one_connection(
        start_workers: Callable[..., list[tuple[Proc, int]]],
        haproxy: Callable[..., HAProxy]) -> None:
    workers = start_workers('asgi_uvicorn.py', 3)
    proxy = haproxy([port for _, port in workers])
    conn = http.client.HTTPConnection('127.0.0.1', proxy.port, timeout=5)
    try:
        backends = []
        sock = None
        for i in range(9):
            status, backend, body = _get(conn)
            assert status == 200 and body.startswith(b'0{'), (status, body)
            if i == 0:
                sock = conn.sock
            # Still the first TCP connection: haproxy kept it alive.
            assert sock is not None and conn.sock is sock, \
                f'request {i}: the client connection was not kept alive'
            backends.append(backend)
    finally:
        conn.close()
    # Consecutive requests of one keep-alive connection: another backend
    # each time, all three in turn.
    assert all(a != b for a, b in itertools.pairwise(backends)), backends
    assert sorted(set(backends)) == ['w0', 'w1', 'w2'], backends
    # The workers agree: each served three handshakes (their event lines
    # may reach this process a moment after the responses).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            len(proc.events('connect')) < 3 for proc, _ in workers):
        time.sleep(0.05)
    for proc, _ in workers:
        assert len(proc.events('connect')) == 3, proc.lines[-10:]
    # haproxy writes its log line after the response: wait for the last.
    deadline = time.monotonic() + 5
    routes = proxy.routes()
    while len(routes) < 9 and time.monotonic() < deadline:
        time.sleep(0.05)
        routes = proxy.routes()
    assert [r['server'] for r in routes][-9:] == backends
    assert all(r['status'] == '200' and r['method'] == 'GET'
               for r in routes)


def test_haproxy_passes_websocket(
        start_workers: Callable[..., list[tuple[Proc, int]]],
        haproxy: Callable[..., HAProxy]) -> None:
    from support import ws_connect
    (_, port), = start_workers('asgi_uvicorn.py', 1)
    proxy = haproxy([port])
    ws = ws_connect(proxy.url)
    try:
        assert ws.recv().startswith('0{')
        ws.send('4hello')
        assert ws.recv() == '4hello'
        ws.send_binary(b'\x00\x01\xff')
        assert ws.recv() == b'\x00\x01\xff'
    finally:
        ws.close()


@pytest.mark.node
@pytest.mark.parametrize('transports',
                         ['polling', 'websocket', 'polling,websocket'])
def test_load_through_haproxy_one_backend(
        node_peers: Any, transports: str,
        start_workers: Callable[..., list[tuple[Proc, int]]],
        haproxy: Callable[..., HAProxy]) -> None:
    (_, port), = start_workers('asgi_uvicorn.py', 1, FAST_PINGS)
    proxy = haproxy([port])
    result = run_load(proxy.url, clients=5, messages=20, gap_ms=50,
                      transports=transports, hold_ms=1500, ping_check=True)
    assert result['ok'], summary(result)
    final = 'polling' if transports == 'polling' else 'websocket'
    assert result['transports'] == {final: 5}, summary(result)


@pytest.mark.node
def test_round_robin_without_cluster_breaks_sessions(
        node_peers: Any, balanced_workers: Callable[..., Balanced]) -> None:
    """The baseline the cluster option must change: separate servers behind
    round-robin do not know each other's sessions."""
    stack = balanced_workers('asgi_uvicorn.py', 3, FAST_PINGS, cluster=False)
    assert stack.redis_url is None and 'cluster' not in stack.options
    result = run_load(stack.url, clients=3, messages=10, gap_ms=20,
                      transports='polling', timeout_ms=15000)
    assert not result['ok'], summary(result)
    assert result['closes'] >= 1 and result['missing'] > 0, summary(result)
    routes = stack.proxy.routes()
    assert any(r['status'] == '400' for r in routes), routes
    # Each client's handshake reached one of the workers.
    sids = {c['sid'] for c in result['per_client']}
    assert sids <= {e['sid'] for e in stack.events('connect')}


# ---------------------------------------------------------------------------
# The load client against one plain echo server
# ---------------------------------------------------------------------------

@pytest.fixture
def echo_server() -> Any:
    proc, port = start_server('asgi_uvicorn.py', FAST_PINGS)
    try:
        yield proc, f'http://127.0.0.1:{port}'
    finally:
        proc.stop()


@pytest.mark.node
@pytest.mark.parametrize('transports',
                         ['polling', 'websocket', 'polling,websocket'])
def test_load_client_on_one_server(node_peers: Any, echo_server: Any,
                                   transports: str) -> None:
    proc, url = echo_server
    # 30 messages 60 ms apart and a 1.5 s hold: about 3 s per client, several
    # heartbeats (ping_interval 1 s).
    result = run_load(url, clients=6, messages=30, gap_ms=60,
                      transports=transports, hold_ms=1500, ping_check=True)
    assert result['ok'], summary(result)
    assert result['sent'] == result['received'] == 6 * 30
    assert result['duplicates'] == result['out_of_order'] == 0
    assert result['missing'] == result['closes'] == result['errors'] == 0
    assert result['pings'] >= 6 * 2, summary(result)
    final = 'polling' if transports == 'polling' else 'websocket'
    assert result['transports'] == {final: 6}, summary(result)
    if transports == 'polling,websocket':
        assert result['upgraded'] == 6
    sids = {c['sid'] for c in result['per_client']}
    assert len(sids) == 6 and sids <= {e['sid'] for e in proc.events('connect')}


@pytest.mark.node
@pytest.mark.parametrize('transports', ['polling', 'websocket'])
def test_load_client_reports_a_lost_server(node_peers: Any, echo_server: Any,
                                           transports: str) -> None:
    """The script can fail: the server stops while the clients hold."""
    proc, url = echo_server
    timer = threading.Timer(1.5, proc.stop)
    timer.start()
    try:
        result = run_load(url, clients=4, messages=4, transports=transports,
                          hold_ms=8000, ping_check=True, timeout_ms=15000)
    finally:
        timer.cancel()
    assert not result['ok'], summary(result)
    assert result['closes'] == 4, summary(result)
    assert not result['timeout'], summary(result)


@pytest.mark.node
def test_load_client_reports_no_server(node_peers: Any) -> None:
    from .helpers import free_port
    result = run_load(f'http://127.0.0.1:{free_port()}', clients=2,
                      messages=2, transports='polling', timeout_ms=5000)
    assert not result['ok'] and result['opened'] == 0, summary(result)
    assert result['missing'] == 4 and result['errors'] >= 2, summary(result)


# ---------------------------------------------------------------------------
# Several workers on one port
# ---------------------------------------------------------------------------

def _check_multi(server: MultiWorker, n: int) -> None:
    pids = server.worker_pids()
    assert len(pids) == n and server.pid not in pids, (pids, server.pid)
    info = handshake_ok(server.port)
    assert info is not None, server.proc.lines[-20:]
    assert info['open']['pingInterval'] == 1000, info
    assert int(info['headers']['x-worker-pid']) in pids, info


def test_uvicorn_workers_serve(
        uvicorn_workers: Callable[..., MultiWorker]) -> None:
    server = uvicorn_workers(3, FAST_PINGS)
    _check_multi(server, 3)


@pytest.mark.parametrize('worker', ['sync', 'gthread', 'gevent',
                                    'geventwebsocket', 'eventlet'])
def test_gunicorn_workers_serve(gunicorn_workers: Callable[..., MultiWorker],
                                worker: str) -> None:
    server = gunicorn_workers(3, FAST_PINGS, worker=worker)
    _check_multi(server, 3)
