"""Processes for the cluster tests: Redis, HAProxy, several server workers
and the Node load client (js/load.js).

Everything listens on 127.0.0.1 only.  Every process is started through
support.Proc (its own session and process group) and stopped by its own PID;
every wait is bounded in count and time.  The conftest.py fixtures wrap
these so that a test cannot leave a process behind.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support import JS_DIR, NODE, ROOT, SERVERS, Proc

CLUSTER_DIR = Path(__file__).resolve().parent
#: The multi-worker apps (import strings for uvicorn/gunicorn).
CLUSTER_SERVERS = CLUSTER_DIR / 'servers'
LOAD_JS = CLUSTER_DIR / 'js' / 'load.js'
#: gunicorn < 26 for the eventlet worker (see tests/deploy/deploy_common.py).
GUNICORN_EVENTLET_PATH = 'EIO_GUNICORN_EVENTLET_PATH'
DEFAULT_GUNICORN_EVENTLET_DIR = ROOT / '.venv' / 'gunicorn-eventlet'
HANDSHAKE_PATH = '/engine.io/?EIO=4&transport=polling'


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (for servers that
    cannot report the port they bound)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def _pythonpath(extra: Sequence[str] = ()) -> str:
    return os.pathsep.join([*extra, str(CLUSTER_SERVERS), str(SERVERS),
                            str(ROOT / 'src'), os.environ.get('PYTHONPATH', '')])


def _wait_port(port: int, proc: Proc, timeout: float, what: str) -> None:
    """Wait until 127.0.0.1:port accepts a TCP connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            break
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f'{what} never listened on 127.0.0.1:{port} '
                         f'(exit code {proc.proc.poll()}):\n'
                         + '\n'.join(proc.lines[-40:]))


# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------

class RedisError(Exception):
    """An error reply (``-ERR ...``) from Redis."""


def _resp_encode(args: Sequence[str | bytes | int]) -> bytes:
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(b), b))
    return b''.join(out)


def _resp_read(f: Any) -> Any:
    line = f.readline()
    if not line.endswith(b'\r\n'):
        raise ConnectionError(f'short reply from Redis: {line!r}')
    kind, rest = line[:1], line[1:-2]
    if kind == b'+':
        return rest.decode()
    if kind == b'-':
        raise RedisError(rest.decode())
    if kind == b':':
        return int(rest)
    if kind == b'$':
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b'*':
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise ConnectionError(f'unexpected reply from Redis: {line!r}')


class RedisServer:
    """A real ``redis-server`` on 127.0.0.1 (no persistence), in the
    foreground, stopped by its PID.

    ``url`` (``redis://127.0.0.1:PORT/0``), ``port`` and ``pid`` (of the
    current process; changes with ``restart()``).  ``command(...)`` sends
    one command over a fresh raw connection and returns the decoded reply.
    """

    def __init__(self, port: int | None = None, timeout: float = 10.0) -> None:
        binary = shutil.which('redis-server')
        if binary is None:
            raise AssertionError(
                'redis-server is not installed: the cluster tests need a real '
                'Redis (scripts/setup.sh installs the Debian package '
                'redis-server; apt-get install redis-server)')
        self.binary = binary
        self.port = port or free_port()
        self.url = f'redis://127.0.0.1:{self.port}/0'
        self._dir = tempfile.TemporaryDirectory(prefix='eio-redis-')
        self.proc: Proc | None = None
        self.start(timeout)

    @property
    def pid(self) -> int | None:
        return self.proc.proc.pid if self.proc else None

    def start(self, timeout: float = 10.0) -> None:
        """Start redis-server on ``self.port`` and wait until it answers
        PING (at most ``timeout`` seconds)."""
        assert self.proc is None or self.proc.proc.poll() is not None, \
            'redis-server is already running'
        self.proc = Proc([self.binary, '--port', str(self.port),
                          '--bind', '127.0.0.1', '--save', '',
                          '--appendonly', 'no', '--daemonize', 'no',
                          '--dir', self._dir.name, '--loglevel', 'warning'],
                         cwd=Path(self._dir.name))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.proc.poll() is not None:
                break
            if self.ping(timeout=0.5):
                return
            time.sleep(0.05)
        out = '\n'.join(self.proc.lines[-30:])
        self.proc.stop()
        raise AssertionError(f'redis-server on port {self.port} did not answer '
                             f'PING within {timeout} s:\n{out}')

    def command(self, *args: str | bytes | int, timeout: float = 5.0) -> Any:
        """One command on a new connection: ``command('PUBSUB', 'CHANNELS')``.
        Bulk strings come back as bytes, simple strings as str."""
        with socket.create_connection(('127.0.0.1', self.port),
                                      timeout=timeout) as s:
            s.sendall(_resp_encode(args))
            with s.makefile('rb') as f:
                return _resp_read(f)

    def ping(self, timeout: float = 1.0) -> bool:
        """True when the server answers PING now."""
        try:
            return bool(self.command('PING', timeout=timeout) == 'PONG')
        except (OSError, ConnectionError, RedisError):
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.proc.poll() is None

    def stop(self, hard: bool = False) -> None:
        """Stop the server by its PID: SIGTERM (SIGKILL with ``hard``).
        Redis forgets everything (no persistence)."""
        if self.proc is None:
            return
        if hard and self.proc.proc.poll() is None:
            try:
                os.kill(self.proc.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.stop()

    def restart(self, down_for: float = 0.0, hard: bool = False,
                timeout: float = 10.0) -> None:
        """Stop, stay down ``down_for`` seconds, start again on the same
        port (a new PID, an empty data set)."""
        self.stop(hard=hard)
        if down_for > 0:
            time.sleep(down_for)
        self.start(timeout)

    def close(self) -> None:
        """Stop for good and remove the data directory."""
        self.stop()
        self._dir.cleanup()


# ---------------------------------------------------------------------------
# Server workers, one port each
# ---------------------------------------------------------------------------

def _script_path(name: str) -> Path:
    p = Path(name)
    if p.is_absolute():
        return p
    for base in (CLUSTER_SERVERS, SERVERS):
        if (base / name).exists():
            return base / name
    raise AssertionError(f'no server script {name} in {CLUSTER_SERVERS} '
                         f'or {SERVERS}')


def start_workers(script: str | Sequence[str], n: int,
                  options: dict[str, Any] | None = None,
                  env: dict[str, str] | None = None,
                  timeout: float = 30.0) -> list[tuple[Proc, int]]:
    """Start ``n`` processes of a server script that prints
    ``READY <port>`` (tests/servers/*.py or tests/cluster/servers/*.py;
    ``script`` may be ``[name, *args]``), each with ``EIO_OPTIONS`` =
    JSON of ``options``.  All start at once; returns ``[(Proc, port)]`` in
    start order once every one is ready.  The caller stops them
    (``proc.stop()``); on a failure here they are all stopped already."""
    assert 1 <= n <= 64, n
    name, *args = [script] if isinstance(script, str) else list(script)
    cmd = [sys.executable, str(_script_path(name)), *args]
    full_env = {'EIO_OPTIONS': json.dumps(options or {}),
                'PYTHONPATH': _pythonpath()}
    full_env.update(env or {})
    procs: list[Proc] = []
    try:
        for _ in range(n):
            procs.append(Proc(cmd, env=full_env))
        out = []
        deadline = time.monotonic() + timeout
        for p in procs:
            left = max(0.1, deadline - time.monotonic())
            out.append((p, int(p.wait_for(r'READY (\d+)', left).group(1))))
        return out
    except BaseException:
        for p in procs:
            p.stop()
        raise


# ---------------------------------------------------------------------------
# HAProxy
# ---------------------------------------------------------------------------

class HAProxy:
    """``haproxy -db`` on 127.0.0.1 balancing HTTP requests round-robin over
    backends on 127.0.0.1.

    With ``server_close`` (the default, ``option http-server-close``) the
    connection to a backend is closed after each response, so every request
    of a client's keep-alive connection is balanced on its own: consecutive
    requests go to different backends.  Each response carries
    ``X-Backend: w<i>`` (``i``: the index in ``backend_ports``).  Each
    request is logged on haproxy's stdout as
    ``ROUTE <server> <status> <method> <uri>`` (see ``routes()``); a
    WebSocket is logged when its tunnel ends.
    """

    def __init__(self, backend_ports: Sequence[int], *,
                 balance: str = 'roundrobin', server_close: bool = True,
                 check: bool = False, check_inter_ms: int = 200,
                 timeout_s: int = 60, tunnel_timeout: str = '1h',
                 extra_backend: Sequence[str] = (),
                 start_timeout: float = 10.0) -> None:
        binary = shutil.which('haproxy')
        if binary is None:
            raise AssertionError(
                'haproxy is not installed: the cluster tests need it '
                '(scripts/setup.sh installs the Debian package haproxy)')
        assert backend_ports, 'no backends'
        self.backend_ports = list(backend_ports)
        self.server_names = [f'w{i}' for i in range(len(self.backend_ports))]
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self._dir = tempfile.TemporaryDirectory(prefix='eio-haproxy-')
        self.cfg_path = Path(self._dir.name) / 'haproxy.cfg'
        chk = f' check inter {check_inter_ms}ms fall 1 rise 1' if check else ''
        servers = [f'    server {name} 127.0.0.1:{port}{chk}'
                   for name, port in zip(self.server_names, self.backend_ports,
                                         strict=True)]
        lines = [
            'global',
            '    log stdout format raw local0 info',
            '    maxconn 4096',
            '',
            'defaults',
            '    mode http',
            '    log global',
            '    log-format "ROUTE %s %ST %HM %HU"',
            # Not the readiness probe's bare TCP connections.
            '    option dontlognull',
            '    timeout connect 5s',
            f'    timeout client {timeout_s}s',
            f'    timeout server {timeout_s}s',
            f'    timeout tunnel {tunnel_timeout}',
            '    timeout http-request 10s',
            f'    timeout http-keep-alive {timeout_s}s',
            # A backend that refuses the connection (a stopped worker): try
            # again on another one.
            '    retries 2',
            '    option redispatch 1',
            *(['    option http-server-close'] if server_close else []),
            '',
            'frontend fe',
            f'    bind 127.0.0.1:{self.port}',
            '    default_backend be',
            '',
            'backend be',
            f'    balance {balance}',
            '    http-response set-header X-Backend %s',
            *[f'    {line}' for line in extra_backend],
            *servers,
            '',
        ]
        self.config = '\n'.join(lines)
        self.cfg_path.write_text(self.config)
        self.proc = Proc([binary, '-f', str(self.cfg_path), '-db'],
                         cwd=Path(self._dir.name))
        try:
            _wait_port(self.port, self.proc, start_timeout, 'haproxy')
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.proc.pid

    def routes(self) -> list[dict[str, Any]]:
        """The requests logged so far: ``{'server', 'status', 'method',
        'uri'}`` each, in the order they ended."""
        out = []
        for line in list(self.proc.lines):
            parts = line.split(' ', 4)
            if len(parts) == 5 and parts[0] == 'ROUTE':
                out.append({'server': parts[1], 'status': parts[2],
                            'method': parts[3], 'uri': parts[4]})
        return out

    def stop(self) -> None:
        self.proc.stop()
        self._dir.cleanup()


# ---------------------------------------------------------------------------
# Several workers on one port: uvicorn --workers, gunicorn -w
# ---------------------------------------------------------------------------

def handshake_ok(port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """One polling handshake on 127.0.0.1:port: ``{'sid', 'headers',
    'open'}`` (the open packet's JSON) when it answers 200, else None.
    The session is closed again (best effort)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request('GET', HANDSHAKE_PATH)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or not body.startswith(b'0'):
            return None
        data = json.loads(body[1:].split(b'\x1e')[0])
        headers = {k.lower(): v for k, v in resp.getheaders()}
        # Close the session (with several workers this may reach another
        # one, which then answers 400 without the cluster option).
        conn.request('POST', f'{HANDSHAKE_PATH}&sid={data["sid"]}', body=b'1',
                     headers={'Content-Type': 'text/plain;charset=UTF-8'})
        conn.getresponse().read()
        return {'sid': data['sid'], 'headers': headers, 'open': data}
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()


class MultiWorker:
    """One server command whose ``n`` worker processes share one port.

    ``proc`` is the parent (uvicorn supervisor / gunicorn arbiter); its
    process group holds the workers, so ``stop()`` ends them all.  Every
    worker prints ``WORKER <pid>`` when it has loaded the app;
    ``worker_pids()`` lists those seen so far (a restarted worker adds one).
    HTTP responses (not WebSocket ones) carry ``X-Worker-Pid``.
    """

    def __init__(self, kind: str, cmd: list[str], port: int, n: int,
                 options: dict[str, Any], env: dict[str, str] | None,
                 timeout: float) -> None:
        self.kind = kind
        self.port = port
        self.n = n
        self.url = f'http://127.0.0.1:{port}'
        self.options = options
        full_env = {'EIO_OPTIONS': json.dumps(options),
                    'PYTHONPATH': _pythonpath()}
        full_env.update(env or {})
        self.proc = Proc(cmd, env=full_env, cwd=CLUSTER_SERVERS)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.proc.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.proc.pid

    def worker_pids(self) -> list[int]:
        seen: list[int] = []
        for line in list(self.proc.lines):
            # Searched, not matched: another process's output may share
            # the line.
            for m in re.finditer(r'WORKER (\d+)', line):
                pid = int(m.group(1))
                if pid not in seen:
                    seen.append(pid)
        return seen

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.proc.poll() is not None:
                break
            if len(self.worker_pids()) >= self.n \
                    and handshake_ok(self.port) is not None:
                return
            time.sleep(0.1)
        raise AssertionError(
            f'{self.kind}: {self.n} workers did not serve a handshake on '
            f'port {self.port} within {timeout} s (workers seen: '
            f'{self.worker_pids()}, exit code {self.proc.proc.poll()}):\n'
            + '\n'.join(self.proc.lines[-40:]))

    def stop(self) -> None:
        self.proc.stop()


def start_uvicorn_workers(n: int = 3, options: dict[str, Any] | None = None,
                          env: dict[str, str] | None = None,
                          timeout: float = 40.0) -> MultiWorker:
    """``uvicorn --workers n`` on one 127.0.0.1 port serving the echo app
    (servers/cluster_asgi.py, ``engineio.AsyncServer(async_mode='asgi',
    **options)``)."""
    port = free_port()
    cmd = [sys.executable, '-m', 'uvicorn', 'cluster_asgi:app',
           '--workers', str(n), '--host', '127.0.0.1', '--port', str(port),
           '--app-dir', str(CLUSTER_SERVERS), '--log-level', 'warning',
           '--timeout-graceful-shutdown', '1']
    return MultiWorker('uvicorn', cmd, port, n, dict(options or {}), env,
                       timeout)


#: gunicorn worker classes: (-k value, extra arguments, engineio async_mode).
GUNICORN_WORKERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    'sync': ('sync', (), 'threading'),
    'gthread': ('gthread', ('--threads', '16'), 'threading'),
    'gevent': ('gevent', (), 'gevent'),
    'geventwebsocket': (
        'geventwebsocket.gunicorn.workers.GeventWebSocketWorker', (),
        'gevent'),
    'eventlet': ('eventlet', (), 'eventlet'),
    # aiohttp's own gunicorn worker: the asyncio server, not WSGI.
    'aiohttp': ('aiohttp.GunicornUVLoopWebWorker', (), 'aiohttp'),
}


def _gunicorn_eventlet_dir() -> str:
    """'' when the installed gunicorn has the eventlet worker, else the
    directory of a gunicorn 25 that has it."""
    import importlib.util
    try:
        if importlib.util.find_spec('gunicorn.workers.geventlet'):
            return ''
    except ImportError:
        pass
    extra = os.environ.get(GUNICORN_EVENTLET_PATH) \
        or str(DEFAULT_GUNICORN_EVENTLET_DIR)
    if not (Path(extra) / 'gunicorn' / 'workers' / 'geventlet.py').exists():
        raise AssertionError(
            'the installed gunicorn has no eventlet worker and there is no '
            f'gunicorn 25 in {extra} (scripts/setup.sh installs it)')
    return extra


def start_gunicorn_workers(n: int = 3, options: dict[str, Any] | None = None,
                           worker: str = 'gevent',
                           env: dict[str, str] | None = None,
                           timeout: float = 40.0) -> MultiWorker:
    """``gunicorn -k <worker> -w n`` on one 127.0.0.1 port serving the echo
    app (servers/cluster_wsgi.py, ``engineio.Server(**options)``); the
    worker's ``async_mode`` is set unless ``options`` has one.  ``worker``:
    a key of GUNICORN_WORKERS (the sync worker serves one request at a
    time per process: a long-poll holds a whole worker)."""
    k, extra_args, async_mode = GUNICORN_WORKERS[worker]
    opts = {'async_mode': async_mode, **(options or {})}
    port = free_port()
    extra_path = _gunicorn_eventlet_dir() if worker == 'eventlet' else ''
    cmd = [sys.executable, '-m', 'gunicorn', '-k', k, *extra_args,
           '-w', str(n), '-b', f'127.0.0.1:{port}',
           # Open long-polls and WebSockets would hold a SIGTERM'd worker
           # for the default 30 s.
           '--graceful-timeout', '1', '--log-level', 'warning']
    if extra_path:
        has_ctl = (Path(extra_path) / 'gunicorn' / 'ctl').is_dir()
    else:
        has_ctl = _has_module('gunicorn.ctl')
    if has_ctl:
        # gunicorn >= 25 opens ~/.gunicorn/gunicorn.ctl by default; several
        # servers would all claim that one path.
        cmd.append('--no-control-socket')
    cmd.append('cluster_aiohttp:app' if worker == 'aiohttp'
               else 'cluster_wsgi:app')
    full_env = dict(env or {})
    if extra_path:
        full_env.setdefault('PYTHONPATH', _pythonpath([extra_path]))
    return MultiWorker(f'gunicorn-{worker}', cmd, port, n, opts, full_env,
                       timeout)


def _has_module(name: str) -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# ---------------------------------------------------------------------------
# The Node load client
# ---------------------------------------------------------------------------

def run_load(url: str, clients: int = 10, messages: int = 20,
             transports: str | None = None, gap_ms: int = 0,
             hold_ms: int = 0, ping_check: bool = False,
             upgrade: bool | None = None, timeout_ms: int = 30000,
             path: str | None = None) -> dict[str, Any]:
    """Run tests/cluster/js/load.js and return its JSON result (see the
    script's header for the fields), plus ``_stderr``.

    ``transports``: 'polling', 'websocket' or 'polling,websocket' (default:
    the latter, upgrading).  The script itself ends at ``timeout_ms``; this
    waits 15 s more at most."""
    args = [NODE, str(LOAD_JS), '--url', url, '--clients', str(clients),
            '--messages', str(messages), '--gap-ms', str(gap_ms),
            '--hold-ms', str(hold_ms), '--timeout-ms', str(timeout_ms)]
    if transports:
        args += ['--transports', transports]
    if ping_check:
        args.append('--ping-check')
    if upgrade is not None:
        args += ['--upgrade', 'true' if upgrade else 'false']
    if path:
        args += ['--path', path]
    out = subprocess.run(args, capture_output=True, text=True,
                         timeout=timeout_ms / 1000 + 15, cwd=str(JS_DIR))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    assert out.returncode == 0 and lines, \
        f'load.js failed (exit {out.returncode}): {out.stdout}\n{out.stderr}'
    result: dict[str, Any] = json.loads(lines[-1])
    result['_stderr'] = out.stderr[-2000:]
    return result


class Summary(dict):  # type: ignore[type-arg]
    """A dict whose repr is its whole JSON text: pytest shortens the repr
    of a plain dict in an assertion message, and the details are the
    point."""

    def __repr__(self) -> str:
        return json.dumps(self, default=str)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The totals of a run_load() result (no per-client data), for
    assertion messages; failing clients are listed (at most 5)."""
    out = Summary({k: v for k, v in result.items() if k not in ('per_client',)})
    out['failed_clients'] = [c for c in result.get('per_client', [])
                             if not c.get('ok')][:5]
    return out


# ---------------------------------------------------------------------------
# Workers behind HAProxy, as one object
# ---------------------------------------------------------------------------

class Balanced:
    """Server workers (one port each) behind one HAProxy: ``url`` (the
    proxy's), ``proxy``, ``workers`` (``[(Proc, port)]``), ``redis_url``
    (None without the cluster option), ``options`` (what every worker got).
    """

    def __init__(self, proxy: HAProxy, workers: list[tuple[Proc, int]],
                 redis_url: str | None, options: dict[str, Any]) -> None:
        self.proxy = proxy
        self.workers = workers
        self.redis_url = redis_url
        self.options = options
        self.url = proxy.url

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The JSON event lines of every worker (echo_app's ``connect`` and
        ``disconnect``), each with ``worker`` (its index) added."""
        out = []
        for i, (proc, _) in enumerate(self.workers):
            for e in proc.events(kind):
                out.append({**e, 'worker': i})
        return out

    def stop(self) -> None:
        self.proxy.stop()
        for proc, _ in self.workers:
            proc.stop()
