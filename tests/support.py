"""Helpers for tests that run real servers and real peers on 127.0.0.1.

Every process started here is stopped by its own PID when the test ends,
and every wait is bounded in time.
"""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / 'tests'
JS_DIR = TESTS / 'js'
SERVERS = TESTS / 'servers'
NODE = os.environ.get('NODE', 'node')


class Proc:
    """A child process whose output lines are collected in the background."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        full_env = dict(os.environ)
        full_env['PYTHONUNBUFFERED'] = '1'
        full_env['PYTHONPATH'] = os.pathsep.join(
            [str(SERVERS), str(ROOT / 'src'), full_env.get('PYTHONPATH', '')])
        if env:
            full_env.update(env)
        self.args = args
        self.proc = subprocess.Popen(
            args, cwd=str(cwd or SERVERS), env=full_env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip('\n')
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        """Wait for an output line matching ``pattern`` (regex)."""
        rx = re.compile(pattern)
        for line in list(self.lines):
            m = rx.search(line)
            if m:
                return m
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            m = rx.search(line)
            if m:
                return m
        raise AssertionError(
            f'{pattern!r} not seen in output of {self.args}:\n'
            + '\n'.join(self.lines[-50:]))

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The JSON event lines the process printed so far."""
        out = []
        for line in list(self.lines):
            if line.startswith('{'):
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if kind is None or item.get('event') == kind:
                    out.append(item)
        return out

    def stop(self) -> None:
        """Stop the process (and its process group) by PID."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        if self.proc.stdin:
            self.proc.stdin.close()


def wait_until(cond: Callable[[], bool], timeout: float,
               interval: float = 0.05) -> bool:
    """Poll ``cond`` until it holds or ``timeout`` seconds passed; its last
    value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(interval)
    return cond()


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1 signed by its own key:
    ``(cert.pem, key.pem)`` in ``directory``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = directory / 'cert.pem', directory / 'key.pem'
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return certfile, keyfile


def start_server(script: str | list[str], options: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None, python: str | None = None,
                 timeout: float = 30.0) -> tuple[Proc, int]:
    """Start a server that prints ``READY <port>``; returns it and the port."""
    args = script if isinstance(script, list) else \
        [python or sys.executable, str(SERVERS / script)]
    full_env = {'EIO_OPTIONS': json.dumps(options or {})}
    full_env.update(env or {})
    proc = Proc(args, env=full_env)
    try:
        port = int(proc.wait_for(r'READY (\d+)', timeout).group(1))
    except BaseException:
        proc.stop()
        raise
    return proc, port


def node_client(url: str, scenario: str, transports: str | None = None,
                timeout_ms: int = 20000, extra: list[str] | None = None
                ) -> dict[str, Any]:
    """Run one scenario of tests/js/client.js and return its JSON result."""
    args = [NODE, str(JS_DIR / 'client.js'), '--url', url,
            '--scenario', scenario, '--timeout-ms', str(timeout_ms)]
    if transports:
        args += ['--transports', transports]
    args += extra or []
    out = subprocess.run(args, capture_output=True, text=True,
                         timeout=timeout_ms / 1000 + 15, cwd=str(JS_DIR))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    assert lines, f'no result from client.js: {out.stdout}\n{out.stderr}'
    result: dict[str, Any] = json.loads(lines[-1])
    result['_stderr'] = out.stderr[-2000:]
    return result


def poll_url(base: str, sid: str | None = None) -> str:
    """The long-polling URL of a server, for a session or a handshake."""
    url = f'{base}/engine.io/?EIO=4&transport=polling'
    return url + (f'&sid={sid}' if sid else '')


def handshake(base: str, **kw: Any) -> tuple[str, Any]:
    """A polling handshake with ``requests``: ``(sid, response)``."""
    import requests
    r = requests.get(poll_url(base), timeout=5, **kw)
    assert r.status_code == 200, r.content
    return json.loads(r.content[1:].split(b'\x1e')[0])['sid'], r


def ws_connect(base: str, sid: str | None = None) -> Any:
    """A raw WebSocket (websocket-client) to the Engine.IO endpoint."""
    import websocket
    url = base.replace('http', 'ws', 1) + \
        '/engine.io/?EIO=4&transport=websocket'
    if sid:
        url += f'&sid={sid}'
    return websocket.create_connection(url, timeout=5)
