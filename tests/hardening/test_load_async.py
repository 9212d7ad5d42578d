"""The asyncio server under load: 100 clients upgrading while they talk,
and a soak of connect/echo/disconnect cycles with abandoned sessions."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from support import JS_DIR, NODE, node_client, poll_url, start_server

CYCLES = int(os.environ.get('SOAK_CYCLES', '20000'))
ABANDON = int(os.environ.get('SOAK_ABANDON', '2000'))


def stats(base: str) -> dict:
    r = requests.get(poll_url(base), timeout=5)
    sid = json.loads(r.content[1:])['sid']
    requests.post(poll_url(base, sid), data=b'4__stats__', timeout=5)
    body = requests.get(poll_url(base, sid), timeout=5).content.decode()
    requests.post(poll_url(base, sid), data=b'1', timeout=5)
    return json.loads(body[len('4stats:'):])


def soak(base: str, cycles: int, abandon: int) -> dict:
    out = subprocess.run(
        [NODE, str(JS_DIR / 'soak.js'), '--url', base, '--cycles',
         str(cycles), '--abandon', str(abandon), '--timeout-ms', '400000'],
        capture_output=True, text=True, timeout=420)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_upgrade_under_load_asyncio(node_peers):
    proc, port = start_server('asgi_uvicorn.py', {'async_mode': 'asgi'})
    try:
        result = node_client(f'http://127.0.0.1:{port}', 'upgrade-load',
                             'polling,websocket', timeout_ms=40000,
                             extra=['--sockets', '100'])
        assert result['ok'], result
        assert result['completed'] == 100 and result['upgradedCount'] == 100
        assert result['received'] == 100 * 200
    finally:
        proc.stop()


@pytest.mark.slow
def test_soak_asyncio(node_peers):
    proc, port = start_server('asgi_uvicorn.py', {
        'async_mode': 'asgi', 'ping_interval': 1, 'ping_timeout': 1})
    base = f'http://127.0.0.1:{port}'
    try:
        # Warm up to the allocator's plateau for this load.
        assert soak(base, 10000, 300)['ok']
        time.sleep(3)
        before = stats(base)
        result = soak(base, CYCLES, ABANDON)
        assert result['ok'], result
        deadline = time.monotonic() + 30
        after = stats(base)
        while time.monotonic() < deadline and (
                after['sessions'] > 1 or after['tasks'] > before['tasks']):
            time.sleep(1)
            after = stats(base)
        print(f'soak: tasks {before["tasks"]} -> {after["tasks"]}, RSS '
              f'{before["rss"] / 2**20:.1f} -> {after["rss"] / 2**20:.1f} MiB')
        assert after['sessions'] <= 1, after
        assert after['tasks'] <= before['tasks'], (before, after)
        assert after['threads'] <= before['threads'], (before, after)
        growth = (after['rss'] - before['rss']) / 2**20
        assert growth < 6, f'RSS grew {growth:.1f} MiB: {before} -> {after}'
    finally:
        proc.stop()
