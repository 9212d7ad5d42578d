"""Soak: many connect/echo/disconnect cycles and abandoned sessions; after
the run no session, thread or memory is left behind.

CI runs 20,000 cycles and 2,000 abandoned sessions; ``SOAK_CYCLES`` and
``SOAK_ABANDON`` make it longer on demand.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from support import JS_DIR, NODE, start_server

CYCLES = int(os.environ.get('SOAK_CYCLES', '20000'))
ABANDON = int(os.environ.get('SOAK_ABANDON', '2000'))


def stats(base: str) -> dict:
    r = requests.get(base + '/engine.io/?EIO=4&transport=polling', timeout=5)
    sid = json.loads(r.content[1:])['sid']
    q = f'{base}/engine.io/?EIO=4&transport=polling&sid={sid}'
    requests.post(q, data=b'4__stats__', timeout=5)
    body = requests.get(q, timeout=5).content.decode()
    requests.post(q, data=b'1', timeout=5)
    return json.loads(body[len('4stats:'):])


def settled(base: str, threads: int | None, timeout: float = 30) -> dict:
    """Stats once abandoned sessions timed out and idle workers exited."""
    deadline = time.monotonic() + timeout
    current = stats(base)
    while time.monotonic() < deadline and (
            current['sessions'] > 1
            or (threads is not None and current['threads'] > threads)):
        time.sleep(1)
        current = stats(base)
    return current


def soak(base: str, cycles: int, abandon: int) -> dict:
    out = subprocess.run(
        [NODE, str(JS_DIR / 'soak.js'), '--url', base, '--cycles',
         str(cycles), '--abandon', str(abandon), '--timeout-ms', '400000'],
        capture_output=True, text=True, timeout=420)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_soak(node_peers):
    # Werkzeug starts a thread per connection; glibc gives threads their own
    # malloc arenas, whose fragmentation shows up as RSS that is not a leak.
    # Two arenas is the usual setting for such servers (docs/limits.md).
    proc, port = start_server('werkzeug_server.py', {
        'async_mode': 'threading', 'ping_interval': 1, 'ping_timeout': 1},
        env={'MALLOC_ARENA_MAX': '2'})
    base = f'http://127.0.0.1:{port}'
    try:
        # Warm up so that the baseline includes imports, pools, caches and
        # the allocator's high-water mark for this concurrency.
        assert soak(base, 5000, 300)['ok']
        idle = stats(base)['threads']
        before = settled(base, None)
        base_threads = settled(base, 0, timeout=12)['threads']
        result = soak(base, CYCLES, ABANDON)
        assert result['ok'], result
        # Abandoned sessions time out after ping_interval + ping_timeout;
        # idle worker threads exit after their idle timeout (the pool gives
        # jobs to the thread idle the shortest time, so the stats requests
        # of settled() keep one or two alive, not all).
        after = settled(base, base_threads)
        print(f'soak: threads {idle}/{base_threads} -> {after["threads"]}, '
              f'RSS {before["rss"] / 2**20:.1f} -> {after["rss"] / 2**20:.1f} MiB')
        assert after['sessions'] <= 1, after  # the stats session itself
        assert after['threads'] <= base_threads, (before, after)
        growth = (after['rss'] - before['rss']) / 2**20
        assert growth < 6, f'RSS grew {growth:.1f} MiB: {before} -> {after}'
    finally:
        proc.stop()
