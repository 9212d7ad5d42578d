#!/usr/bin/env python3
"""Cost of the ``cluster=`` option: sessions shared by worker processes
through Redis pub/sub, no sticky sessions.

    python benchmarks/cluster.py [--quick] [--rounds N]

It starts its own ``redis-server`` on a free port of 127.0.0.1, uvicorn echo
workers (tests/servers/asgi_uvicorn.py, options ``{"cluster": url}``) and
HAProxy, through the test helpers of tests/cluster/helpers.py, and measures
in one run, the two sides of each comparison interleaved in every round:

1. polling round trip (POST ``4...`` then GET its echo, one session, one
   persistent HTTP/1.1 connection per worker) through the session's owner
   versus through another worker (forwarded over Redis);
2. Redis commands per forwarded request (``INFO commandstats`` before and
   after), and per message of a relayed WebSocket;
3. WebSocket echo (16-byte text) on the owner versus relayed by another
   worker: sequential round trip of one connection, and messages/s of 20
   connections;
4. polling round trips/s of 30 sessions (Node load generator
   benchmarks/loadgen/loadgen.js, closed loop of POST+GET per session)
   through HAProxy round robin in front of 1 worker versus 3 workers, with
   the CPU time of every process read from /proc.

It prints Markdown tables (medians over rounds; the difference or ratio of
two sides is the median of the per-round ones) and writes them to
benchmarks/results/cluster-latest.md.  Every process it starts is stopped by
its PID at the end; every loop is bounded in count or time; the only peer is
127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / 'results'
LOADGEN_DIR = BENCH / 'loadgen'
LOADGEN = LOADGEN_DIR / 'loadgen.js'
# The test helpers (tests/cluster/helpers.py imports tests/support.py).
# Appended: the tests' folder names must not shadow anything.
sys.path.extend([str(REPO / 'tests'), str(REPO / 'tests' / 'cluster')])

from helpers import HAProxy, RedisServer, start_workers  # noqa: E402

CLK_TCK = os.sysconf('SC_CLK_TCK')
PATH = '/engine.io/?EIO=4&transport=polling'
#: The message of every round trip: "4" + 16 bytes, as benchmarks/run.py.
MESSAGE = b'4abcdefghijklmnop'
#: Goals of the cluster design (loopback).
GOAL_FORWARD_MS = 1.0
GOAL_PUBLISH_PER_REQUEST = 2.0


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- /proc ------------------------------------------------------------------
def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return float('nan')
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores (softirq counted as busy, time
    stolen by the hypervisor not)."""
    with open('/proc/stat') as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    return sum(values) - values[3] - values[4] - values[7], sum(values)


class CpuMeter:
    """CPU seconds of named processes (and this one) over an interval."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.t0 = 0.0
        self.cpu0: dict[str, float] = {}
        self.busy0 = (0.0, 0.0)

    def _read(self) -> dict[str, float]:
        out = {name: proc_cpu_seconds(pid) for name, pid in self.pids.items()}
        t = os.times()
        out['client'] = t.user + t.system
        return out

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.cpu0 = self._read()
        self.busy0 = machine_busy()

    def stop(self) -> dict[str, Any]:
        secs = time.monotonic() - self.t0
        cpu1 = self._read()
        busy1 = machine_busy()
        db, dt = busy1[0] - self.busy0[0], busy1[1] - self.busy0[1]
        return {'seconds': secs,
                'cpu_s': {k: cpu1[k] - self.cpu0[k] for k in cpu1},
                'machine_busy_pct': 100.0 * os.cpu_count() * db / dt
                if dt else None}


# -- Redis --------------------------------------------------------------------
def redis_counts(redis: RedisServer) -> dict[str, int]:
    """Calls per command so far (``INFO commandstats``)."""
    text = redis.command('INFO', 'commandstats').decode()
    out = {}
    for m in re.finditer(r'^cmdstat_([^:]+):calls=(\d+)', text, re.M):
        out[m.group(1)] = int(m.group(2))
    return out


def redis_delta(before: dict[str, int], after: dict[str, int]
                ) -> dict[str, int]:
    """Commands between two readings, without the INFO calls themselves."""
    out = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    out.pop('info', None)
    return {k: v for k, v in out.items() if v}


# -- statistics -------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def med(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def fmt(value: float | None, digits: int = 2) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


# -- a polling session over one persistent connection per worker ------------
class Http:
    """A persistent HTTP/1.1 connection to a worker (TCP_NODELAY)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
        self.conn.connect()
        assert self.conn.sock is not None
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method: str, path: str, body: bytes | None = None
                ) -> tuple[int, bytes]:
        headers = {'Content-Type': 'text/plain;charset=UTF-8'} if body else {}
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def close(self) -> None:
        self.conn.close()


def handshake(conn: Http) -> str:
    status, body = conn.request('GET', PATH)
    if status != 200 or not body.startswith(b'0'):
        raise RuntimeError(f'handshake on port {conn.port}: {status} {body[:80]!r}')
    return str(json.loads(body[1:].split(b'\x1e')[0])['sid'])


class PollSession:
    """One polling session; round trips through any worker's connection."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.path = f'{PATH}&sid={sid}'
        self.pong = False

    def round_trip(self, conn: Http) -> None:
        body = b'3\x1e' + MESSAGE if self.pong else MESSAGE
        self.pong = False
        status, reply = conn.request('POST', self.path, body)
        if status != 200:
            raise RuntimeError(f'POST via {conn.port}: {status} {reply[:80]!r}')
        for _ in range(10):  # a GET may bring a ping before the echo
            status, reply = conn.request('GET', self.path)
            if status != 200:
                raise RuntimeError(f'GET via {conn.port}: {status} {reply[:80]!r}')
            got = False
            for packet in reply.split(b'\x1e'):
                if packet == b'2':
                    self.pong = True
                elif packet == MESSAGE:
                    got = True
                elif packet[:1] == b'1':
                    raise RuntimeError('session closed by the server')
            if got:
                return
        raise RuntimeError('no echo after 10 polls')

    def close(self, conn: Http) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn.request('POST', self.path, b'1')


# -- 1. polling round trip: owner vs forwarded -------------------------------
def bench_poll_latency(port_a: int, port_b: int, n: int, chunk: int,
                       rnd: int) -> dict[str, Any]:
    """``n`` round trips per side through A (owner) and B (forwarder), in
    chunks of ``chunk`` alternating sides (the first side alternates with
    the round)."""
    conn_a, conn_b = Http(port_a), Http(port_b)
    try:
        sess = PollSession(handshake(conn_a))
        for _ in range(20):  # warm-up: both paths, the bus subscribed
            sess.round_trip(conn_a)
            sess.round_trip(conn_b)
        samples: dict[str, list[float]] = {'owner': [], 'forwarded': []}
        sides = [('owner', conn_a), ('forwarded', conn_b)]
        if rnd % 2:
            sides.reverse()
        done = 0
        for _ in range(2 * n // chunk + 2):
            if done >= n:
                break
            for name, conn in sides:
                out = samples[name]
                for _ in range(chunk):
                    t0 = time.perf_counter()
                    sess.round_trip(conn)
                    out.append((time.perf_counter() - t0) * 1e3)
            sides.reverse()
            done += chunk
        sess.close(conn_a)
    finally:
        conn_a.close()
        conn_b.close()
    return {name: {'median_ms': statistics.median(v), 'p99_ms': pct(v, 0.99),
                   'n': len(v)} for name, v in samples.items()}


# -- 2. Redis commands per forwarded request ---------------------------------
def bench_redis_polling(redis: RedisServer, port_a: int, port_b: int,
                        n: int) -> dict[str, Any]:
    conn_a, conn_b = Http(port_a), Http(port_b)
    out: dict[str, Any] = {}
    try:
        sess = PollSession(handshake(conn_a))
        for _ in range(5):
            sess.round_trip(conn_b)
        for name, conn in (('owner', conn_a), ('forwarded', conn_b)):
            time.sleep(0.05)
            before = redis_counts(redis)
            for _ in range(n):
                sess.round_trip(conn)
            delta = redis_delta(before, redis_counts(redis))
            # Each round trip is a POST and a GET (a GET that brought only
            # a ping would add one: counted by the session).
            out[name] = {'round_trips': n, 'requests': 2 * n,
                         'publish': delta.get('publish', 0),
                         'commands': sum(delta.values()), 'by_command': delta}
        sess.close(conn_a)
    finally:
        conn_a.close()
        conn_b.close()
    return out


# -- 3. WebSocket echo: on the owner vs relayed --------------------------------
def _ws_url(port: int, sid: str) -> str:
    return f'ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket&sid={sid}'


@contextlib.contextmanager
def ws_session(port_a: int, port_ws: int) -> Iterator[Any]:
    """A session made by a polling handshake on A, upgraded to a WebSocket
    on ``port_ws`` (A: direct; another worker: relayed).  A sync
    ``websockets`` connection, closed on exit."""
    from websockets.sync.client import connect
    conn = Http(port_a)
    try:
        sid = handshake(conn)
    finally:
        conn.close()
    with connect(_ws_url(port_ws, sid), compression=None, proxy=None,
                 ping_interval=None, open_timeout=10, close_timeout=2) as ws:
        ws.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ws.send('2probe')
        reply = ws.recv(timeout=10)
        if reply != '3probe':
            raise RuntimeError(f'upgrade probe on port {port_ws}: {reply!r}')
        ws.send('5')
        yield ws


def ws_round_trip(ws: Any, text: str) -> None:
    ws.send(text)
    for _ in range(10):
        reply = ws.recv(timeout=10)
        if reply == text:
            return
        if reply == '2':
            ws.send('3')
    raise RuntimeError('no WebSocket echo')


def bench_ws_latency(port_a: int, port_b: int, n: int, chunk: int,
                     rnd: int) -> dict[str, Any]:
    text = MESSAGE.decode()
    with ws_session(port_a, port_a) as direct, \
            ws_session(port_a, port_b) as relayed:
        for _ in range(50):
            ws_round_trip(direct, text)
            ws_round_trip(relayed, text)
        samples: dict[str, list[float]] = {'direct': [], 'relayed': []}
        sides = [('direct', direct), ('relayed', relayed)]
        if rnd % 2:
            sides.reverse()
        done = 0
        for _ in range(2 * n // chunk + 2):
            if done >= n:
                break
            for name, ws in sides:
                out = samples[name]
                for _ in range(chunk):
                    t0 = time.perf_counter()
                    ws_round_trip(ws, text)
                    out.append((time.perf_counter() - t0) * 1e6)
            sides.reverse()
            done += chunk
    return {name: {'median_us': statistics.median(v), 'p99_us': pct(v, 0.99),
                   'n': len(v)} for name, v in samples.items()}


def bench_redis_ws(redis: RedisServer, port_a: int, port_b: int,
                   n: int) -> dict[str, Any]:
    text = MESSAGE.decode()
    with ws_session(port_a, port_b) as ws:
        for _ in range(10):
            ws_round_trip(ws, text)
        time.sleep(0.05)
        before = redis_counts(redis)
        for _ in range(n):
            ws_round_trip(ws, text)
        delta = redis_delta(before, redis_counts(redis))
    return {'messages': n, 'publish': delta.get('publish', 0),
            'commands': sum(delta.values()), 'by_command': delta}


async def _ws_load(port_a: int, port_ws: int, conns: int, warmup: float,
                   duration: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect
    text = MESSAGE.decode()
    sids = []
    conn = Http(port_a)
    try:
        for _ in range(conns):
            sids.append(handshake(conn))
    finally:
        conn.close()
    sockets = []
    try:
        for sid in sids:
            ws = await asyncio.wait_for(connect(
                _ws_url(port_ws, sid), compression=None, proxy=None,
                ping_interval=None, close_timeout=2), 10)
            sockets.append(ws)
            await ws.send('2probe')
            if await asyncio.wait_for(ws.recv(), 10) != '3probe':
                raise RuntimeError('upgrade probe failed')
            await ws.send('5')
        state = {'measuring': False, 'count': 0}
        latencies: list[float] = []
        end = time.monotonic() + warmup + duration + 30

        async def loop(ws: Any) -> None:
            while state['running'] and time.monotonic() < end:
                t0 = time.perf_counter()
                await ws.send(text)
                while True:
                    reply = await ws.recv()
                    if reply == text:
                        break
                    if reply == '2':
                        await ws.send('3')
                if state['measuring']:
                    state['count'] += 1
                    if len(latencies) < 1_000_000:
                        latencies.append((time.perf_counter() - t0) * 1e6)

        state['running'] = True
        tasks = [asyncio.ensure_future(loop(ws)) for ws in sockets]
        await asyncio.sleep(warmup)
        meter = _METER_FACTORY()
        meter.start()
        state['measuring'] = True
        await asyncio.sleep(duration)
        state['measuring'] = False
        window = meter.stop()
        state['running'] = False
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    finally:
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 3)
    count = state['count']
    return {'rate': count / window['seconds'], 'count': count,
            'p50_us': pct(latencies, 0.5) if latencies else None,
            'p99_us': pct(latencies, 0.99) if latencies else None,
            **window}


#: Set by main(): a CpuMeter over the cluster's processes.
_METER_FACTORY: Callable[[], CpuMeter] = lambda: CpuMeter({})  # noqa: E731


def bench_ws_throughput(port_a: int, port_b: int, conns: int, warmup: float,
                        duration: float, rnd: int) -> dict[str, Any]:
    sides = [('direct', port_a), ('relayed', port_b)]
    if rnd % 2:
        sides.reverse()
    out = {}
    for name, port in sides:
        out[name] = asyncio.run(_ws_load(port_a, port, conns, warmup, duration))
    return out


# -- 4. throughput scaling behind HAProxy --------------------------------------
def run_loadgen(port: int, clients: int, warmup: float, duration: float,
                snap: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """The polling scenario of loadgen.js against ``port``; ``snap`` is read
    at two moments well inside the measured window (the loadgen's own
    window has no per-process split)."""
    argv = [shutil.which('node') or 'node', str(LOADGEN), 'polling',
            '--port', str(port), '--clients', str(clients),
            '--warmup', str(warmup), '--duration', str(duration),
            '--hard-limit', str(int(warmup + duration + 60))]
    t_launch = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    snaps: list[tuple[float, dict[str, Any]]] = []

    def sampler() -> None:
        # Node starts and opens its sessions in well under 0.5 s here.
        for at in (t_launch + warmup + 0.5, t_launch + warmup + duration):
            time.sleep(max(0.0, at - time.monotonic()))
            if proc.poll() is not None:
                return
            snaps.append((time.monotonic(), snap()))

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        stdout, stderr = proc.communicate(timeout=warmup + duration + 90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        log('  ! loadgen timed out')
        return None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    thread.join(5)
    lines = [ln for ln in stdout.splitlines() if ln.startswith('{')]
    if not lines:
        log(f'  ! loadgen: no result (exit {proc.returncode}) {stderr[-300:]}')
        return None
    result: dict[str, Any] = json.loads(lines[-1])
    if 'error' in result or result.get('errors'):
        log(f'  ! loadgen: {result.get("error")} {result.get("first_errors")}')
    if len(snaps) == 2:
        (t0, a), (t1, b) = snaps
        secs = t1 - t0
        result['window_s'] = secs
        result['cpu_pct'] = {k: 100.0 * (b['cpu'][k] - a['cpu'][k]) / secs
                             for k in b['cpu']}
        db = b['busy'][0] - a['busy'][0]
        dt = b['busy'][1] - a['busy'][1]
        result['machine_busy_pct'] = 100.0 * (os.cpu_count() or 1) * db / dt \
            if dt else None
        result['publish_per_s'] = (b['publish'] - a['publish']) / secs
    return result


# -- environment ----------------------------------------------------------------
def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return '?'
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else '?'


def environment() -> dict[str, str]:
    import redis
    import uvicorn
    import websockets
    cpu = '?'
    with contextlib.suppress(OSError), open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    redis_v = _version(['redis-server', '--version'])
    m = re.search(r'v=(\S+)', redis_v)
    haproxy_v = _version(['haproxy', '-v'])
    m2 = re.search(r'version (\S+)', haproxy_v)
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--', 'src'], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit, dirty = '?', ''
    return {
        'date': _dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'),
        'machine': f'{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {cpu}, '
                   f'{platform.system()} {platform.release()}',
        'python': platform.python_version(),
        'redis-server': m.group(1) if m else redis_v,
        'uvicorn': uvicorn.__version__,
        'redis-py': redis.__version__,
        'websockets': websockets.__version__,
        'haproxy': m2.group(1) if m2 else haproxy_v,
        'node': _version(['node', '--version']),
        'commit': commit + (' + uncommitted src/ changes' if dirty else ''),
    }


# -- report -----------------------------------------------------------------
def report(env: dict[str, str], cfg: dict[str, Any], rounds: list[dict[str, Any]]
           ) -> str:
    L: list[str] = []
    add = L.append
    add('# Cluster benchmark (`cluster=` over Redis pub/sub)')
    add('')
    add(f'Command: `{cfg["command"]}`  ')
    add(f'{len(rounds)} round(s); medians over rounds; a difference or ratio is the median of the '
        'per-round ones (the two sides measured next to each other).')
    add('')
    add('| | |')
    add('| --- | --- |')
    for k, v in env.items():
        add(f'| {k} | {v} |')
    add('')

    # 1
    p = [r['poll'] for r in rounds if r.get('poll')]
    if p:
        diffs = [r['forwarded']['median_ms'] - r['owner']['median_ms'] for r in p]
        diff99 = [r['forwarded']['p99_ms'] - r['owner']['p99_ms'] for r in p]
        d = med(diffs)
        add(f'## 1. Polling round trip, one session (POST `{MESSAGE.decode()}` + GET its echo, '
            f'persistent HTTP/1.1 connection per worker, {cfg["poll_n"]} round trips per side '
            'per round, interleaved)')
        add('')
        add('| path | median ms | p99 ms | per-round medians ms |')
        add('| --- | ---: | ---: | --- |')
        for side, label in (('owner', 'owner (worker A, made the session)'),
                            ('forwarded', 'non-owner (worker B, forwards to A over Redis)')):
            add(f'| {label} | {fmt(med([r[side]["median_ms"] for r in p]), 3)} | '
                f'{fmt(med([r[side]["p99_ms"] for r in p]), 3)} | '
                + ' '.join(fmt(r[side]['median_ms'], 3) for r in p) + ' |')
        ok = d is not None and d <= GOAL_FORWARD_MS
        add(f'| **difference** (forwarded - owner) | **+{fmt(d, 3)}** | +{fmt(med(diff99), 3)} | '
            f'goal <= +{GOAL_FORWARD_MS:g} ms per round trip: {"met" if ok else "NOT met"} |')
        add('')

    # 2
    rp = [r['redis_poll'] for r in rounds if r.get('redis_poll')]
    rw = [r['redis_ws'] for r in rounds if r.get('redis_ws')]
    if rp or rw:
        add('## 2. Redis commands (`INFO commandstats`, before/after)')
        add('')
        add('| traffic | unit | PUBLISH per unit | all commands per unit | goal |')
        add('| --- | --- | ---: | ---: | --- |')
        if rp:
            for side, label in (('owner', 'polling via the owner'),
                                ('forwarded', 'polling via a non-owner')):
                pub = med([r[side]['publish'] / r[side]['requests'] for r in rp])
                cmds = med([r[side]['commands'] / r[side]['requests'] for r in rp])
                goal = ''
                if side == 'forwarded':
                    ok = pub is not None and pub <= GOAL_PUBLISH_PER_REQUEST
                    goal = f'<= {GOAL_PUBLISH_PER_REQUEST:g}: {"met" if ok else "NOT met"}'
                add(f'| {label} ({rp[0][side]["round_trips"]} POST+GET) | HTTP request | '
                    f'{fmt(pub, 3)} | {fmt(cmds, 3)} | {goal} |')
        if rw:
            pub = med([r['publish'] / r['messages'] for r in rw])
            cmds = med([r['commands'] / r['messages'] for r in rw])
            add(f'| relayed WebSocket ({rw[0]["messages"]} echoes) | message round trip '
                f'(client->server->client) | {fmt(pub, 3)} | {fmt(cmds, 3)} | |')
        other = {}
        for r in rp:
            for k, v in r['forwarded']['by_command'].items():
                other[k] = other.get(k, 0) + v
        add('')
        add(f'Commands seen during the forwarded polling runs (all rounds): '
            f'{", ".join(f"`{k}` {v}" for k, v in sorted(other.items())) or "none"}.')
        add('')

    # 3
    wl = [r['ws_lat'] for r in rounds if r.get('ws_lat')]
    wt = [r['ws_tput'] for r in rounds if r.get('ws_tput')]
    if wl or wt:
        add(f'## 3. WebSocket echo, 16-byte text (`{MESSAGE.decode()}`); session made by a '
            'polling handshake on worker A, upgraded on A (direct) or on worker B (relayed)')
        add('')
        add(f'Sequential: one connection, send -> recv, {cfg["ws_n"]} per side per round, '
            f'interleaved. Throughput: {cfg["ws_conns"]} connections, closed loop each, '
            f'{cfg["window"]:g} s window, Python asyncio client (`websockets`).')
        add('')
        add('| path | 1 conn median us | 1 conn p99 us | '
            f'{cfg["ws_conns"]} conns msg/s | {cfg["ws_conns"]} conns p50 / p99 us | '
            'CPU us/msg A | B | redis | client | machine busy % |')
        add('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
        for side in ('direct', 'relayed'):
            cpu = {}
            for k in ('A', 'B', 'redis', 'client'):
                cpu[k] = med([1e6 * r[side]['cpu_s'][k] / r[side]['count']
                              for r in wt if r[side]['count']])
            add(f'| {side} | {fmt(med([r[side]["median_us"] for r in wl]), 0)} | '
                f'{fmt(med([r[side]["p99_us"] for r in wl]), 0)} | '
                f'{fmt(med([r[side]["rate"] for r in wt]), 0)} | '
                f'{fmt(med([r[side]["p50_us"] for r in wt]), 0)} / '
                f'{fmt(med([r[side]["p99_us"] for r in wt]), 0)} | '
                + ' | '.join(fmt(cpu[k], 0) for k in ('A', 'B', 'redis', 'client'))
                + f' | {fmt(med([r[side]["machine_busy_pct"] for r in wt]), 0)} |')
        if wl:
            d50 = med([r['relayed']['median_us'] - r['direct']['median_us'] for r in wl])
            add(f'| **relayed - direct** | **+{fmt(d50, 0)}** | '
                f'+{fmt(med([r["relayed"]["p99_us"] - r["direct"]["p99_us"] for r in wl]), 0)} | '
                + (f'ratio {fmt(med([r["relayed"]["rate"] / r["direct"]["rate"] for r in wt]), 2)}'
                   if wt else '') + ' | | | | | | |')
        add('')

    # 4
    sc = [r['scale'] for r in rounds if r.get('scale')]
    cores = os.cpu_count() or 1
    if sc:
        add(f'## 4. Polling throughput: {cfg["clients"]} sessions, closed loop of POST+GET each '
            f'(benchmarks/loadgen/loadgen.js), HAProxy round robin (`http-server-close`: '
            f'every request balanced on its own), {cfg["window"]:g} s window')
        add('')
        add('| backends | round trips/s | ratio to 1 worker (cluster) | p50 / p99 ms | '
            f'CPU % workers | redis % | haproxy % | loadgen % | machine busy % (of {100 * cores}) | '
            'server CPU us per round trip | CPU-bound ceiling rt/s | PUBLISH per round trip |')
        add('| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
        for key, label in cfg['scale_configs']:
            rows = [r[key] for r in sc if r.get(key)]
            if not rows:
                add(f'| {label} | failed | | | | | | | | | | |')
                continue
            ratio = med([r[key]['rate'] / r['cluster1']['rate'] for r in sc
                         if r.get(key) and r.get('cluster1')])
            workers = cfg['scale_workers'][key]
            wcpu = ' + '.join(fmt(med([r['cpu_pct'][w] for r in rows if 'cpu_pct' in r]), 0)
                              for w in workers)
            server_us = med([1e6 * sum(r['cpu_pct'][w] for w in [*workers, 'redis', 'haproxy'])
                             / 100 / r['rate'] for r in rows if 'cpu_pct' in r and r['rate']])
            pub = med([r['publish_per_s'] / r['rate'] for r in rows
                       if 'publish_per_s' in r and r['rate']])
            # The cores less the load generator, divided by the server CPU
            # of one round trip: what the machine allows at best.
            ceiling = med([(100 * cores - r['loadgen_cpu_pct']) / 100 * 1e6
                           / (1e6 * sum(r['cpu_pct'][w] for w in [*workers, 'redis', 'haproxy'])
                              / 100 / r['rate'])
                           for r in rows if 'cpu_pct' in r and r['rate']])
            add(f'| {label} | {fmt(med([r["rate"] for r in rows]), 0)} | {fmt(ratio, 2)} | '
                f'{fmt(med([r["p50_ms"] for r in rows]), 2)} / {fmt(med([r["p99_ms"] for r in rows]), 2)} | '
                f'{wcpu} | {fmt(med([r["cpu_pct"]["redis"] for r in rows if "cpu_pct" in r]), 0)} | '
                f'{fmt(med([r["cpu_pct"]["haproxy"] for r in rows if "cpu_pct" in r]), 0)} | '
                f'{fmt(med([r["loadgen_cpu_pct"] for r in rows]), 0)} | '
                f'{fmt(med([r.get("machine_busy_pct") for r in rows]), 0)} | '
                f'{fmt(server_us, 0)} | {fmt(ceiling, 0)} | {fmt(pub, 2)} |')
        add('')
        add('CPU % is of one core, over a sub-window of the measured window; "server CPU per '
            'round trip" adds the workers, redis and haproxy; the "CPU-bound ceiling" is the '
            f'{cores} cores less the load generator divided by that: the best rate this machine '
            'allows with that cost per round trip (kernel time of loopback TCP not counted). '
            'A round trip is 2 HTTP requests (POST + GET; a GET may also bring a ping). '
            'With 3 workers round robin, 2 of 3 requests land on a worker that does not own '
            'the session and are forwarded.')
        add('')
    if cfg.get('notes'):
        add('## Notes')
        add('')
        for n in cfg['notes']:
            add(f'- {n}')
        add('')
    return '\n'.join(L)


# -- main --------------------------------------------------------------------
@contextlib.contextmanager
def stopping(stack: list[Any]) -> Iterator[list[Any]]:
    """Stop everything put in ``stack`` (objects with ``stop()``), last
    first, whatever happens."""
    try:
        yield stack
    finally:
        for item in reversed(stack):
            try:
                item.stop()
            except Exception as exc:  # stop the others anyway
                log(f'  ! stopping {item!r}: {exc}')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true',
                    help='1 round, fewer round trips, 1.5 s windows (~1 min)')
    ap.add_argument('--rounds', type=int, default=None)
    ap.add_argument('--window', type=float, default=None,
                    help='measured window of the throughput runs, seconds')
    ap.add_argument('--clients', type=int, default=30,
                    help='polling sessions of the scaling figure')
    ap.add_argument('--ws-conns', type=int, default=20)
    ap.add_argument('--output', type=Path, default=RESULTS / 'cluster-latest.md')
    args = ap.parse_args()
    rounds = max(1, min(args.rounds or (1 if args.quick else 5), 50))
    window = args.window or (1.5 if args.quick else 4.0)
    warmup = 0.5 if args.quick else 1.0
    poll_n = 200 if args.quick else 500
    ws_n = 500 if args.quick else 2000
    redis_n = 100 if args.quick else 200

    for tool in ('redis-server', 'haproxy', 'node'):
        if shutil.which(tool) is None:
            raise SystemExit(f'{tool} is needed (scripts/setup.sh installs it)')
    if not (LOADGEN_DIR / 'node_modules' / 'ws').exists():
        raise SystemExit('benchmarks/loadgen/node_modules is missing: run '
                         '`python benchmarks/run.py --quick` once (npm ci)')

    env = environment()
    cmd = 'python benchmarks/cluster.py' + ''.join(
        f' {a}' for a in sys.argv[1:])
    scale_configs = [('plain1', '1 worker, no cluster option'),
                     ('cluster1', '1 worker, cluster'),
                     ('cluster3', '3 workers, cluster')]
    cfg: dict[str, Any] = {
        'command': cmd, 'poll_n': poll_n, 'ws_n': ws_n, 'ws_conns': args.ws_conns,
        'window': window, 'clients': args.clients, 'scale_configs': scale_configs,
        'scale_workers': {'plain1': ['P'], 'cluster1': ['A'],
                          'cluster3': ['A', 'B', 'C']},
        'notes': []}
    results: list[dict[str, Any]] = []
    t_start = time.monotonic()
    with stopping([]) as stack:
        log('starting redis-server, 3 cluster workers, 1 plain worker, haproxy')
        redis = RedisServer()
        stack.append(redis)
        workers = start_workers('asgi_uvicorn.py', 3, {'cluster': redis.url})
        stack.extend(p for p, _ in workers)
        plain = start_workers('asgi_uvicorn.py', 1, {})
        stack.append(plain[0][0])
        (pa, port_a), (pb, port_b), (pc, port_c) = workers
        port_p = plain[0][1]
        ha1 = HAProxy([port_a])
        stack.append(ha1)
        ha3 = HAProxy([port_a, port_b, port_c])
        stack.append(ha3)
        hap = HAProxy([port_p])
        stack.append(hap)
        pids = {'A': pa.proc.pid, 'B': pb.proc.pid, 'C': pc.proc.pid,
                'P': plain[0][0].proc.pid, 'redis': redis.pid or 0}

        global _METER_FACTORY
        _METER_FACTORY = lambda: CpuMeter({k: pids[k] for k in ('A', 'B', 'redis')})  # noqa: E731

        def snap(ha: HAProxy) -> dict[str, Any]:
            cpu = {k: proc_cpu_seconds(v) for k, v in pids.items()}
            cpu['haproxy'] = proc_cpu_seconds(ha.pid)
            return {'cpu': cpu, 'busy': machine_busy(),
                    'publish': redis_counts(redis).get('publish', 0)}

        haproxies = {'plain1': hap, 'cluster1': ha1, 'cluster3': ha3}
        for rnd in range(rounds):
            log(f'round {rnd + 1}/{rounds}')
            r: dict[str, Any] = {}
            steps: list[tuple[str, Callable[[], Any]]] = [
                ('poll', lambda rnd=rnd: bench_poll_latency(port_a, port_b, poll_n, 50, rnd)),
                ('redis_poll', lambda: bench_redis_polling(redis, port_a, port_b, redis_n)),
                ('redis_ws', lambda: bench_redis_ws(redis, port_a, port_b, redis_n)),
                ('ws_lat', lambda rnd=rnd: bench_ws_latency(port_a, port_b, ws_n, 100, rnd)),
                ('ws_tput', lambda rnd=rnd: bench_ws_throughput(port_a, port_b, args.ws_conns,
                                                                warmup, window, rnd)),
            ]
            for name, fn in steps:
                try:
                    r[name] = fn()
                except Exception as exc:
                    log(f'  ! {name}: {type(exc).__name__}: {exc}')
                    cfg['notes'].append(f'round {rnd + 1}: {name} failed: '
                                        f'{type(exc).__name__}: {exc}')
                log(f'  {name}: done')
            order = [k for k, _ in scale_configs]
            order = order[rnd % 3:] + order[:rnd % 3]
            scale: dict[str, Any] = {}
            for key in order:
                ha = haproxies[key]
                res = run_loadgen(ha.port, args.clients, warmup, window,
                                  lambda ha=ha: snap(ha))
                if res is not None and res.get('count'):
                    scale[key] = res
                    log(f'  scale {key}: {res["rate"]:.0f} round trips/s, errors {res.get("errors")}')
                else:
                    cfg['notes'].append(f'round {rnd + 1}: load on {key} failed')
            r['scale'] = scale
            results.append(r)
            alive = [name for name, p in (('A', pa), ('B', pb), ('C', pc))
                     if p.proc.poll() is None]
            if len(alive) < 3 or not redis.alive():
                raise SystemExit(f'a process died: workers alive {alive}, '
                                 f'redis {redis.alive()}')
    cfg['notes'].append(
        f'This machine has {os.cpu_count()} cores shared by everything: the workers, redis-server, '
        'haproxy and the load generator. A worker is one Python process (one core at most), so 3 '
        'workers cannot reach 3x, nor 2.5x: the ceiling is the cores left by the load generator, '
        'haproxy and redis, less the CPU that forwarding adds (a forwarded request costs the '
        'forwarder, Redis and the owner).')
    cfg['notes'].append(f'Wall time of the run: {time.monotonic() - t_start:.0f} s.')
    text = report(env, cfg, results)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + '\n')
    log(f'written to {args.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
