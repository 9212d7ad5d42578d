"""The deployments of the manual, as commands the tests can start.

Each one runs the echo app (tests/servers/echo_app.py) in a real server
process on 127.0.0.1, with the exact server invocation the manual and
docs/deployment.md give, plus only what a test run needs (a chosen port,
quiet logs, a fast stop).
"""
from __future__ import annotations

import importlib.util
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import ROOT, SERVERS, Proc, start_server

#: The environment variable naming a directory that holds gunicorn < 26
#: (25.3.0 is the last release with an eventlet worker), made with
#: ``pip install --no-deps --target DIR 'gunicorn==25.3.0'``.  The
#: ``gunicorn -k eventlet`` deployment runs that gunicorn when the installed
#: one has no eventlet worker; DEFAULT_GUNICORN_EVENTLET_DIR is tried when
#: the variable is not set.
GUNICORN_EVENTLET_PATH = 'EIO_GUNICORN_EVENTLET_PATH'
DEFAULT_GUNICORN_EVENTLET_DIR = ROOT / '.venv' / 'gunicorn-eventlet'


@dataclass(frozen=True)
class Deployment:
    """One way of serving the app: how to start it and what it needs."""

    name: str
    async_mode: str
    #: ``script`` (prints READY itself), ``gunicorn`` or ``uwsgi``.
    kind: str
    #: The script's arguments, or the gunicorn worker arguments.
    args: tuple[str, ...] = ()
    #: Modules that must be importable for this deployment.
    requires: tuple[str, ...] = field(default_factory=tuple)

    @property
    def worker(self) -> str | None:
        """The gunicorn worker class (``-k``), for gunicorn deployments."""
        if self.kind != 'gunicorn':
            return None
        return self.args[self.args.index('-k') + 1]


DEPLOYMENTS = [
    Deployment('eventlet', 'eventlet', 'script', ('deploy_eventlet.py',),
               ('eventlet',)),
    Deployment('gevent', 'gevent', 'script', ('deploy_gevent.py',),
               ('gevent',)),
    Deployment('gevent-websocket', 'gevent', 'script',
               ('deploy_gevent.py', '--websocket-handler'),
               ('gevent', 'geventwebsocket')),
    Deployment('uwsgi-gevent', 'gevent_uwsgi', 'uwsgi', (), ('gevent',)),
    Deployment('gunicorn-eventlet', 'eventlet', 'gunicorn',
               ('-k', 'eventlet', '-w', '1'), ('eventlet',)),
    Deployment('gunicorn-gevent', 'gevent', 'gunicorn',
               ('-k', 'gevent', '-w', '1'), ('gevent', 'gunicorn')),
    Deployment('gunicorn-geventwebsocket', 'gevent', 'gunicorn',
               ('-k', 'geventwebsocket.gunicorn.workers.GeventWebSocketWorker',
                '-w', '1'), ('gevent', 'geventwebsocket', 'gunicorn')),
    Deployment('gunicorn-gthread', 'threading', 'gunicorn',
               ('-k', 'gthread', '--threads', '16', '-w', '1'),
               ('gunicorn',)),
]


def _has_module(name: str) -> bool:
    # find_spec does not import: the test process stays free of eventlet's
    # and gevent's import-time side effects.
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def uwsgi_binary() -> str | None:
    """The uwsgi executable installed next to this Python, if any."""
    beside = Path(sys.executable).with_name('uwsgi')
    if beside.exists():
        return str(beside)
    return None


def gunicorn_path(dep: Deployment) -> str | None:
    """An extra PYTHONPATH entry providing the gunicorn to run ('' for the
    installed one), or None when no usable gunicorn exists."""
    if dep.worker != 'eventlet':
        return ''
    if _has_module('gunicorn.workers.geventlet'):
        return ''
    extra = os.environ.get(GUNICORN_EVENTLET_PATH) \
        or str(DEFAULT_GUNICORN_EVENTLET_DIR)
    if (Path(extra) / 'gunicorn' / 'workers' / 'geventlet.py').exists():
        return extra
    return None


def unavailable(dep: Deployment) -> str | None:
    """Why ``dep`` cannot run here, or None when it can."""
    missing = [m for m in dep.requires if not _has_module(m)]
    if missing:
        return f'{dep.name}: not installed: {", ".join(missing)}'
    if dep.kind == 'uwsgi' and uwsgi_binary() is None:
        return f'{dep.name}: uwsgi is not installed (pip install uwsgi)'
    if dep.kind == 'gunicorn' and gunicorn_path(dep) is None:
        return (f'{dep.name}: the installed gunicorn has no eventlet worker '
                '(removed in gunicorn 26); set '
                f'{GUNICORN_EVENTLET_PATH} to a directory holding '
                'gunicorn 25.3.0')
    return None


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (for servers that
    cannot report the port they bound)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def wait_http(port: int, proc: Proc, timeout: float = 20.0) -> None:
    """Poll until the server answers HTTP (any status) on ``port``."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            break
        try:
            opener.open(f'http://127.0.0.1:{port}/', timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # 404 from WSGIApp: the app is serving
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f'server on port {port} never answered:\n'
                         + '\n'.join(proc.lines[-40:]))


def command(dep: Deployment, port: int) -> list[str]:
    """The server command line for ``dep`` listening on 127.0.0.1:port."""
    if dep.kind == 'uwsgi':
        return [uwsgi_binary() or 'uwsgi',
                # The manual's command, bound to 127.0.0.1:
                '--http', f'127.0.0.1:{port}', '--gevent', '1000',
                '--http-websockets', '--master',
                '--wsgi-file', str(SERVERS / 'deploy_app.py'),
                '--callable', 'app',
                # uWSGI 2.0 takes SIGTERM (how tests stop servers) as
                # "reload"; this makes it exit.
                '--die-on-term', '--disable-logging']
    args = [sys.executable, '-m', 'gunicorn', *dep.args,
            '-b', f'127.0.0.1:{port}',
            # Open long-polls and WebSockets would hold a SIGTERM'd worker
            # for the default 30 s.
            '--graceful-timeout', '1']
    extra = gunicorn_path(dep) or ''
    if _gunicorn_has_control_socket(extra):
        # gunicorn >= 25 opens ~/.gunicorn/gunicorn.ctl by default; several
        # test servers would all claim that one path.
        args.append('--no-control-socket')
    return [*args, 'deploy_app:app']


def _gunicorn_has_control_socket(extra: str) -> bool:
    if extra:
        return (Path(extra) / 'gunicorn' / 'ctl').is_dir()
    return _has_module('gunicorn.ctl')


def start(dep: Deployment, options: dict[str, Any]) -> tuple[Proc, int]:
    """Start ``dep`` serving the echo app with ``options``; returns the
    process and its port once it answers HTTP."""
    options = {'async_mode': dep.async_mode, **options}
    if dep.kind == 'script':
        return start_server([sys.executable,
                             str(SERVERS / dep.args[0]), *dep.args[1:]],
                            options)
    port = free_port()
    env = {'EIO_DEPLOY_PORT': str(port)}
    extra = gunicorn_path(dep) if dep.kind == 'gunicorn' else ''
    if extra:
        # Proc's own PYTHONPATH is replaced by this one, so repeat it.
        env['PYTHONPATH'] = os.pathsep.join(
            [extra, str(SERVERS), str(ROOT / 'src'),
             os.environ.get('PYTHONPATH', '')])
    proc, _ = start_server(command(dep, port), options, env=env)
    try:
        wait_http(port, proc)
    except BaseException:
        proc.stop()
        raise
    return proc, port
