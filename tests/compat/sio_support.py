"""Helpers of the compat tests: the Socket.IO test servers
(tests/servers/socketio_*.py), the socket.io-client scenario runner
(tests/compat/js/sio_client.js) and the log checks.

Every process is stopped by its PID (``support.Proc.stop``) and every wait
is bounded.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import NODE, SERVERS, Proc, start_server

COMPAT_JS = Path(__file__).resolve().parent / 'js'
SIO_CLIENT = COMPAT_JS / 'sio_client.js'

#: Lines that show an exception or an error inside a test server: the
#: servers log warnings and errors to stdout with a ``LOG`` prefix and
#: report exceptions escaping a thread as JSON.
ERROR_MARKERS = ('LOG ERROR', 'LOG CRITICAL', 'Traceback', '"thread-exception"')


def require_node_peers() -> None:
    """Fail (with the command to run) when the npm peers are missing."""
    assert shutil.which(NODE), 'node is required for the socket.io-client tests'
    assert (COMPAT_JS / 'node_modules' / 'socket.io-client').is_dir(), \
        'run "npm ci" in tests/compat/js first (scripts/setup.sh does it)'


def start_sio_server(script: str, port: int = 0,
                     options: dict[str, Any] | None = None,
                     admin: bool = False) -> tuple[Proc, int]:
    """Start one of the tests/servers/socketio_*.py servers."""
    env = {'SIO_OPTIONS': json.dumps(options or {}),
           'SIO_ADMIN': '1' if admin else '0'}
    # A port is given to restart a server where the clients expect it.
    args = [sys.executable, str(SERVERS / script)] + ([str(port)] if port else [])
    return start_server(args, env=env)


def sio_client(url: str, scenario: str, transports: str = 'polling,websocket',
               timeout_ms: int = 20000) -> dict[str, Any]:
    """Run one scenario of sio_client.js to completion; its JSON result."""
    args = [NODE, str(SIO_CLIENT), '--url', url, '--scenario', scenario,
            '--transports', transports, '--timeout-ms', str(timeout_ms)]
    out = subprocess.run(args, capture_output=True, text=True,
                         timeout=timeout_ms / 1000 + 15, cwd=str(COMPAT_JS))
    lines = [ln for ln in out.stdout.splitlines()
             if ln.startswith('{') and '"progress"' not in ln]
    assert lines, f'no result from sio_client.js: {out.stdout}\n{out.stderr}'
    result: dict[str, Any] = json.loads(lines[-1])
    result['_stderr'] = out.stderr[-2000:]
    return result


def sio_client_proc(url: str, scenario: str,
                    transports: str = 'polling,websocket',
                    timeout_ms: int = 30000) -> Proc:
    """Start a scenario in the background (for ``reconnect``)."""
    return Proc([NODE, str(SIO_CLIENT), '--url', url, '--scenario', scenario,
                 '--transports', transports, '--timeout-ms', str(timeout_ms)],
                cwd=COMPAT_JS)


#: Errors of known, reported bugs, ignored by :func:`assert_no_errors` so the
#: other checks keep running; each has its own xfail test that shows it.
#: Remove an entry once its fix lands.
KNOWN_ISSUES: tuple[str, ...] = ()


def error_lines(proc: Proc, known: bool = False) -> list[str]:
    """Error lines of a server; known issues included only if asked."""
    return [ln for ln in list(proc.lines)
            if any(marker in ln for marker in ERROR_MARKERS)
            and (known or not any(issue in ln for issue in KNOWN_ISSUES))]


def assert_no_errors(proc: Proc) -> None:
    """No exception and no error was logged by the server so far."""
    bad = error_lines(proc)
    assert not bad, 'server logged errors:\n' + '\n'.join(
        list(proc.lines)[-60:])


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0,
               what: str = 'condition') -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.02)


def server_event(proc: Proc, event: str, sid: str, ns: str = '/',
                 timeout: float = 10.0) -> dict[str, Any]:
    """The JSON line a server printed for ``event`` of ``sid``."""
    def find() -> dict[str, Any] | None:
        for item in proc.events(event):
            if item.get('sid') == sid and item.get('ns') == ns:
                return item
        return None
    return wait_until(find, timeout, f'{event} of {sid} on {ns}')  # type: ignore[no-any-return]
