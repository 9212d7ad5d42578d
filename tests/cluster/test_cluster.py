"""Sessions shared by several worker processes through a real Redis, with
no sticky sessions: each worker is a real server process, HAProxy sends
every request to the next worker in turn, and the official engine.io-client
drives the sessions (tests/cluster/js/load.js)."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .helpers import (
    Balanced,
    MultiWorker,
    RedisServer,
    run_load,
    start_workers,
    summary,
)

#: Heartbeats every second, so a run of a few seconds spans several.
FAST_PINGS: dict[str, Any] = {'ping_interval': 1, 'ping_timeout': 2}


@dataclass(frozen=True)
class Mode:
    name: str
    script: str | tuple[str, ...]
    options: dict[str, Any]


MODES = [
    Mode('asgi', 'asgi_uvicorn.py', {}),
    Mode('threading', 'werkzeug_server.py', {'async_mode': 'threading'}),
    Mode('eventlet', ('patched_green.py', 'eventlet'), {'async_mode': 'eventlet'}),
    Mode('gevent', ('patched_green.py', 'gevent'), {'async_mode': 'gevent'}),
    Mode('aiohttp', 'aiohttp_server.py', {}),
]
MODE_IDS = [m.name for m in MODES]


def script_of(mode: Mode) -> Any:
    return mode.script if isinstance(mode.script, str) else list(mode.script)


# -- raw polling against one chosen worker ---------------------------------
def http(port: int, query: str = '', body: bytes | None = None,
         timeout: float = 15.0) -> tuple[int, bytes, float]:
    url = f'http://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling{query}'
    req = urllib.request.Request(url, data=body,
                                 method='POST' if body is not None else 'GET')
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), time.monotonic() - start
    except urllib.error.HTTPError as e:
        return e.code, e.read(), time.monotonic() - start


def handshake(port: int) -> str:
    status, body, _ = http(port)
    assert status == 200, body
    return str(json.loads(body[1:])['sid'])


def poll_for(port: int, sid: str, wanted: Callable[[bytes], bool],
             limit: int = 10) -> bytes:
    """GET (answering pings) until a payload ``wanted`` accepts."""
    for _ in range(limit):
        status, body, _ = http(port, f'&sid={sid}')
        assert status == 200, body
        if wanted(body):
            return body
        if b'2' in body.split(b'\x1e'):
            assert http(port, f'&sid={sid}', b'3')[0] == 200
    raise AssertionError(f'{sid}: nothing wanted in {limit} polls')


def events(proc: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in proc.events() if e.get('event') == kind]


def wait_events(proc: Any, kind: str, sid: str,
                timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in events(proc, kind) if e.get('sid') == sid]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# -- the official client through the balancer ------------------------------
@pytest.mark.node
@pytest.mark.parametrize('transports', ['polling', 'polling,websocket'])
@pytest.mark.parametrize('mode', MODES, ids=MODE_IDS)
def test_sessions_through_round_robin(
        node_peers: Any, balanced_workers: Callable[..., Balanced],
        mode: Mode, transports: str) -> None:
    """Every request goes to the next of three workers: all messages are
    echoed once, in order, across several heartbeats, and each session's
    handlers ran in one process only."""
    stack = balanced_workers(script_of(mode), 3, {**FAST_PINGS, **mode.options})
    result = run_load(stack.url, clients=6, messages=24, gap_ms=40,
                      hold_ms=2500, ping_check=True, transports=transports,
                      timeout_ms=40000)
    assert result['ok'], summary(result)
    assert result['received'] == 6 * 24 and result['closes'] == 0
    if transports != 'polling':
        assert result['transports'].get('websocket') == 6, summary(result)
    routes = stack.proxy.routes()
    assert {r['server'] for r in routes} == set(stack.proxy.server_names)
    sids = [c['sid'] for c in result['per_client']]
    for sid in sids:
        owners = [e['worker'] for e in stack.events('connect')
                  if e['sid'] == sid]
        assert len(owners) == 1, (sid, owners)


@pytest.mark.node
@pytest.mark.parametrize('mode', MODES[:2], ids=MODE_IDS[:2])
def test_websocket_sessions_through_round_robin(
        node_peers: Any, balanced_workers: Callable[..., Balanced],
        mode: Mode) -> None:
    stack = balanced_workers(script_of(mode), 3, {**FAST_PINGS, **mode.options})
    result = run_load(stack.url, clients=6, messages=24, gap_ms=20,
                      hold_ms=2000, ping_check=True, transports='websocket',
                      timeout_ms=30000)
    assert result['ok'], summary(result)


# -- forwarding, one request at a time -------------------------------------
@pytest.mark.parametrize('mode', MODES, ids=MODE_IDS)
def test_each_request_on_another_worker(redis_url: str, mode: Mode) -> None:
    """Handshake on the first worker, POST on the second, GET on the third:
    the owner runs the handler, and the answers are the owner's."""
    workers = start_workers(script_of(mode), 3, {
        **FAST_PINGS, **mode.options, 'cluster': redis_url})
    try:
        (p0, a), (p1, b), (p2, c) = workers
        sid = handshake(a)
        status, body, elapsed = http(b, f'&sid={sid}', b'4hello\x1e4world')
        assert (status, body) == (200, b'ok')
        assert http(c, f'&sid={sid}')[:2] == (200, b'4hello\x1e4world')
        # Held on the third worker until the owner's ping is due.
        status, body, elapsed = http(c, f'&sid={sid}')
        assert (status, body) == (200, b'2') and 0.5 < elapsed < 2.5
        assert http(b, f'&sid={sid}', b'3')[:2] == (200, b'ok')
        assert [e['sid'] for e in events(p0, 'connect')] == [sid]
        assert events(p1, 'connect') == events(p2, 'connect') == []
        # The client closes through the third worker: the owner's
        # disconnect handler runs, once.
        assert http(c, f'&sid={sid}', b'1')[:2] == (200, b'ok')
        gone = wait_events(p0, 'disconnect', sid)
        assert [e['reason'] for e in gone] == ['client disconnect']
        assert events(p1, 'disconnect') == events(p2, 'disconnect') == []
        assert http(b, f'&sid={sid}')[0] == 400
    finally:
        for proc, _ in workers:
            proc.stop()


@pytest.mark.parametrize('mode', MODES[:4], ids=MODE_IDS[:4])
def test_server_methods_reach_sessions_of_other_workers(
        redis_url: str, mode: Mode) -> None:
    """send, get_session/save_session (session()) and disconnect called on
    one worker for a session another owns."""
    workers = start_workers(script_of(mode), 2, {
        **mode.options, 'cluster': redis_url})
    try:
        (_, a), (p1, b) = workers
        x, y = handshake(a), handshake(b)
        assert x[:6] != y[:6]  # the owners' node tags

        def ask(message: str, expect: bytes) -> None:
            assert http(a, f'&sid={x}', b'4' + message.encode())[:2] \
                == (200, b'ok')
            poll_for(a, x, lambda body: expect in body)

        ask(f'__send__:{y}:hello there', b'4done:__send__')
        poll_for(b, y, lambda body: b'4hello there' in body)
        ask(f'__setsess__:{y}:v1', b'4done:__setsess__')
        ask(f'__getsess__:{y}:', b'4sess:{"v": "v1"}')
        ask('__getsess__:ZZZZZZ' + 'z' * 14 + ':', b'4error:')
        ask(f'__kick__:{y}:', b'4done:__kick__')
        gone = wait_events(p1, 'disconnect', y)
        assert [e['reason'] for e in gone] == ['server disconnect']
        poll_for(b, y, lambda body: body == b'1')
    finally:
        for proc, _ in workers:
            proc.stop()


# -- failures ---------------------------------------------------------------
@pytest.mark.parametrize('mode', MODES[:4], ids=MODE_IDS[:4])
def test_killed_owner_fails_its_requests_at_once(redis_url: str,
                                                 mode: Mode) -> None:
    """A GET held for a session whose owner is killed ends within the
    watch interval; later requests for it get 400 at once; the sessions of
    the other workers go on."""
    workers = start_workers(script_of(mode), 2, {
        'ping_interval': 20, 'ping_timeout': 20, **mode.options,
        'cluster': redis_url})
    try:
        (p0, a), (_, b) = workers
        doomed, alive = handshake(a), handshake(b)
        held: list[Any] = []
        waiter = threading.Thread(
            target=lambda: held.append(http(b, f'&sid={doomed}')))
        waiter.start()
        time.sleep(0.5)
        os.kill(p0.proc.pid, signal.SIGKILL)
        waiter.join(10)
        assert held, 'the held GET did not end'
        status, _, elapsed = held[0]
        assert status == 400 and elapsed < 3.5, held
        status, body, elapsed = http(b, f'&sid={doomed}')
        assert status == 400 and elapsed < 0.5, (body, elapsed)
        assert b'Session ID unknown' in body
        assert http(b, f'&sid={alive}', b'4still')[:2] == (200, b'ok')
        poll_for(b, alive, lambda body: b'4still' in body)
    finally:
        for proc, _ in workers:
            proc.stop()


@pytest.mark.parametrize('mode', MODES[:2], ids=MODE_IDS[:2])
def test_redis_outage(private_redis: RedisServer, mode: Mode) -> None:
    """Without Redis, local sessions keep working and forwarded requests
    fail at once (503); once Redis is back the workers subscribe again and
    forwarding works."""
    workers = start_workers(script_of(mode), 2, {
        **mode.options, 'cluster': private_redis.url})
    try:
        (_, a), (_, b) = workers
        sid = handshake(a)
        assert http(b, f'&sid={sid}', b'4before')[:2] == (200, b'ok')
        poll_for(a, sid, lambda body: b'4before' in body)
        private_redis.stop(hard=True)
        local = handshake(b)
        assert http(b, f'&sid={local}', b'4local')[:2] == (200, b'ok')
        poll_for(b, local, lambda body: b'4local' in body)
        status, _, elapsed = http(b, f'&sid={sid}', b'4during')
        assert status == 503 and elapsed < 2.5, (status, elapsed)
        private_redis.start()
        deadline = time.monotonic() + 10
        while True:
            status, body, _ = http(b, f'&sid={sid}', b'4after')
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert (status, body) == (200, b'ok')
        poll_for(a, sid, lambda body: b'4after' in body)
    finally:
        for proc, _ in workers:
            proc.stop()


@pytest.mark.node
def test_killed_worker_under_load_ends_exactly_its_sessions(
        node_peers: Any, balanced_workers: Callable[..., Balanced]) -> None:
    """SIGKILL one of three workers while clients run: the clients whose
    sessions it owned see one close each, at once; no client hangs.  A
    client whose request was in flight *through* the killed worker gets
    the balancer's 502 for it (the connection died with the process), which
    ends that session too; every other client finishes untouched."""
    stack = balanced_workers('asgi_uvicorn.py', 3, FAST_PINGS)
    out: list[dict[str, Any]] = []
    runner = threading.Thread(target=lambda: out.append(run_load(
        stack.url, clients=9, messages=40, gap_ms=60,
        transports='polling', timeout_ms=40000)))
    runner.start()
    time.sleep(1.2)
    victim, _ = stack.workers[2]
    owned = {e['sid'] for e in stack.events('connect') if e['worker'] == 2}
    killed_at = time.monotonic()
    os.kill(victim.proc.pid, signal.SIGKILL)
    runner.join(60)
    assert out, 'load did not finish'
    result = out[0]
    assert owned, 'the killed worker owned no session'
    in_flight = 0
    for client in result['per_client']:
        closes = client['close_reasons']
        assert len(closes) <= 1, client
        if client['sid'] in owned:
            assert len(closes) == 1, client
        elif closes:
            # Only the balancer's answer for the dead connection.
            assert closes[0]['description']['description'] == 502, client
            in_flight += 1
    assert in_flight < len(result['per_client']) - len(owned), summary(result)
    assert time.monotonic() - killed_at < 30


# -- several workers on one port -------------------------------------------
@pytest.mark.node
def test_uvicorn_workers_share_sessions(
        node_peers: Any, uvicorn_workers: Callable[..., MultiWorker],
        redis_url: str) -> None:
    server = uvicorn_workers(3, {**FAST_PINGS, 'cluster': redis_url})
    result = run_load(server.url, clients=9, messages=16, gap_ms=30,
                      transports='polling', timeout_ms=30000)
    assert result['ok'], summary(result)


@pytest.mark.node
@pytest.mark.parametrize('worker', ['gevent', 'eventlet', 'aiohttp'])
def test_gunicorn_workers_share_sessions(
        node_peers: Any, gunicorn_workers: Callable[..., MultiWorker],
        redis_url: str, worker: str) -> None:
    server = gunicorn_workers(3, {**FAST_PINGS, 'cluster': redis_url},
                              worker=worker)
    result = run_load(server.url, clients=9, messages=16, gap_ms=30,
                      transports='polling', timeout_ms=30000)
    assert result['ok'], summary(result)


@pytest.mark.node
def test_aiohttp_workers_with_upgrades(
        node_peers: Any, gunicorn_workers: Callable[..., MultiWorker],
        redis_url: str) -> None:
    """The deployment docs/deployment.md recommends for several processes:
    gunicorn's aiohttp worker on uvloop, the cluster behind it; sessions
    start on polling on any worker and upgrade."""
    server = gunicorn_workers(3, {**FAST_PINGS, 'cluster': redis_url},
                              worker='aiohttp')
    result = run_load(server.url, clients=9, messages=16, gap_ms=30,
                      transports='polling,websocket', timeout_ms=30000)
    assert result['ok'], summary(result)
    assert result['transports'] == {'websocket': 9}, summary(result)
    assert len(server.worker_pids()) == 3


@pytest.mark.node
def test_uwsgi_processes_share_sessions(node_peers: Any, redis_url: str,
                                        tmp_path: Any) -> None:
    """uWSGI with three processes under gevent (monkey patched, as the
    cluster needs): its HTTP router hands each request to any process.  The
    app is made in the master before the fork (no lazy-apps), so each
    worker must still get a node tag of its own."""
    import socket as socket_module
    import sys
    from pathlib import Path

    from support import SERVERS, Proc
    uwsgi = Path(sys.executable).with_name('uwsgi')
    assert uwsgi.exists(), 'uwsgi is not installed (CI installs it)'
    with socket_module.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    options = {**FAST_PINGS, 'async_mode': 'gevent_uwsgi',
               'cluster': redis_url}
    proc = Proc([str(uwsgi), '--http', f'127.0.0.1:{port}',
                 '--gevent', '1000', '--gevent-monkey-patch',
                 '--http-websockets', '--master', '--processes', '3',
                 '--wsgi-file', str(SERVERS / 'deploy_app.py'),
                 '--callable', 'app', '--die-on-term', '--disable-logging'],
                env={'EIO_OPTIONS': json.dumps(options),
                     'PYTHONPATH': str(SERVERS)})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, _ = http(port, '', timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, '\n'.join(proc.lines[-30:])
            time.sleep(0.2)
        # Polling only: uWSGI's WebSocket API does not say whether a
        # message was text or binary (docs/limits.md), and the load client
        # sends both.
        result = run_load(f'http://127.0.0.1:{port}', clients=9,
                          messages=16, gap_ms=30, transports='polling',
                          timeout_ms=30000)
        assert result['ok'], (summary(result), proc.lines[-20:])
        # Handshakes on new connections reach several processes; each
        # session then answers through whichever process gets its requests.
        # Which process accepts a connection is the kernel's choice (a busy
        # machine may let one take many in a row): handshake until two
        # processes have answered, within a bound.
        sids = [handshake(port) for _ in range(24)]
        while len({sid[:6] for sid in sids}) < 2 and len(sids) < 200:
            sids.append(handshake(port))
        tags = {sid[:6] for sid in sids}
        assert len(tags) >= 2, tags  # one tag per process, not per master
        for sid in sids:
            assert http(port, f'&sid={sid}', b'4x:' + sid.encode())[:2] \
                == (200, b'ok')
            poll_for(port, sid, lambda body, sid=sid:
                     b'4x:' + sid.encode() in body)
    finally:
        proc.stop()
