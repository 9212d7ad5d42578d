"""python-socketio on top of the Engine.IO cluster, driven by the official
socket.io-client.

Three worker processes of a python-socketio server, each with
``cluster=<Redis URL>`` (Engine.IO sessions shared, no sticky sessions)
and python-socketio's Redis client manager on the same real redis-server
(rooms and broadcasts across the workers), behind HAProxy round robin
with no affinity: every HTTP request of a client may reach another
worker, which forwards it to the session's owner.  Both server flavours:

* ``socketio.AsyncServer(async_mode='asgi',
  client_manager=socketio.AsyncRedisManager(url), cluster=url)`` under
  uvicorn (tests/cluster/servers/sio_cluster_asgi.py);
* ``socketio.Server(async_mode='threading',
  client_manager=socketio.RedisManager(url), cluster=url)`` under
  Werkzeug's threaded server (sio_cluster_wsgi.py),

each with polling then upgrade (the client's default) and with polling
only.  tests/cluster/js/sio_cluster.js runs the clients (see its header
for the steps); here every count is checked exactly: acknowledgements,
room messages (members on every worker, each room message once, from
every worker), broadcasts (each client once), numbered messages in order
both ways, no disconnection across heartbeats (ping every second), one
connect and one disconnect per client on the server side.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .helpers import Balanced
from support import NODE, ROOT, wait_until

SIO_JS = ROOT / 'tests' / 'cluster' / 'js' / 'sio_cluster.js'
SOCKETIO_CLIENT = ROOT / 'tests' / 'compat' / 'js' / 'node_modules' / \
    'socket.io-client'

#: Heartbeats every second (ping_interval and ping_timeout go through
#: python-socketio to engineio): the run spans several.
FAST_PINGS: dict[str, Any] = {'ping_interval': 1, 'ping_timeout': 2}
CLIENTS = 6
MESSAGES = 30
HOLD_MS = 3500
WORKERS = 3

#: What sio_cluster.js sends to ``echo`` (each is acknowledged unchanged).
ECHOES: list[list[Any]] = [
    ['text'],
    [{'a': 1, 'b': [1, 2, 'x'], 'c': None}],
    [1, 'two', {'three': 3}, [4]],
    ['héllo ☃ 😀'],
    ['x' * 5000],
]


@dataclass(frozen=True)
class Flavour:
    name: str
    script: str
    options: dict[str, Any]


FLAVOURS = [
    Flavour('asgi', 'sio_cluster_asgi.py', {}),
    # python-socketio's own async_handlers off: with it every event runs in
    # a thread of its own, so the order in which the server *records*
    # numbered events would be the threads' order, not the arrival order
    # this file checks.
    Flavour('threading', 'sio_cluster_wsgi.py', {'async_handlers': False}),
]
TRANSPORTS = ['polling,websocket', 'polling']


@pytest.fixture
def socketio_client(node_peers: Any) -> None:
    """The npm socket.io-client the script loads; a missing one fails."""
    assert SOCKETIO_CLIENT.is_dir(), \
        'run "npm ci" in tests/compat/js first (.ci/run does it)'


def run_clients(stack: Balanced, transports: str,
                timeout_ms: int = 30000) -> dict[str, Any]:
    workers = ','.join(f'http://127.0.0.1:{port}' for _, port in stack.workers)
    args = [NODE, str(SIO_JS), '--url', stack.url, '--workers', workers,
            '--clients', str(CLIENTS), '--transports', transports,
            '--messages', str(MESSAGES), '--hold-ms', str(HOLD_MS),
            '--timeout-ms', str(timeout_ms)]
    out = subprocess.run(args, capture_output=True, text=True,
                         timeout=timeout_ms / 1000 + 15,
                         cwd=str(SIO_JS.parent))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    assert lines, f'no result from sio_cluster.js (exit {out.returncode}):' \
        f'\n{out.stdout}\n{out.stderr}'
    result: dict[str, Any] = json.loads(lines[-1])
    assert result['ok'] and out.returncode == 0, \
        f'sio_cluster.js failed at step {result.get("step")!r}: ' \
        f'{result.get("error")}\n{out.stderr[-2000:]}\n' \
        + json.dumps(result)[:4000]
    return result


def server_problems(stack: Balanced) -> list[str]:
    """Warnings, errors, tracebacks and thread exceptions the workers
    printed."""
    out = []
    for i, (proc, _) in enumerate(stack.workers):
        for line in list(proc.lines):
            if line.startswith(('LOG WARNING', 'LOG ERROR', 'LOG CRITICAL')) \
                    or 'Traceback' in line or 'thread-exception' in line:
                out.append(f'w{i}: {line}')
    return out


@pytest.mark.node
@pytest.mark.parametrize('transports', TRANSPORTS,
                         ids=['upgrade', 'polling'])
@pytest.mark.parametrize('flavour', FLAVOURS, ids=[f.name for f in FLAVOURS])
def test_socketio_on_cluster(flavour: Flavour, transports: str,
                             socketio_client: None,
                             balanced_workers: Callable[..., Balanced]
                             ) -> None:
    stack = balanced_workers(flavour.script, n=WORKERS,
                             options={**FAST_PINGS, **flavour.options})
    worker_pids = [proc.proc.pid for proc, _ in stack.workers]
    result = run_clients(stack, transports)
    clients = result['clients']
    assert [c['name'] for c in clients] == [f'c{i}' for i in range(CLIENTS)]
    by_name = {c['name']: c for c in clients}

    # -- the server side: one connect per client, on the worker whose pid
    # the client's handlers reported (the session's owner).
    connects = stack.events('connect')
    assert sorted(e['name'] for e in connects) == sorted(by_name), connects
    owner: dict[str, int] = {}
    eio_sids: dict[str, str] = {}
    for e in connects:
        c = by_name[e['name']]
        assert e['sid'] == c['id'], (e, c['id'])
        assert e['pid'] == worker_pids[e['worker']] == c['pid'], (e, c)
        owner[e['name']] = e['worker']
        eio_sids[e['name']] = e['eio_sid']
    # Sessions on several workers, so rooms and broadcasts cross them.
    assert len(set(owner.values())) >= 2, owner

    # -- transports
    for c in clients:
        assert c['initialTransport'] == 'polling', c
        if transports == 'polling':
            assert (c['transport'], c['upgraded']) == ('polling', False), c
        else:
            assert (c['transport'], c['upgraded']) == ('websocket', True), c

    # -- acknowledgements return the data; the Socket.IO session is kept
    for c in clients:
        assert c['echo'] == ECHOES, c['name']
        assert c['recall'] == f'kept-{c["name"]}', c

    # -- rooms: the even clients are the members; c1 (not one) emitted to
    # the room from its owner, then every worker once (HTTP, directly).
    members = [f'c{i}' for i in range(0, CLIENTS, 2)]
    assert result['joinPids'] == [by_name[m]['pid'] for m in members]
    assert result['toRoomPid'] == by_name['c1']['pid']
    assert result['roomTriggerPids'] == worker_pids
    # Each exactly once, but in no fixed order: python-socketio's
    # PubSubManager runs an emit at once on the worker that makes it and
    # queues the others' through Redis (the listener thread), so h2 made on
    # the owner can overtake h1 made on another worker a moment earlier
    # (seen once under CI load). The order of one sender's messages is
    # checked below (seq_me).
    expected_room = sorted(['m-c1'] + [f'h{i}' for i in range(WORKERS)])
    room_got = {c['name']: sorted(c['room_msg']) for c in clients}
    assert room_got == {c['name']: expected_room if c['name'] in members
                        else [] for c in clients}

    # -- broadcasts: every client once each (no fixed order across the
    # workers that emit them, as for rooms)
    assert result['broadcastPid'] == by_name['c2']['pid']
    assert all(p in worker_pids for p in result['broadcastTriggerPids']), \
        (result['broadcastTriggerPids'], worker_pids)
    bcast_got = {c['name']: sorted(c['bcast']) for c in clients}
    assert bcast_got == {c['name']: ['b-c2', 'hb0', 'hb1'] for c in clients}

    # -- numbered messages, both ways, exactly once and in order
    for c in clients:
        assert c['seq_result'] == list(range(MESSAGES)), c['name']
        assert c['n'] == list(range(MESSAGES)), c['name']

    # -- heartbeats: pings seen, acknowledged echoes all along, no
    # disconnection before the clients' own
    for c in clients:
        assert c['tickErrors'] == [], c
        assert c['ticks'] >= HOLD_MS // 1000, c
        assert c['pings'] >= 2, c
        assert c['disconnects'] == [], c
        assert c['closeReason'] == 'io client disconnect', c

    # -- one disconnect per client, on its owner, for its own reason
    def disconnects() -> list[dict[str, Any]]:
        return stack.events('disconnect')

    wait_until(lambda: len(disconnects()) >= CLIENTS, 8.0)
    time.sleep(0.3)  # a duplicate would show now (and the proxy's log)
    got = sorted((e['sid'], e['worker'], e['reason']) for e in disconnects())
    assert got == sorted((c['id'], owner[c['name']], 'client disconnect')
                         for c in clients), got
    assert server_problems(stack) == []

    # -- no affinity: requests of one session reached several workers,
    # each forwarded to the owner (a WebSocket: relayed), and the proxy
    # never answered an error.
    routes = stack.proxy.routes()
    bad = [r for r in routes if not re.fullmatch(r'101|200', r['status'])]
    assert bad == [], bad
    backends: dict[str, set[str]] = {}
    websockets: dict[str, list[str]] = {}
    for name, eio_sid in eio_sids.items():
        mine = [r for r in routes if f'sid={eio_sid}' in r['uri']]
        backends[name] = {r['server'] for r in mine}
        websockets[name] = [r['server'] for r in mine if r['status'] == '101']
    if transports == 'polling':
        # Dozens of requests each, round robin over 3 workers.
        assert all(len(b) >= 2 for b in backends.values()), backends
        assert websockets == {name: [] for name in eio_sids}, websockets
    else:
        assert any(len(b) >= 2 for b in backends.values()), backends
        assert all(len(w) == 1 for w in websockets.values()), websockets
        # At least one client's WebSocket landed on a worker that does not
        # own its session (sessions are on 2 or 3 workers).
        relayed = [name for name, w in websockets.items()
                   if w != [f'w{owner[name]}']]
        assert relayed, (websockets, owner)
