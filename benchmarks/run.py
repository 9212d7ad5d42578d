#!/usr/bin/env python3
"""One-command benchmark harness: this project versus python-engineio 4.15.1,
a bare WebSocket echo on the same server stack, and Node's engine.io.

    python benchmarks/run.py [--quick] [--only codec,ws,polling,memory,sessions,blocking]
    python benchmarks/run.py --only stacks      # the WebSocket echo across web server stacks
    python benchmarks/run.py --only ws --targets ours,ours-aiohttp,bare,bare-aiohttp,pe,pe-aiohttp,node,node-ws

It sets up what it needs (benchmarks/.venvs/ours-pyXY and .venvs/pe4151-pyXY with the
same pinned server stack, the Node load generator's packages), starts every
server pinned to core 0 with the load generator pinned to core 1, runs each
figure with the targets interleaved in every round, and prints tables of
medians and of ratios (each ratio is the median of the per-round ratios, the
two sides of a ratio being measured next to each other in time).  Results
go to benchmarks/results/ (JSON and Markdown).  Traffic goes to 127.0.0.1
only; every loop and every child process is bounded in time.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENVS = BENCH / '.venvs'
LOADGEN_DIR = BENCH / 'loadgen'
LOADGEN = LOADGEN_DIR / 'loadgen.js'
RESULTS = BENCH / 'results'
STACK_REQS = BENCH / 'requirements-stack.txt'
PE_VERSION = '4.15.1'

SERVER_CORE = 0
LOAD_CORE = 1
CLK_TCK = os.sysconf('SC_CLK_TCK')
#: Above this share of its core, the load generator may be what limits a run.
LOADGEN_BUSY = 85

FIGURES = ('codec', 'layer', 'ws', 'polling', 'memory', 'sessions', 'blocking', 'stacks',
           'multiproc')
#: The figures of a run without --only ('stacks' is long, 'multiproc' uses
#: every core: ask for them).
DEFAULT_FIGURES = tuple(f for f in FIGURES if f not in ('stacks', 'multiproc'))

#: Figure 7 (stacks): every Engine.IO server next to the bare echo of its own
#: web server stack, in this order.
STACK_TARGETS = ['ours', 'ours-aiohttp', 'bare', 'bare-aiohttp',
                 'pe4151', 'pe4151-aiohttp', 'node', 'node-ws']
#: Each target's web server stack, and the bare echo of that stack (its ceiling).
STACK_OF = {'ours': 'uvicorn', 'pe4151': 'uvicorn', 'bare': 'uvicorn',
            'ours-aiohttp': 'aiohttp', 'pe4151-aiohttp': 'aiohttp', 'bare-aiohttp': 'aiohttp',
            'node': 'node', 'node-ws': 'node',
            'ours-gevent': 'gevent', 'pe4151-gevent': 'gevent', 'bare-gevent': 'gevent',
            'ours-eventlet': 'eventlet', 'pe4151-eventlet': 'eventlet', 'bare-eventlet': 'eventlet'}
BARE_OF_STACK = {'uvicorn': 'bare', 'aiohttp': 'bare-aiohttp', 'node': 'node-ws',
                 'gevent': 'bare-gevent', 'eventlet': 'bare-eventlet'}
#: Figures 3, 4 and 5 (issue 17): the same eight, so that each Engine.IO
#: server has its own stack's bare server next to it.  The bare servers
#: (bare_asgi.py, bare_aiohttp.py, node_ws.js) also speak the little
#: long-polling the polling figure needs.
POLLING_TARGETS = MEMORY_TARGETS = SESSIONS_TARGETS = STACK_TARGETS
BLOCKING_TARGETS = ['ours-gevent', 'pe4151-gevent', 'bare-gevent',
                    'ours-eventlet', 'pe4151-eventlet', 'bare-eventlet']
#: The figures that take --targets, and what each can measure: the polling
#: figure needs a server that answers long-polling (bare-gevent and
#: bare-eventlet only do WebSocket).
TARGET_FIGURES = ('ws', 'stacks', 'polling', 'memory', 'sessions', 'blocking', 'multiproc')
NO_POLLING = {'bare-gevent', 'bare-eventlet'}
#: Short names accepted by --targets and --skip-targets.
TARGET_ALIASES = {'pe': 'pe4151', 'pe-aiohttp': 'pe4151-aiohttp', 'pe-gevent': 'pe4151-gevent',
                  'pe-eventlet': 'pe4151-eventlet', 'bare-asgi': 'bare', 'ours-asgi': 'ours',
                  'bare-uvicorn': 'bare', 'ours-uvicorn': 'ours', 'pe-uvicorn': 'pe4151',
                  'pe-asgi': 'pe4151', 'node-eio': 'node'}


def target_key(name: str) -> str:
    return TARGET_ALIASES.get(name, name)


def base_key(key: str) -> str:
    """The target without its variant: 'ours-aiohttp-patched' and
    'ours-aiohttp-x2' (2 workers) are both 'ours-aiohttp'."""
    return re.sub(r'-x\d+$', '', key.removesuffix('-patched'))


def own_bare(key: str) -> str | None:
    """The bare echo of the target's own stack ('ours-aiohttp' -> 'bare-aiohttp')."""
    stack = STACK_OF.get(base_key(key))
    return BARE_OF_STACK.get(stack) if stack else None


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- setup ----------------------------------------------------------------
def _stack_requirements() -> list[str]:
    return [line.strip() for line in STACK_REQS.read_text().splitlines()
            if line.strip() and not line.startswith('#')]


def _project_dependencies() -> list[str]:
    text = (REPO / 'pyproject.toml').read_text()
    try:
        import tomllib
        return list(tomllib.loads(text)['project'].get('dependencies', []))
    except ImportError:  # Python 3.10: the list is simple enough to read
        m = re.search(r'^dependencies\s*=\s*\[(.*?)\]', text, re.S | re.M)
        return re.findall(r'"([^"]+)"', m.group(1)) if m else []


def ensure_venv(name: str, requirements: list[str]) -> Path:
    """Create benchmarks/.venvs/NAME-pyXY (X.Y: the Python running this
    script) with exactly ``requirements``: ``python3.13 benchmarks/run.py``
    measures every Python server on 3.13, beside the other versions'."""
    vdir = VENVS / f'{name}-py{sys.version_info[0]}{sys.version_info[1]}'
    py = vdir / 'bin' / 'python'
    stamp = vdir / '.bench-stamp'
    want = hashlib.sha256('\n'.join(
        [sys.version, *requirements]).encode()).hexdigest()
    if py.exists() and stamp.exists() and stamp.read_text() == want:
        return py
    log(f'setup: virtual environment {vdir.relative_to(REPO)} '
        f'({len(requirements)} requirements)')
    if not py.exists():
        subprocess.run([sys.executable, '-m', 'venv', str(vdir)], check=True,
                       timeout=300)
    subprocess.run([str(py), '-m', 'pip', 'install', '-q',
                    '--disable-pip-version-check', *requirements],
                   check=True, timeout=900)
    stamp.write_text(want)
    return py


def ensure_node() -> str:
    node = shutil.which('node')
    npm = shutil.which('npm')
    if node is None or npm is None:
        raise SystemExit('Node.js and npm are needed for the load generator '
                         '(e.g. apt-get install nodejs npm)')
    lock = LOADGEN_DIR / 'package-lock.json'
    stamp = LOADGEN_DIR / 'node_modules' / '.bench-stamp'
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        log('setup: npm ci in benchmarks/loadgen')
        subprocess.run([npm, 'ci', '--no-audit', '--no-fund'],
                       cwd=LOADGEN_DIR, check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
        stamp.write_text(want)
    return node


#: The WebSocket echo load generator: ``node`` (loadgen.js) or ``c``
#: (loadgen/wsecho.c, built on first use); set from ``--ws-loadgen``.
WS_LOADGEN = ['node']
WS_GENERATOR_NAMES = {'node': 'Node `ws`', 'c': 'C `wsecho` for WebSocket echo, Node otherwise'}


@functools.cache
def ensure_wsecho() -> str:
    """Build loadgen/wsecho.c (the C WebSocket echo generator) if needed;
    its path (checked once per run)."""
    source = LOADGEN_DIR / 'wsecho.c'
    binary = LOADGEN_DIR / 'build' / 'wsecho'
    stamp = binary.with_suffix('.stamp')
    want = hashlib.sha256(source.read_bytes()).hexdigest()
    if binary.exists() and stamp.exists() and stamp.read_text() == want:
        return str(binary)
    cc = shutil.which('cc') or shutil.which('gcc')
    if cc is None:
        raise SystemExit('--ws-loadgen c needs a C compiler (apt-get install gcc)')
    log('setup: building benchmarks/loadgen/wsecho.c')
    binary.parent.mkdir(exist_ok=True)
    subprocess.run([cc, '-O2', '-o', str(binary), str(source), '-lm'],
                   check=True, timeout=120)
    stamp.write_text(want)
    return str(binary)


def ws_echo_argv(node: str) -> list[str]:
    """The command line of one ws-echo load generator, up to its options."""
    if WS_LOADGEN[0] == 'c':
        return [ensure_wsecho(), 'ws-echo']
    return [node, str(LOADGEN), 'ws-echo']


# -- processes ------------------------------------------------------------
def _pinned(core: int | set[int] | None) -> Callable[[], None]:
    """A child's setup: its cores (one, or a set the kernel chooses among)
    and enough file descriptors for 5,000 sessions."""
    cores = {core} if isinstance(core, int) else core

    def setup() -> None:
        if cores:
            os.sched_setaffinity(0, cores)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = hard if hard != resource.RLIM_INFINITY else 65536
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return setup


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def proc_cpu_seconds(pid: int) -> float:
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kb(pid: int) -> int:
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS')


@dataclass
class Target:
    key: str
    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: 0: one process.  N: N processes of argv sharing the port with
    #: SO_REUSEPORT (``--reuse-port``), started as one WorkerGroup.
    workers: int = 0


class Server:
    """One target's server process, pinned to the server core (or allowed
    ``cores``: the multiproc figure lets the kernel place its servers)."""

    def __init__(self, target: Target, logdir: Path, cores: set[int] | None = None) -> None:
        self.target = target
        self.logdir = logdir
        self.cores = cores or {SERVER_CORE}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.info = ''

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def pid_arg(self) -> str:
        """The load generator's --server-pid: every process of the server."""
        return str(self.pid)

    def start(self) -> Server:
        self.port = free_port()
        self.starts += 1
        env = dict(os.environ)
        env.pop('PYTHONPATH', None)
        env.update(self.target.env)
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHONWARNINGS'] = 'ignore'
        logfile = self.logdir / f'{self.target.key}.log'
        with open(logfile, 'ab') as out:
            self.proc = subprocess.Popen(
                [*self.target.argv, '--port', str(self.port)], cwd=BENCH,
                env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, preexec_fn=_pinned(self.cores))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.target.key} exited at startup; '
                                   f'see {logfile}')
            try:
                with socket.create_connection(('127.0.0.1', self.port), 0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f'{self.target.key} did not listen in 30 s')
        lines = logfile.read_text(errors='replace').strip().splitlines()
        self.info = lines[-1] if lines else ''
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> None:
        if not self.alive():
            log(f'  ! {self.target.key} is not running: restarting it')
            self.start()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def listening_sockets(port: int) -> int:
    """How many sockets listen on 127.0.0.1:port (/proc/net/tcp): with
    SO_REUSEPORT each worker has its own, so this tells when all are up
    (one accepting connections says nothing about the others)."""
    want = f'0100007F:{port:04X}'
    with open('/proc/net/tcp') as f:
        return sum(1 for line in f
                   if (cols := line.split())[1:2] == [want] and cols[3] == '0A')


class WorkerGroup(Server):
    """``target.workers`` processes of one server on one port (SO_REUSEPORT:
    the kernel hands each new connection to one of them, and a WebSocket
    session lives on that connection, so it stays on its worker).  Worker
    i is pinned to the i-th of ``spread`` cores when given, else all may run
    on any of ``cores``.  Its CPU is the sum over the workers."""

    def __init__(self, target: Target, logdir: Path, cores: set[int] | None = None,
                 spread: list[int] | None = None) -> None:
        super().__init__(target, logdir, cores)
        self.spread = spread
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def pid(self) -> int:
        return self.procs[0].pid

    @property
    def pid_arg(self) -> str:
        return ','.join(str(p.pid) for p in self.procs)

    def start(self) -> WorkerGroup:
        self.port = free_port()
        self.starts += 1
        env = dict(os.environ)
        env.pop('PYTHONPATH', None)
        env.update(self.target.env)
        env['PYTHONUNBUFFERED'] = '1'
        env['PYTHONWARNINGS'] = 'ignore'
        logfile = self.logdir / f'{self.target.key}.log'
        self.procs = []
        with open(logfile, 'ab') as out:
            for i in range(self.target.workers):
                cores = {self.spread[i % len(self.spread)]} if self.spread else self.cores
                self.procs.append(subprocess.Popen(
                    [*self.target.argv, '--port', str(self.port), '--reuse-port'], cwd=BENCH,
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, preexec_fn=_pinned(cores)))
        self.proc = self.procs[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.alive():
                self.stop()
                raise RuntimeError(f'{self.target.key}: a worker exited at startup; see {logfile}')
            if listening_sockets(self.port) >= len(self.procs):
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f'{self.target.key}: not all workers listen after 30 s')
        lines = logfile.read_text(errors='replace').strip().splitlines()
        self.info = f'{len(self.procs)} workers; ' + (lines[-1] if lines else '')
        return self

    def alive(self) -> bool:
        return bool(self.procs) and all(p.poll() is None for p in self.procs)

    def ensure(self) -> None:
        if not self.alive():
            log(f'  ! {self.target.key}: a worker is not running: restarting all')
            self.stop()
            self.start()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def run_loadgen(node: str, command: str, server: Server, timeout: float,
                procs: int = 1, cores: list[int] | None = None,
                **options: Any) -> dict[str, Any] | None:
    if procs > 1 and command == 'ws-echo' and int(options.get('conns', 1)) > 1:
        return run_loadgen_split(node, server, timeout, procs, cores or [LOAD_CORE], **options)
    head = ws_echo_argv(node) if command == 'ws-echo' \
        else [node, str(LOADGEN), command]
    argv = [*head, '--port', str(server.port),
            '--server-pid', server.pid_arg, '--clk-tck', str(CLK_TCK)]
    for key, value in options.items():
        argv += [f'--{key.replace("_", "-")}', str(value)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_pinned(cores[0] if cores else LOAD_CORE))
    except subprocess.TimeoutExpired:
        log(f'  ! loadgen {command} on {server.target.key}: timed out')
        return None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{')]
    if not lines:
        log(f'  ! loadgen {command} on {server.target.key}: no result '
            f'(exit {proc.returncode}) {proc.stderr.strip()[-300:]}')
        return None
    result: dict[str, Any] = json.loads(lines[-1])
    if 'error' in result:
        log(f'  ! loadgen {command} on {server.target.key}: '
            f'{result["error"][:300]} {result.get("errors", "")}')
        return None
    return result


def run_loadgen_split(node: str, server: Server, timeout: float, procs: int,
                      cores: list[int], **options: Any) -> dict[str, Any] | None:
    """ws-echo with the connections split over ``procs`` load generator
    processes, pinned round robin to ``cores``, all measuring the same window
    (``--start-at``); their results merged by merge_loadgen().  Processes
    sharing one core can't go faster than that core: on a 2-core machine
    (server on core 0, every process on core 1) this only shows whether one
    process was the limit, not what more cores would give."""
    conns = int(options.pop('conns'))
    procs = min(procs, conns)
    split = [conns // procs + (1 if i < conns % procs else 0) for i in range(procs)]
    warmup = float(options.pop('warmup', 1.0))
    # Time to open the sessions (500 at 50 in flight), then the warm-up.
    start_at = int(1000 * (time.time() + 1.0 + conns * 0.004 + warmup))
    running: list[tuple[subprocess.Popen[str], int]] = []
    for i, n in enumerate(split):
        argv = [*ws_echo_argv(node), '--port', str(server.port),
                '--server-pid', server.pid_arg, '--clk-tck', str(CLK_TCK),
                '--conns', str(n), '--start-at', str(start_at), '--hist']
        for key, value in options.items():
            argv += [f'--{key.replace("_", "-")}', str(value)]
        core = cores[i % len(cores)]
        running.append((subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, preexec_fn=_pinned(core)), core))
    parts: list[dict[str, Any] | None] = []
    deadline = time.monotonic() + timeout + (start_at / 1000 - time.time())
    for proc, _ in running:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            log(f'  ! loadgen ws-echo on {server.target.key}: timed out')
        lines = [ln for ln in out.splitlines() if ln.startswith('{')]
        res = json.loads(lines[-1]) if lines else None
        if res is None or 'error' in res:
            log(f'  ! loadgen ws-echo (split) on {server.target.key}: '
                f'{(res or {}).get("error", err.strip()[-300:])}')
            res = None
        parts.append(res)
    return merge_loadgen(parts, [core for _, core in running])


def hist_percentile(hist: dict[int, int], q: float) -> float | None:
    """The q-quantile (ms) of a merged loadgen histogram (2% buckets of us)."""
    total = sum(hist.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen > rank:
            return 1.02 ** (b + 0.5) / 1000
    return 1.02 ** (max(hist) + 0.5) / 1000


def merge_loadgen(parts: list[dict[str, Any] | None], cores: list[int]) -> dict[str, Any] | None:
    """One result out of the ws-echo results of processes that measured the
    same window: rates and counts add up; the server's CPU time is read by
    each over (nearly) the same window, so its mean is divided by the total
    operations; the load generator's CPU is given per core (the max over
    cores is what may limit); percentiles from the merged histograms."""
    if not parts or any(p is None for p in parts):
        return None
    ok: list[dict[str, Any]] = [p for p in parts if p is not None]
    out = dict(ok[0])
    out.pop('hist', None)
    per_core: dict[int, float] = {}
    for p, core in zip(ok, cores, strict=False):
        per_core[core] = per_core.get(core, 0.0) + p['loadgen_cpu_pct']
    hist: dict[int, int] = {}
    for p in ok:
        for b, n in (p.get('hist') or {}).items():
            hist[int(b)] = hist.get(int(b), 0) + n
    seconds = statistics.mean(p['seconds'] for p in ok)
    out.update(
        conns=sum(p.get('conns', 0) for p in ok), count=sum(p['count'] for p in ok),
        rate=sum(p['rate'] for p in ok), seconds=seconds,
        loadgen_procs=len(ok), loadgen_cpu_pct=max(per_core.values()),
        loadgen_cpu_pct_total=sum(per_core.values()),
        loadgen_cpu_pct_per_proc=[p['loadgen_cpu_pct'] for p in ok],
        samples=sum(p.get('samples', 0) for p in ok),
        p50_ms=hist_percentile(hist, 0.5), p90_ms=hist_percentile(hist, 0.9),
        p99_ms=hist_percentile(hist, 0.99),
        max_ms=max((p.get('max_ms') or 0) for p in ok),
        bad_frames=sum(p.get('bad_frames', 0) for p in ok),
        dropped_connections=sum(p.get('dropped_connections', 0) for p in ok),
        start_late_ms=max(p.get('start_late_ms', 0) for p in ok))
    for key in [k for k in out if k.startswith('core') and k.endswith('_busy_pct')]:
        out[key] = statistics.mean(p.get(key, 0) for p in ok)
    cpu = [p['server_cpu_s'] for p in ok if p.get('server_cpu_s') is not None]
    if cpu:
        out['server_cpu_s'] = statistics.mean(cpu)
        out['server_cpu_pct'] = 100 * out['server_cpu_s'] / seconds
        ops = out['rate'] * seconds
        out['server_cpu_us_per_op'] = 1e6 * out['server_cpu_s'] / ops if ops else None
    return out


# -- statistics and tables --------------------------------------------------
def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired_ratio(num: list[dict[str, Any] | None],
                 den: list[dict[str, Any] | None], key: str) -> float | None:
    """Median over rounds of num/den, rounds where both sides measured."""
    ratios = [a[key] / b[key] for a, b in zip(num, den, strict=False)
              if a and b and a.get(key) and b.get(key)]
    return statistics.median(ratios) if ratios else None


def cpu_ratio(ours: list[dict[str, Any] | None],
              other: list[dict[str, Any] | None],
              key: str = 'server_cpu_us_per_op') -> float | None:
    """Median over rounds of other's CPU per operation / ours: how many
    times less server CPU this project spends per operation (robust to a
    busy machine, since it counts CPU time, not wall time)."""
    ratios = [b[key] / a[key] for a, b in zip(ours, other, strict=False)
              if a and b and a.get(key) and b.get(key)]
    return statistics.median(ratios) if ratios else None


def fmt_rate(v: float | None) -> str:
    if v is None:
        return 'n/a'
    if v >= 100_000:
        return f'{v / 1000:.0f}k'
    if v >= 1000:
        return f'{v / 1000:.1f}k'
    return f'{v:.0f}'


def fmt(v: float | None, digits: int = 2, suffix: str = '') -> str:
    return 'n/a' if v is None else f'{v:.{digits}f}{suffix}'


def verdict(ratio: float | None, goal: float, higher: bool = True) -> str:
    if ratio is None:
        return 'n/a'
    ok = ratio >= goal if higher else ratio <= goal
    return 'met' if ok else 'NOT met'


def md_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows])
              for i in range(len(header))]
    def line(cells: list[str]) -> str:
        return '| ' + ' | '.join(str(c).ljust(w)
                                 for c, w in zip(cells, widths, strict=False)) + ' |'
    sep = '|' + '|'.join('-' * (w + 2) for w in widths) + '|'
    return '\n'.join([line(header), sep, *(line(r) for r in rows)])


# -- the harness ------------------------------------------------------------
@dataclass
class Settings:
    rounds: int
    warmup: float
    window: float
    codec_seconds: float
    ws_scenarios: list[tuple[int, str]]
    blocking_scenarios: list[tuple[int, str]]
    polling_clients: int
    idle_sessions: int
    session_concurrency: int


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        if args.quick:
            self.s = Settings(
                rounds=1, warmup=0.3, window=1.0, codec_seconds=0.05,
                ws_scenarios=[(50, 'text16'), (50, 'bin16')],
                blocking_scenarios=[(50, 'text16')], polling_clients=50,
                idle_sessions=500, session_concurrency=20)
        else:
            self.s = Settings(
                rounds=3, warmup=1.0, window=3.0, codec_seconds=0.4,
                ws_scenarios=[(c, p) for c in (1, 50, 500)
                              for p in ('text16', 'text1k', 'bin16')],
                blocking_scenarios=[(1, 'text16'), (50, 'text16'),
                                    (50, 'bin16'), (500, 'text16')],
                polling_clients=50, idle_sessions=5000,
                session_concurrency=20)
        if args.rounds:
            self.s.rounds = args.rounds
        if args.window:
            self.s.window = args.window
        if args.warmup is not None:
            self.s.warmup = args.warmup
        if args.idle_sessions:
            self.s.idle_sessions = args.idle_sessions
        self.load_cores: list[int] = getattr(args, 'load_cores', [LOAD_CORE])
        # The multiproc figure: N workers on these cores (default: all of
        # the machine's, as a deployment would use them).
        all_cores = getattr(args, 'all_cores', None) or sorted(os.sched_getaffinity(0))
        self.multiproc_cores: list[int] = getattr(args, 'multiproc_cores_list', None) or all_cores
        self.workers: int = getattr(args, 'workers', None) or len(self.multiproc_cores)
        self.spread: list[int] | None = (self.multiproc_cores if getattr(args, 'multiproc_spread', False)
                                         else None)
        self.stamp = _dt.datetime.now().strftime('%Y%m%d-%H%M%S')
        self.logdir = RESULTS / f'logs-{self.stamp}'
        self.results: dict[str, Any] = {}
        self.sections: list[str] = []
        self.summary: list[list[str]] = []

    # setup
    def setup(self) -> None:
        stack = _stack_requirements()
        self.py_ours = ensure_venv('ours', stack + _project_dependencies())
        self.py_pe = ensure_venv('pe4151',
                                 [*stack, f'python-engineio=={PE_VERSION}'])
        self.node = ensure_node()
        if WS_LOADGEN[0] == 'c':
            ensure_wsecho()
        self.logdir.mkdir(parents=True, exist_ok=True)
        # A snapshot of src/: every 'ours' process of this run imports the
        # same code, even if the working tree changes while the run goes on.
        self.src = self.logdir / 'src'
        shutil.copytree(REPO / 'src', self.src,
                        ignore=shutil.ignore_patterns('__pycache__', '*.egg-info'))
        self.src_hash = _tree_hash(self.src)
        ours_env = {'PYTHONPATH': str(self.src)}
        py_ours, py_pe, node = str(self.py_ours), str(self.py_pe), self.node
        self.targets = {
            'ours': Target('ours', 'this project', [py_ours, 'servers/eio_asgi.py'], ours_env),
            'pe4151': Target('pe4151', f'python-engineio {PE_VERSION}', [py_pe, 'servers/eio_asgi.py']),
            'bare': Target('bare', 'bare ASGI echo', [py_ours, 'servers/bare_asgi.py']),
            'node': Target('node', 'Node engine.io', [node, 'servers/node_eio.js']),
            'ours-gevent': Target('ours-gevent', 'this project, gevent', [py_ours, 'servers/eio_gevent.py'], ours_env),
            'pe4151-gevent': Target('pe4151-gevent', f'python-engineio {PE_VERSION}, gevent',
                                    [py_pe, 'servers/eio_gevent.py']),
            'bare-gevent': Target('bare-gevent', 'bare gevent-websocket echo', [py_ours, 'servers/bare_gevent.py']),
            'ours-eventlet': Target('ours-eventlet', 'this project, eventlet',
                                    [py_ours, 'servers/eio_eventlet.py'], ours_env),
            'pe4151-eventlet': Target('pe4151-eventlet', f'python-engineio {PE_VERSION}, eventlet',
                                      [py_pe, 'servers/eio_eventlet.py']),
            'ours-aiohttp': Target('ours-aiohttp', 'this project, aiohttp',
                                   [py_ours, 'servers/eio_aiohttp.py'], ours_env),
            'pe4151-aiohttp': Target('pe4151-aiohttp', f'python-engineio {PE_VERSION}, aiohttp',
                                     [py_pe, 'servers/eio_aiohttp.py']),
            'bare-aiohttp': Target('bare-aiohttp', 'bare aiohttp WebSocketResponse echo',
                                   [py_ours, 'servers/bare_aiohttp.py']),
            'node-ws': Target('node-ws', 'bare Node ws echo', [node, 'servers/node_ws.js']),
            'bare-eventlet': Target('bare-eventlet', 'bare eventlet.websocket echo',
                                    [py_ours, 'servers/bare_eventlet.py']),
        }
        # The multiproc figure: N aiohttp processes on one port.
        n = self.workers
        self.targets[f'ours-aiohttp-x{n}'] = Target(
            f'ours-aiohttp-x{n}', f'this project, aiohttp, {n} worker processes',
            [py_ours, 'servers/eio_aiohttp.py'], ours_env, workers=n)
        self.targets[f'bare-aiohttp-x{n}'] = Target(
            f'bare-aiohttp-x{n}', f'bare aiohttp echo, {n} worker processes',
            [py_ours, 'servers/bare_aiohttp.py'], workers=n)
        if self.args.with_patches:
            for base in ('ours', 'ours-gevent', 'ours-eventlet', 'ours-aiohttp'):
                t = self.targets[base]
                self.targets[f'{base}-patched'] = Target(
                    f'{base}-patched', f'{t.label} + {self.args.with_patches}', t.argv,
                    {**t.env, 'EIO_BENCH_PATCH': self.args.with_patches})
        skip = {target_key(k) for k in (self.args.skip_targets or '').split(',') if k}
        for key in skip:
            self.targets.pop(key, None)
        self.chosen = self.parse_targets(getattr(self.args, 'targets', None) or [])

    def parse_targets(self, values: list[str]) -> dict[str, list[str]]:
        """--targets values: 'LIST' (the figures ws, stacks, polling, memory
        and sessions) or 'FIGURE=LIST' (that figure only, any of
        TARGET_FIGURES); a later value wins.  Returns figure -> targets."""
        chosen: dict[str, list[str]] = {}
        for value in values:
            figure, sep, names = value.rpartition('=')
            figures = [figure] if sep else ['ws', 'stacks', 'polling', 'memory', 'sessions']
            if sep and figure not in TARGET_FIGURES:
                raise SystemExit(f'--targets {value}: {figure!r} is not one of '
                                 + ', '.join(TARGET_FIGURES))
            keys = [target_key(k) for k in names.split(',') if k]
            unknown = [k for k in keys if k not in self.targets]
            if unknown:
                raise SystemExit(f'unknown or skipped targets {unknown}; known: '
                                 + ', '.join(self.targets) + ' (aliases: '
                                 + ', '.join(f'{a}={k}' for a, k in TARGET_ALIASES.items()) + ')')
            for f in figures:
                chosen[f] = keys
        return chosen

    def machine(self) -> dict[str, Any]:
        def out(cmd: list[str], cwd: Path | None = None) -> str:
            try:
                return subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=30, cwd=cwd).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                return ''
        cpu = ''
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.startswith('model name'):
                        cpu = line.split(':', 1)[1].strip()
                        break
        except OSError:
            pass
        versions = out([str(self.py_pe), '-c',
                        'import importlib.metadata as m;print(" ".join(f"{p}=={m.version(p)}" for p in '
                        '("python-engineio","uvicorn","uvloop","httptools","websockets","aiohttp",'
                        '"gevent","gevent-websocket","eventlet")))'])
        node_packages = []
        for pkg in ('engine.io', 'ws'):
            try:
                meta = json.loads((LOADGEN_DIR / 'node_modules' / pkg / 'package.json').read_text())
                node_packages.append(f'{pkg}=={meta["version"]}')
            except (OSError, ValueError, KeyError):
                node_packages.append(f'{pkg}==?')
        return {
            'date': _dt.datetime.now().astimezone().isoformat(timespec='seconds'),
            'cpu': cpu, 'cores': os.cpu_count(),
            'affinity': sorted(os.sched_getaffinity(0)),
            'kernel': platform.release(),
            'python': platform.python_version(),
            'node': out([self.node, '--version']),
            'ws_loadgen': WS_LOADGEN[0],
            'commit': out(['git', 'rev-parse', '--short', 'HEAD'], REPO),
            'dirty': bool(out(['git', 'status', '--porcelain', '--', 'src'], REPO)),
            'src_hash': self.src_hash,
            'stack': versions,
            'node_packages': ' '.join(node_packages),
            'nproc': os.cpu_count(),
            'loadgen_procs': self.args.loadgen_procs,
            'loadgen_cores': self.load_cores,
            'polling_client': getattr(self.args, 'polling_client', 'raw'),
            'multiproc_workers': self.workers, 'multiproc_cores': self.multiproc_cores,
            'multiproc_spread': bool(self.spread),
            'ours_version': _ours_version(),
            'loadavg_start': Path('/proc/loadavg').read_text().split()[:3],
            'mode': 'quick' if self.quick else 'full',
            'rounds': self.s.rounds, 'window_s': self.s.window, 'warmup_s': self.s.warmup,
        }

    def with_patched(self, keys: list[str]) -> list[str]:
        """Add each 'ours*-patched' target right after its 'ours*' one, when
        --with-patches is given."""
        out = []
        for k in keys:
            out.append(k)
            if k.startswith('ours') and f'{k}-patched' in self.targets:
                out.append(f'{k}-patched')
        return out

    def pick(self, figure: str, default: list[str]) -> list[str]:
        """A figure's targets: those of --targets when given for it, else
        ``default``; without the targets --skip-targets removed, and those
        the figure can't measure (left out with a note)."""
        keys = [k for k in self.with_patched(self.chosen.get(figure, default)) if k in self.targets]
        if figure == 'polling':
            left = [k for k in keys if base_key(k) in NO_POLLING]
            if left:
                log(f'  (polling: {", ".join(left)} only speak WebSocket: left out)')
            keys = [k for k in keys if base_key(k) not in NO_POLLING]
        if figure in ('polling', 'memory'):
            # Worker groups can't take part: the requests of one polling
            # session would land on different workers, and the memory
            # figure reads the RSS of one process.
            left = [k for k in keys if self.targets[k].workers]
            if left:
                log(f'  ({figure}: {", ".join(left)} are several processes: left out)')
            keys = [k for k in keys if not self.targets[k].workers]
        return keys

    def make_server(self, key: str, cores: set[int] | None = None) -> Server:
        t = self.targets[key]
        if t.workers:
            return WorkerGroup(t, self.logdir, cores, self.spread)
        return Server(t, self.logdir, cores)

    def start_servers(self, keys: list[str], cores: set[int] | None = None) -> dict[str, Server]:
        servers: dict[str, Server] = {}
        try:
            for key in keys:
                if key not in self.targets:
                    continue
                servers[key] = self.make_server(key, cores).start()
                log(f'  started {key} on :{servers[key].port} '
                    f'(pid {servers[key].pid_arg}) {servers[key].info}')
        except Exception:
            # One that fails to start must not leave the others running.
            self.stop_servers(servers)
            raise
        return servers

    @staticmethod
    def stop_servers(servers: dict[str, Server]) -> None:
        for srv in servers.values():
            srv.stop()

    def interleaved(self, servers: dict[str, Server],
                    scenarios: list[tuple[str, str, dict[str, Any]]],
                    ) -> dict[str, dict[str, list[dict[str, Any] | None]]]:
        """Run every scenario on every server, ``rounds`` times, rotating
        the order of the servers in each (round, scenario)."""
        keys = list(servers)
        out: dict[str, dict[str, list[Any]]] = {
            name: {k: [] for k in keys} for name, _, _ in scenarios}
        budget = self.s.warmup + self.s.window + 60
        for r in range(self.s.rounds):
            for i, (name, command, options) in enumerate(scenarios):
                shift = (r + i) % len(keys)
                for key in keys[shift:] + keys[:shift]:
                    srv = servers[key]
                    srv.ensure()
                    res = run_loadgen(self.node, command, srv, budget,
                                      procs=self.args.loadgen_procs, cores=self.load_cores,
                                      warmup=self.s.warmup,
                                      duration=self.s.window, **options)
                    out[name][key].append(res)
                    if res:
                        log(f'  round {r + 1} {name:<18} {key:<16} '
                            f'{fmt_rate(res["rate"]):>6}/s  server '
                            f'{fmt(res.get("server_cpu_us_per_op"), 1)} us/op '
                            f'core0 {fmt(res.get("core0_busy_pct"), 0)}% '
                            f'loadgen {fmt(res.get("loadgen_cpu_pct"), 0)}%')
                    time.sleep(0.2)
        return out

    def add_summary(self, figure: str, what: str, ratio: float | None,
                    goal: float, cpu: float | None = None,
                    higher: bool = True) -> None:
        op = '>=' if higher else '<='
        self.summary.append([figure, what, fmt(ratio, 2, 'x'),
                             f'{op} {goal}x', verdict(ratio, goal, higher),
                             fmt(cpu, 2, 'x')])

    # figure 1
    def fig_codec(self) -> None:
        log('figure 1: codec')
        runs: dict[str, list[dict[str, Any]]] = {'ours': [], 'pe4151': []}
        for r in range(self.s.rounds):
            order = ['ours', 'pe4151'] if r % 2 == 0 else ['pe4151', 'ours']
            for key in order:
                t = self.targets[key]
                env = dict(os.environ)
                env.pop('PYTHONPATH', None)
                env.update(t.env)
                proc = subprocess.run(
                    [t.argv[0], str(BENCH / 'codec' / 'codec_bench.py'),
                     '--seconds-per-case', str(self.s.codec_seconds)],
                    capture_output=True, text=True, env=env, timeout=300,
                    preexec_fn=_pinned(SERVER_CORE), check=True)
                runs[key].append(json.loads(proc.stdout))
        self.results['codec'] = runs
        rows = []
        for case in runs['ours'][0]['ops_per_s']:
            pe_runs = [x['ops_per_s'][case] for x in runs['pe4151']]
            for label, key in (('Packet/Payload API', 'ops_per_s'),
                               ('server path', 'server_path_ops_per_s')):
                ours_runs = [x.get(key, {}).get(case) for x in runs['ours']]
                if None in ours_runs:
                    continue
                ratio = statistics.median(a / b for a, b in zip(ours_runs, pe_runs, strict=False))
                rows.append([case, label, fmt_rate(median(ours_runs)), fmt_rate(median(pe_runs)),
                             fmt(ratio, 2, 'x'), verdict(ratio, 3.0)])
                self.add_summary('codec', f'{case} ({label})', ratio, 3.0)
        self.sections.append(
            '### 1. Codec (operations per CPU second, one core)\n\n'
            '"Packet/Payload API": both sides through `Packet(...).encode()`, '
            '`Packet(encoded_packet=...)`, `Payload(...)`.  "server path": what this '
            "project's servers call per packet (`encode_data`, `decode_text`, "
            "`encode_frames`, `decode_body`: no Packet objects) against python-engineio's "
            'API, which is its servers\' path.\n\n'
            + md_table(['case', 'ours via', 'ours', f'pe {PE_VERSION}', 'ours/pe', '>= 3x'], rows))

    # figure 2b
    def fig_layer(self) -> None:
        log('figure 2b: in-process Engine.IO layer cost (no network, no web server)')
        payloads = ['text16', 'bin16'] if self.quick else ['text16', 'text1k', 'bin16']
        messages = 20_000 if self.quick else 100_000
        keys = self.with_patched(['ours', 'pe4151', 'bare'])
        runs: dict[str, dict[str, list[dict[str, Any] | None]]] = {
            p: {k: [] for k in keys} for p in payloads}
        for r in range(self.s.rounds):
            for i, payload in enumerate(payloads):
                shift = (r + i) % len(keys)
                for key in keys[shift:] + keys[:shift]:
                    t = self.targets['ours' if key == 'bare' else key]
                    env = dict(os.environ)
                    env.pop('PYTHONPATH', None)
                    env.update(t.env)
                    argv = [t.argv[0], str(BENCH / 'codec' / 'inproc_echo.py'),
                            '--conns', '50', '--messages', str(messages),
                            '--payload', payload, '--app', 'bare' if key == 'bare' else 'eio',
                            '--patch', env.pop('EIO_BENCH_PATCH', '')]
                    try:
                        proc = subprocess.run(argv, capture_output=True, text=True, env=env,
                                              timeout=300, preexec_fn=_pinned(SERVER_CORE),
                                              check=True)
                        runs[payload][key].append(json.loads(proc.stdout))
                    except (subprocess.SubprocessError, ValueError) as exc:
                        log(f'  ! inproc {key} {payload}: {exc}')
                        runs[payload][key].append(None)
        self.results['layer'] = runs
        rows = []
        for payload in payloads:
            d = runs[payload]
            cpu = {k: median([x['cpu_us_per_msg'] for x in d[k] if x]) for k in keys}
            layer = {k: (cpu[k] - cpu['bare']) if cpu[k] is not None and cpu['bare'] is not None
                     else None for k in keys if k != 'bare'}
            for k in keys:
                if k in ('bare', 'pe4151'):
                    continue
                rows.append([f'50 sessions {payload}', k, fmt(cpu[k]), fmt(cpu['pe4151']),
                             fmt(cpu['bare']), fmt(layer[k]), fmt(layer['pe4151']),
                             fmt(cpu_ratio(d[k], d['pe4151'], 'cpu_us_per_msg'), 2, 'x'),
                             fmt(layer['pe4151'] / layer[k], 2, 'x')
                             if layer[k] and layer['pe4151'] else 'n/a'])
        self.sections.append(
            '### 2b. Engine.IO layer cost per WebSocket echo (in process: fake ASGI '
            'receive/send on uvloop, no network, no web server; CPU us per message)\n\n'
            + md_table(['scenario', 'target', 'ours', f'pe {PE_VERSION}', 'bare ASGI echo',
                        'ours layer (- bare)', 'pe layer (- bare)', 'pe/ours total',
                        'pe/ours layer'], rows))

    # figure 2 and 6
    def _echo_figure(self, figure: str, title: str, keys: list[str],
                     scenarios: list[tuple[int, str]],
                     pairs: list[tuple[str, str, Callable[[int, str], float]]],
                     ceiling: str | None, plain: bool = True, stacks: bool = False) -> None:
        servers = self.start_servers(keys)
        try:
            runs = self.interleaved(servers, [
                (f'{conns} conns {payload}', 'ws-echo',
                 {'conns': conns, 'payload': payload})
                for conns, payload in scenarios])
        finally:
            self.stop_servers(servers)
        self.results[figure] = runs
        keys = list(servers)
        if stacks:
            stack_text = self._stacks_tables(runs, keys, scenarios)
        if not plain:
            self.sections.append(f'### {title}\n\n{stack_text}')
            return
        rate_rows, lat_rows, cpu_rows = [], [], []

        def ceil_of(k: str) -> str:
            """The bare echo of k's own stack when measured, else ``ceiling``."""
            own = own_bare(k)
            return own if own in keys else ceiling  # type: ignore[return-value]
        for (conns, payload) in scenarios:
            name = f'{conns} conns {payload}'
            data = runs[name]
            row = [name] + [fmt_rate(median([x['rate'] for x in data[k] if x]))
                            + ('*' if any(x and x.get('loadgen_cpu_pct', 0) > LOADGEN_BUSY
                                          for x in data[k]) else '')
                            for k in keys]
            for num, den, goal_of in pairs:
                if num in data and den in data:
                    ratio = paired_ratio(data[num], data[den], 'rate')
                    goal = goal_of(conns, payload)
                    row.append(f'{fmt(ratio, 2, "x")} ({verdict(ratio, goal)} {goal}x)')
                    row.append(fmt(cpu_ratio(data[num], data[den]), 2, 'x'))
                    self.add_summary(figure, f'{num}/{den} {name}', ratio, goal,
                                     cpu_ratio(data[num], data[den]))
            if ceiling and ceiling in data:
                for k in keys:
                    if k.startswith('ours'):
                        row.append(fmt(paired_ratio(data[k], data[ceil_of(k)], 'rate'), 2, 'x'))
            rate_rows.append(row)
            lat_rows.append([name] + [
                f'{fmt(median([x["p50_ms"] for x in data[k] if x]), 2)} / '
                f'{fmt(median([x["p99_ms"] for x in data[k] if x]), 2)}'
                for k in keys])
            cpu_rows.append([name] + [
                fmt(median([x.get('server_cpu_us_per_op') for x in data[k] if x]), 1)
                for k in keys] + [
                fmt(max([x.get('loadgen_cpu_pct', 0) for k in keys for x in data[k] if x],
                        default=None), 0, '%'),
                fmt(median([x.get('core0_busy_pct') for k in keys for x in data[k] if x]), 0, '%')])
        head = ['scenario', *keys]
        for n, d, _ in pairs:
            if n in keys and d in keys:
                head += [f'{n}/{d}', f'{n}/{d} CPU']
        if ceiling and ceiling in keys:
            head += [f'{k}/{ceil_of(k)}' for k in keys if k.startswith('ours')]
        self.sections.append(
            f'### {title}\n\nMessages/s (median of {self.s.rounds} rounds; '
            'ratios: median of per-round ratios; * the load generator used over '
            f'{LOADGEN_BUSY}% of its core in a run of this cell: a lower bound)\n\n' + md_table(head, rate_rows)
            + '\n\nRound trip p50 / p99 (ms)\n\n' + md_table(['scenario', *keys], lat_rows)
            + '\n\nServer CPU per message (us); load generator CPU (max over runs) and '
              'server core busy (median, includes softirq)\n\n'
            + md_table(['scenario', *keys, 'loadgen CPU max', 'core0 busy'], cpu_rows)
            + (f'\n\n#### Each target against its own stack\'s bare echo and Node engine.io\n\n{stack_text}'
               if stacks else ''))

    def _stacks_tables(self, runs: dict[str, dict[str, list[dict[str, Any] | None]]],
                       keys: list[str], scenarios: list[tuple[int, str]]) -> str:
        """Per scenario, one row per target: msg/s, p50/p99, server CPU per
        message, and each as a ratio to the target's own bare echo (same web
        server stack) and to Node engine.io; then an overview of the ratios."""
        load = f'core{LOAD_CORE}_busy_pct'
        tables, overview = [], {k: [] for k in keys}
        names = []
        for conns, payload in scenarios:
            name = f'{conns} conns {payload}'
            names.append(name)
            data = runs[name]
            rows = []
            for k in keys:
                ok = [x for x in data[k] if x]
                bare = own_bare(k)

                def rel(den: str | None, key: str, k: str = k,
                        data: dict[str, list[dict[str, Any] | None]] = data) -> float | None:
                    if den is None or den == k or den not in data:
                        return None
                    return paired_ratio(data[k], data[den], key)
                same_pe = 'pe4151' + k[4:] if k.startswith('ours') else None
                busy = any(x.get('loadgen_cpu_pct', 0) > LOADGEN_BUSY for x in ok)
                r_bare, c_bare = rel(bare, 'rate'), rel(bare, 'server_cpu_us_per_op')
                r_node, c_node = rel('node', 'rate'), rel('node', 'server_cpu_us_per_op')
                r_pe = rel(same_pe.removesuffix('-patched') if same_pe else None, 'rate')
                rows.append([
                    k, STACK_OF.get(k.removesuffix('-patched'), '?'),
                    fmt_rate(median([x['rate'] for x in ok])) + ('*' if busy else ''),
                    f'{fmt(median([x["p50_ms"] for x in ok]))} / {fmt(median([x["p99_ms"] for x in ok]))}',
                    fmt(median([x.get('server_cpu_us_per_op') for x in ok]), 1),
                    fmt(r_bare, 2, 'x') if r_bare else '', fmt(c_bare, 2, 'x') if c_bare else '',
                    fmt(r_node, 2, 'x') if r_node else '', fmt(c_node, 2, 'x') if c_node else '',
                    fmt(r_pe, 2, 'x') if r_pe else '',
                    fmt(max([x.get('loadgen_cpu_pct', 0) for x in ok], default=None), 0, '%'),
                    fmt(median([x.get(load) for x in ok]), 0, '%'),
                    str(sum(x.get('bad_frames', 0) + x.get('dropped_connections', 0) for x in ok)
                        + sum(1 for x in data[k] if not x))])
                overview[k].append(f'{fmt(r_bare, 2) if r_bare else "-"} / {fmt(r_node, 2) if r_node else "-"}')
            tables.append(f'{name}\n\n' + md_table(
                ['target', 'stack', 'msg/s', 'p50 / p99 ms', 'server CPU us/msg',
                 'msg/s ÷ own bare', 'CPU/msg ÷ own bare', 'msg/s ÷ node', 'CPU/msg ÷ node',
                 'msg/s ÷ pe same stack', 'loadgen CPU max', f'core{LOAD_CORE} busy', 'errors'], rows))
        procs = self.args.loadgen_procs
        gen = (f'{procs} load generator processes splitting the connections (cores '
               f'{",".join(map(str, self.load_cores))})' if procs > 1 else
               f'one load generator process (core {LOAD_CORE})')
        return (f'Median of {self.s.rounds} rounds, {self.s.window:g} s windows; {gen}. '
                'Ratios are medians of per-round ratios, the two sides measured seconds apart: '
                '"÷ own bare" divides by the bare echo of the same web server stack (uvicorn: '
                '`bare`, aiohttp: `bare-aiohttp`, Node: `node-ws`), "÷ node" by Node engine.io; '
                'a CPU/msg ratio above 1 is more server CPU per message. '
                f'* the load generator used over {LOADGEN_BUSY}% of a core in a run of this '
                'cell: that msg/s is a lower bound set by the generator, not the server. '
                f'"core{LOAD_CORE} busy" is the load generator\'s core (softirq included). '
                '"errors": bad frames + dropped connections + failed runs.\n\n'
                'Overview: msg/s ÷ own bare / msg/s ÷ node engine.io\n\n'
                + md_table(['target', *names], [[k, *overview[k]] for k in keys])
                + '\n\n' + '\n\n'.join(tables))

    def fig_ws(self) -> None:
        log('figure 2: WebSocket echo')
        chosen = 'ws' in self.chosen
        self._echo_figure(
            'ws', '2. WebSocket echo (uvicorn + uvloop + httptools)'
            if not chosen else '2. WebSocket echo (targets of --targets)',
            self.pick('ws', ['ours', 'pe4151', 'bare', 'node']), self.s.ws_scenarios,
            [(k, 'pe4151', lambda c, p: 3.5 if c == 50 else 2.5)
             for k in self.with_patched(['ours'])], 'bare', stacks=chosen)

    def fig_stacks(self) -> None:
        log('figure 7: WebSocket echo across web server stacks')
        self._echo_figure(
            'stacks', '7. Stacks: WebSocket echo on uvicorn, aiohttp and Node, each against '
            'the bare echo of its own stack', self.pick('stacks', STACK_TARGETS), self.s.ws_scenarios,
            [], None, plain=False, stacks=True)

    def fig_blocking(self) -> None:
        log('figure 6: blocking server under gevent / eventlet')
        keys = self.pick('blocking', BLOCKING_TARGETS)
        pairs: list[tuple[str, str, Callable[[int, str], float]]] = [
            (k, 'pe4151-' + k.split('-')[1], lambda c, p: 2.0)
            for k in keys if k.startswith('ours')]
        self._echo_figure('blocking', '6. Blocking server: WebSocket echo under gevent '
                          '(pywsgi + gevent-websocket) and eventlet (eventlet.wsgi), each '
                          'against python-engineio and the bare echo of the same server',
                          keys, self.s.blocking_scenarios, pairs, 'bare-gevent')

    # figure 3
    def fig_polling(self) -> None:
        log('figure 3: long-polling')
        servers = self.start_servers(self.pick('polling', POLLING_TARGETS))
        name = f'{self.s.polling_clients} clients text16'
        client = getattr(self.args, 'polling_client', 'raw')
        options: dict[str, Any] = {'clients': self.s.polling_clients}
        if client == 'raw':
            options['raw'] = 1
        try:
            runs = self.interleaved(servers, [(name, 'polling', options)])
        finally:
            self.stop_servers(servers)
        self.results['polling'] = runs
        self.sections.append(
            f'### 3. Long-polling round trips ({name}: POST a message, GET its echo)\n\n'
            'The bare servers (`bare` on uvicorn, `bare-aiohttp`, `node-ws` on Node `http`) '
            'answer just enough Engine.IO long-polling for this load generator: a dict of '
            'sid -> queued packets and the waiting GET, no pings, no checks; the ceiling of '
            'their stack. The load generator\'s HTTP client: '
            + ('raw (two keep-alive TCP connections per client, a minimal HTTP/1.1 parser)'
               if client == 'raw' else "Node's `http` with a keep-alive Agent") + '.\n\n'
            + self._single_table('polling', name, runs[name], list(servers), 2.0, 0.9,
                                 'round trips/s', 'p50 / p99 ms', 'server CPU us/round trip'))

    @staticmethod
    def _same_stack_pe(key: str, measured: Any) -> str | None:
        """The python-engineio target on the key's own stack when measured
        ('ours-aiohttp' -> 'pe4151-aiohttp'), else the uvicorn one."""
        base = base_key(key)
        if base.startswith('pe4151'):
            return None
        stack = STACK_OF.get(base)
        same = 'pe4151' + base[4:] if base.startswith('ours') else {
            'aiohttp': 'pe4151-aiohttp', 'gevent': 'pe4151-gevent',
            'eventlet': 'pe4151-eventlet'}.get(stack or '', 'pe4151')
        for pe in (same, 'pe4151'):
            if pe in measured:
                return pe
        return None

    def _single_table(self, figure: str, name: str,
                      data: dict[str, list[dict[str, Any] | None]], keys: list[str],
                      goal: float, goal_bare: float, rate_label: str, lat_label: str,
                      cpu_label: str) -> str:
        """One scenario, one row per target: its rate as a ratio to the bare
        server of its own stack (issue 17), to python-engineio on the same
        stack, and to Node engine.io."""
        rows = []
        load = f'core{LOAD_CORE}_busy_pct'
        for k in keys:
            ok = [x for x in data[k] if x]
            pe = self._same_stack_pe(k, data)
            bare = own_bare(k)
            bare = bare if bare in data and bare != k else None
            ratio = paired_ratio(data[k], data[pe], 'rate') if pe else None
            cratio = cpu_ratio(data[k], data[pe]) if pe else None
            r_bare = paired_ratio(data[k], data[bare], 'rate') if bare else None
            # ours / bare CPU per operation: above 1, the layer's cost.
            c_bare = paired_ratio(data[k], data[bare], 'server_cpu_us_per_op') if bare else None
            r_node = paired_ratio(data[k], data['node'], 'rate') if 'node' in data and k != 'node' else None
            if k.startswith('ours'):
                self.add_summary(figure, f'{k}/{pe} {name}', ratio, goal, cratio)
                if bare:
                    self.add_summary(figure, f'{k}/{bare} {name} (issue 17: own bare)', r_bare,
                                     goal_bare, cpu_ratio(data[k], data[bare]))
            busy = any(x.get('loadgen_cpu_pct', 0) > LOADGEN_BUSY for x in ok)
            rows.append([
                k, STACK_OF.get(base_key(k), '?'),
                fmt_rate(median([x['rate'] for x in ok])) + ('*' if busy else ''),
                f'{fmt(median([x["p50_ms"] for x in ok]))} / '
                f'{fmt(median([x["p99_ms"] for x in ok]))}',
                fmt(median([x.get('server_cpu_us_per_op') for x in ok]), 1),
                fmt(r_bare, 2, 'x') if bare else '', fmt(c_bare, 2, 'x') if bare else '',
                f'{fmt(ratio, 2, "x")} ({pe})' if pe else '', fmt(cratio, 2, 'x') if pe else '',
                fmt(r_node, 2, 'x') if r_node else '',
                fmt(max([x.get('loadgen_cpu_pct', 0) for x in ok], default=None), 0, '%'),
                fmt(median([x.get(load) for x in ok]), 0, '%'),
                str(sum(x.get('errors', 0) for x in ok) + sum(1 for x in data[k] if not x))])
        return (md_table(['target', 'stack', rate_label, lat_label, cpu_label, '÷ own bare',
                          'CPU/op ÷ own bare', 'vs pe (same stack)', 'CPU/op vs pe', '÷ node',
                          'loadgen CPU max', f'core{LOAD_CORE} busy', 'errors'], rows)
                + f'\n\nTargets: ours/pe >= {goal}x, ours/own bare >= {goal_bare}x (issue 17). '
                  'Ratios are medians of per-round ratios. "÷ own bare": to the bare server of '
                  'the same stack (uvicorn `bare`, `bare-aiohttp`, Node `node-ws`); "CPU/op ÷ '
                  'own bare": ours/bare server CPU per operation (above 1: what the layer adds); '
                  '"CPU/op vs pe": pe/ours server CPU per operation. * the load generator used '
                  f'over {LOADGEN_BUSY}% of its core in a run of this cell: that rate is a lower '
                  'bound, and a ratio to it an upper bound. "errors": client errors + failed runs.')

    # figure 5
    def fig_sessions(self) -> None:
        log('figure 5: new sessions per second')
        servers = self.start_servers(self.pick('sessions', SESSIONS_TARGETS))
        name = f'concurrency {self.s.session_concurrency}'
        try:
            runs = self.interleaved(servers, [
                (name, 'sessions', {'concurrency': self.s.session_concurrency})])
        finally:
            self.stop_servers(servers)
        self.results['sessions'] = runs
        self.sections.append(
            f'### 5. New WebSocket sessions per second ({name}: connect, '
            'handshake, open packet, then close)\n\n'
            + self._single_table('sessions', name, runs[name], list(servers), 1.8, 0.9,
                                 'sessions/s', 'open p50 / p99 ms', 'server CPU us/session'))

    # figure 4
    def _idle(self, server: Server, sessions: int,
              measure: Callable[[], None] | None) -> dict[str, Any] | None:
        argv = [self.node, str(LOADGEN), 'idle', '--port', str(server.port),
                '--sessions', str(sessions), '--hold', '120']
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True,
                                preexec_fn=_pinned(LOAD_CORE))
        assert proc.stdin is not None and proc.stdout is not None

        def readline(timeout: float) -> dict[str, Any] | None:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                return None
            line = proc.stdout.readline()  # type: ignore[union-attr]
            return json.loads(line) if line.startswith('{') else None
        try:
            first = readline(180)
            if first is None or 'error' in first:
                log(f'  ! idle on {server.target.key}: {first}')
                return None
            if measure is not None:
                measure()
            proc.stdin.write('close\n')
            proc.stdin.flush()
            readline(60)
            return first
        finally:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def fig_memory(self) -> None:
        n = self.s.idle_sessions
        log(f'figure 4: memory per idle WebSocket session ({n} sessions)')
        keys = self.pick('memory', MEMORY_TARGETS)
        runs: dict[str, list[dict[str, Any] | None]] = {k: [] for k in keys}
        for r in range(self.s.rounds):
            shift = r % len(keys)
            for key in keys[shift:] + keys[:shift]:
                srv = self.make_server(key).start()
                try:
                    # Warm up: imports, caches and the first allocations.
                    self._idle(srv, 50, None)
                    time.sleep(0.3 if self.quick else 1.0)
                    rss0 = proc_rss_kb(srv.pid)
                    sample: dict[str, Any] = {}

                    def measure() -> None:
                        time.sleep(0.3 if self.quick else 1.0)
                        sample['rss1'] = proc_rss_kb(srv.pid)  # noqa: B023
                    first = self._idle(srv, n, measure)
                    if first is None or 'rss1' not in sample or not first['sessions']:
                        runs[key].append(None)
                        continue
                    delta = sample['rss1'] - rss0
                    res = {'rss0_kb': rss0, 'rss1_kb': sample['rss1'],
                           'sessions': first['sessions'],
                           'kb_per_session': delta / first['sessions'],
                           'open_seconds': first['open_seconds'],
                           'errors': first['errors']}
                    runs[key].append(res)
                    log(f'  round {r + 1} {key:<16} {res["kb_per_session"]:.1f} KiB/session '
                        f'(RSS {rss0 / 1024:.0f} -> {sample["rss1"] / 1024:.0f} MiB, '
                        f'{first["sessions"]} sessions)')
                finally:
                    srv.stop()
        self.results['memory'] = runs
        rows = []
        for k in keys:
            ok = [x for x in runs[k] if x]
            pe = self._same_stack_pe(k, runs)
            bare = own_bare(k)
            bare = bare if bare in runs and bare != k else None
            ratio = paired_ratio(runs[k], runs[pe], 'kb_per_session') if pe else None
            r_bare = paired_ratio(runs[k], runs[bare], 'kb_per_session') if bare else None
            if k.startswith('ours'):
                self.add_summary('memory', f'{k}/{pe} KiB per idle session at {n}',
                                 ratio, 0.6, higher=False)
                if bare:
                    self.add_summary('memory', f'{k}/{bare} KiB per idle session at {n} '
                                     '(issue 17: own bare)', r_bare, 1.1, higher=False)
            rows.append([k, STACK_OF.get(base_key(k), '?'),
                         fmt(median([x['kb_per_session'] for x in ok]), 1),
                         fmt(r_bare, 2, 'x') if bare else '',
                         f'{fmt(ratio, 2, "x")} ({pe})' if pe else '',
                         fmt(median([x['rss0_kb'] / 1024 for x in ok]), 0),
                         fmt(median([x['rss1_kb'] / 1024 for x in ok]), 0),
                         fmt(median([x['sessions'] / x['open_seconds'] for x in ok]), 0),
                         str(sum(x.get('errors', 0) for x in ok) + sum(1 for x in runs[k] if not x))])
        self.sections.append(
            f'### 4. Memory per idle WebSocket session ({n} sessions; server RSS delta / sessions)\n\n'
            + md_table(['target', 'stack', 'KiB/session', '÷ own bare', 'vs pe (same stack)',
                        'RSS before (MiB)', 'RSS after (MiB)', 'opened/s (100 in flight)', 'errors'], rows)
            + '\n\nTargets: ours/pe <= 0.6x; ours/own bare <= 1.1x (issue 17: the bare '
              'WebSocket echo of the same stack, `bare`, `bare-aiohttp`, `node-ws`). A fresh '
              'server per measurement; ratios are medians of per-round ratios.')

    # the multiproc figure
    def fig_multiproc(self) -> None:
        n, cores = self.workers, sorted(self.multiproc_cores)
        log(f'figure 8: multiproc: {n} aiohttp workers of this project vs one Node process '
            f'(servers on cores {cores}, load generator on {self.load_cores})')
        keys = self.pick('multiproc', ['ours-aiohttp', f'ours-aiohttp-x{n}', 'node'])
        scenarios = [(50, 'text16'), (500, 'text16')]
        servers = self.start_servers(keys, cores=set(cores))
        try:
            runs = self.interleaved(servers, [
                (f'{c} conns {p}', 'ws-echo', {'conns': c, 'payload': p}) for c, p in scenarios])
        finally:
            self.stop_servers(servers)
        self.results['multiproc'] = runs
        keys = list(servers)
        one = 'ours-aiohttp' if 'ours-aiohttp' in keys else None
        core_keys = [f'core{c}_busy_pct' for c in sorted(set(cores) | set(self.load_cores))]
        tables = []
        for c, p in scenarios:
            name = f'{c} conns {p}'
            data = runs[name]
            rows = []
            for k in keys:
                ok = [x for x in data[k] if x]
                procs = self.targets[k].workers or 1
                per = [median([x['server_cpu_pct_per_pid'][i] for x in ok
                               if len(x.get('server_cpu_pct_per_pid') or []) > i])
                       for i in range(procs)] if procs > 1 else []
                r_node = paired_ratio(data[k], data['node'], 'rate') if 'node' in data and k != 'node' else None
                c_node = (paired_ratio(data[k], data['node'], 'server_cpu_us_per_op')
                          if 'node' in data and k != 'node' else None)
                r_one = paired_ratio(data[k], data[one], 'rate') if one and k != one else None
                busy = any(x.get('loadgen_cpu_pct', 0) > LOADGEN_BUSY for x in ok)
                rows.append([
                    k, str(procs), fmt_rate(median([x['rate'] for x in ok])) + ('*' if busy else ''),
                    f'{fmt(median([x["p50_ms"] for x in ok]))} / {fmt(median([x["p99_ms"] for x in ok]))}',
                    fmt(median([x.get('server_cpu_us_per_op') for x in ok]), 1),
                    fmt(median([x.get('server_cpu_pct') for x in ok]), 0, '%'),
                    ' + '.join(fmt(v, 0, '%') for v in per),
                    fmt(r_node, 2, 'x') if r_node else '', fmt(c_node, 2, 'x') if c_node else '',
                    fmt(r_one, 2, 'x') if r_one else '',
                    fmt(max([x.get('loadgen_cpu_pct', 0) for x in ok], default=None), 0, '%'),
                    *[fmt(median([x.get(ck) for x in ok]), 0, '%') for ck in core_keys],
                    str(sum(x.get('bad_frames', 0) + x.get('dropped_connections', 0) for x in ok)
                        + sum(1 for x in data[k] if not x))])
            tables.append(f'{name}\n\n' + md_table(
                ['target', 'processes', 'msg/s', 'p50 / p99 ms', 'server CPU us/msg',
                 'server CPU (all processes)', 'per worker', 'msg/s ÷ node', 'CPU/msg ÷ node',
                 'msg/s ÷ ours-aiohttp (1 process)', 'loadgen CPU max',
                 *[ck.replace('_busy_pct', ' busy') for ck in core_keys], 'errors'], rows))
        placement = (f'the workers pinned to cores {",".join(map(str, self.spread))} in turn '
                     '(worker i to the i-th), a single-process server may run on any of them'
                     if self.spread else
                     f'each server process may run on any of cores {",".join(map(str, cores))} '
                     '(the kernel places them)')
        shared = sorted(set(cores) & set(self.load_cores))
        self.sections.append(
            f'### 8. Multiproc: {n} aiohttp worker processes of this project (SO_REUSEPORT, one '
            'port) vs one Node engine.io process and one process of ours (WebSocket echo)\n\n'
            f'Median of {self.s.rounds} rounds, {self.s.window:g} s windows. Servers: {placement}; '
            f'the load generator ({self.args.loadgen_procs} process(es)) is pinned to core(s) '
            f'{",".join(map(str, self.load_cores))}'
            + (f', which it shares with the servers (cores {",".join(map(str, shared))}): on '
               f'a {len(set(cores) | set(self.load_cores))}-core machine the servers and the '
               'load generator compete for the same cores, so "loadgen CPU" and the per-core '
               'busy columns (softirq included) say who used them; a rate is only a property '
               'of the servers where those cores were not all busy'
               if shared else '') + '. Each WebSocket session stays on the worker that '
            'accepted its connection. "server CPU (all processes)": 100% = one core; '
            '"per worker": each process. * the load generator above '
            f'{LOADGEN_BUSY}% of a core.\n\n' + '\n\n'.join(tables))

    # report
    def report(self, machine: dict[str, Any], elapsed: float) -> str:
        head = (f'## Benchmark run {machine["date"]} ({machine["mode"]}, '
                f'{self.s.rounds} rounds, {self.s.window:g} s windows)\n\n'
                f'- machine: {machine["cpu"]}, {machine["cores"]} cores, Linux '
                f'{machine["kernel"]}; servers pinned to core {SERVER_CORE}, load '
                f'generator ({WS_GENERATOR_NAMES[WS_LOADGEN[0]]}) to core {LOAD_CORE}; '
                f'load average at start '
                f'{" ".join(machine["loadavg_start"])}\n'
                f'- this project: {machine["ours_version"]} at {machine["commit"]}'
                f'{" + uncommitted changes" if machine["dirty"] else ""} (src/ snapshot '
                f'{machine["src_hash"]}, used by every process of the run); '
                f'Python {machine["python"]}, Node {machine["node"]} '
                f'({machine["node_packages"]})\n'
                f'- stack (both Python targets): {machine["stack"]}\n'
                f'- run time: {elapsed / 60:.1f} min\n')
        summary = ('### Targets (ratios to python-engineio '
                   f'{PE_VERSION} measured in the same run)\n\n'
                   + md_table(['figure', 'measure', 'ratio', 'target', '',
                               'CPU/op ratio'], self.summary)
                   + '\n\n"ratio" is ours/pe (or ours/bare) of the measure (throughput; '
                   'memory per session); "CPU/op ratio" is pe/ours (bare/ours) of the server '
                   'CPU time per operation, which a busy machine disturbs much less.')
        return '\n\n'.join([head, *([summary] if self.summary else []), *self.sections]) + '\n'

    def run(self) -> int:
        t0 = time.monotonic()
        self.setup()
        machine = self.machine()
        only = [f for f in (self.args.only or ','.join(DEFAULT_FIGURES)).split(',') if f]
        for f in only:
            if f not in FIGURES:
                raise SystemExit(f'unknown figure {f!r}; one of {", ".join(FIGURES)}')
        for figure in FIGURES:
            if figure in only:
                try:
                    getattr(self, f'fig_{figure}')()
                except Exception as exc:  # one broken figure must not lose the rest
                    log(f'! figure {figure} failed: {exc!r}')
                    self.sections.append(f'### {figure}\n\nfailed: {exc!r}')
        text = self.report(machine, time.monotonic() - t0)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f'run-{self.stamp}.json').write_text(json.dumps(
            {'machine': machine, 'results': self.results}, indent=1))
        (RESULTS / f'run-{self.stamp}.md').write_text(text)
        shutil.copy(RESULTS / f'run-{self.stamp}.md', RESULTS / 'latest.md')
        print(text)
        log(f'results: {RESULTS.relative_to(REPO)}/run-{self.stamp}.{{md,json}}')
        return 0


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob('*.py')):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _ours_version() -> str:
    m = re.search(r"__version__\s*=\s*'([^']+)'",
                  (REPO / 'src' / 'engineio' / '__init__.py').read_text())
    return m.group(1) if m else '?'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: 1 round, 1 s windows, fewer scenarios (~1 min)')
    parser.add_argument('--only', help='comma-separated figures: ' + ','.join(FIGURES))
    parser.add_argument('--rounds', type=int)
    parser.add_argument('--window', type=float, help='measured seconds per run')
    parser.add_argument('--warmup', type=float, help='unmeasured seconds before each window')
    parser.add_argument('--idle-sessions', type=int, help='sessions of figure 4')
    parser.add_argument('--with-patches', metavar='LIST',
                        help='also measure this project with candidate fast paths of '
                             'experiments/fastpath.py applied (e.g. eager,direct,heap), '
                             "as the target 'ours-patched'")
    parser.add_argument('--skip-targets', help='comma-separated target keys to leave out (e.g. node)')
    parser.add_argument('--targets', action='append', metavar='[FIGURE=]LIST',
                        help='comma-separated targets, in this order. LIST alone: the figures ws, '
                        'stacks, polling, memory and sessions (default of stacks, polling, memory, '
                        'sessions: ' + ','.join(STACK_TARGETS) + '); FIGURE=LIST: that figure '
                        'only (' + ', '.join(TARGET_FIGURES) + '); may be repeated. pe = pe4151, '
                        'pe-aiohttp = pe4151-aiohttp. With --only ws each row is also compared '
                        "with its own stack's bare echo and Node engine.io")
    parser.add_argument('--polling-client', choices=['raw', 'http'], default='raw',
                        help="the polling figure's HTTP client: raw TCP keep-alive connections "
                             "(default; a third of the CPU of Node's http) or Node's http "
                             '(as before issue 17: the generator limits the fastest servers)')
    parser.add_argument('--ws-loadgen', choices=['auto', 'node', 'c'], default='auto',
                        help="the WebSocket echo figures' load generator: loadgen/wsecho.c "
                             '(C, one epoll loop, about 0.65x the CPU per message of the Node '
                             'one; built with cc on first use) or Node `ws` (loadgen.js, the '
                             'generator of the runs before 2026-12-06 06:15); auto: C if a C '
                             'compiler is found')
    parser.add_argument('--workers', type=int, metavar='N',
                        help='worker processes of the multiproc figure (default: the number of '
                             '--multiproc-cores)')
    parser.add_argument('--multiproc-cores', metavar='LIST',
                        help="the servers' cores in the multiproc figure (default: all); each "
                             'server process may run on any of them')
    parser.add_argument('--multiproc-spread', action='store_true',
                        help='multiproc: pin worker i to the i-th of --multiproc-cores instead')
    parser.add_argument('--loadgen-procs', type=int, default=1, metavar='N',
                        help='split the connections of each WebSocket echo run over N load '
                             'generator processes (pinned round robin to --loadgen-cores)')
    parser.add_argument('--loadgen-cores', default=str(LOAD_CORE), metavar='LIST',
                        help=f'cores of the load generator processes (default {LOAD_CORE}; '
                             f'the server has core {SERVER_CORE})')
    args = parser.parse_args()
    if sys.platform != 'linux':
        raise SystemExit('the harness reads /proc: Linux only')
    cores = os.sched_getaffinity(0)
    if not {SERVER_CORE, LOAD_CORE} <= cores:
        raise SystemExit(f'needs cores {SERVER_CORE} and {LOAD_CORE}; have {sorted(cores)}')
    load_cores = [int(c) for c in args.loadgen_cores.split(',') if c]
    if not load_cores or not set(load_cores) <= cores or SERVER_CORE in load_cores:
        raise SystemExit(f'--loadgen-cores must be cores of {sorted(cores)} other than '
                         f'the server core {SERVER_CORE}')
    args.load_cores = load_cores
    if args.ws_loadgen == 'auto':
        args.ws_loadgen = 'c' if (shutil.which('cc') or shutil.which('gcc')) else 'node'
    WS_LOADGEN[0] = args.ws_loadgen
    args.all_cores = sorted(cores)
    if args.multiproc_cores:
        args.multiproc_cores_list = [int(c) for c in args.multiproc_cores.split(',') if c]
        if not args.multiproc_cores_list or not set(args.multiproc_cores_list) <= cores:
            raise SystemExit(f'--multiproc-cores must be cores of {sorted(cores)}')
    if args.workers is not None and args.workers < 1:
        raise SystemExit('--workers must be at least 1')
    # The harness itself waits on children: keep it off the server's core.
    os.sched_setaffinity(0, {LOAD_CORE})
    return Harness(args).run()


if __name__ == '__main__':
    sys.exit(main())
