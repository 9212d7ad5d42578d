"""Smoke test of every server example: start it on 127.0.0.1, connect the
official engine.io-client (tests/js) over polling with the upgrade to
WebSocket, check the echo, then stop the server by its PID.

CI installs every framework the examples use, so a missing one fails the
test (with the package to install) instead of skipping it.
"""
from __future__ import annotations

import importlib.util
import sys
import urllib.request
from pathlib import Path

import pytest

from support import ROOT, node_client, start_server

EXAMPLES = ROOT / 'examples' / 'server'

# example file -> (modules it needs, pip packages that provide them, a plain
# HTTP path the example's own framework answers, or None)
CASES = {
    'flask_app.py': (['flask'], 'flask', '/'),
    'eventlet_server.py': (['eventlet'], 'eventlet', None),
    'gevent_server.py': (['gevent'], 'gevent', None),
    'asgi_uvicorn.py': (['uvicorn'], 'uvicorn[standard]', None),
    'fastapi_mount.py': (['fastapi', 'uvicorn'], 'fastapi uvicorn[standard]',
                         '/hello'),
    'aiohttp_app.py': (['aiohttp'], 'aiohttp', '/'),
    'tornado_app.py': (['tornado'], 'tornado', '/'),
    'sanic_app.py': (['sanic'], 'sanic', '/'),
    'cluster_uvicorn.py': (['uvicorn', 'redis'], 'uvicorn[standard] redis',
                           None),
}

# Examples that need a Redis server (started for the test, stopped by PID).
NEEDS_REDIS = {'cluster_uvicorn.py'}

# The asyncio frameworks whose engineio adapter the example relies on.
ADAPTERS = {'aiohttp_app.py': 'aiohttp', 'tornado_app.py': 'tornado',
            'sanic_app.py': 'sanic'}


def test_every_example_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob('*.py')) == sorted(CASES)


@pytest.mark.node
@pytest.mark.parametrize('example', sorted(CASES))
def test_example_serves_the_official_client(example: str,
                                            node_peers: Path) -> None:
    modules, packages, http_path = CASES[example]
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    assert not missing, (f'{example} needs {missing}: pip install {packages} '
                         '(CI must install it)')
    mode = ADAPTERS.get(example)
    if mode is not None:
        assert importlib.util.find_spec(f'engineio.adapters.{mode}'), \
            f'{example}: engineio has no adapter for async_mode={mode!r} yet'
    redis = None
    env = {}
    if example in NEEDS_REDIS:
        from cluster.helpers import RedisServer
        redis = RedisServer()
        env['REDIS_URL'] = redis.url
    try:
        proc, port = start_server(
            [sys.executable, str(EXAMPLES / example), '0'], env=env,
            timeout=60)
    except BaseException:
        if redis is not None:
            redis.close()
        raise
    try:
        url = f'http://127.0.0.1:{port}'
        result = node_client(url, 'echo', 'polling,websocket')
        assert result['ok'], (result, '\n'.join(proc.lines[-30:]))
        assert [c['name'] for c in result['checks']] == \
            ['text', 'binary', 'json', 'unicode', 'sid']
        assert result['upgraded'] is True, result
        assert result['transport'] == 'websocket'
        if http_path is not None:
            with urllib.request.urlopen(url + http_path, timeout=10) as resp:
                assert resp.status == 200
        # logger=True: the session's connection and upgrade were printed.
        proc.wait_for(rf'{result["sid"]}: connected \(polling\)', timeout=10)
        proc.wait_for(rf'{result["sid"]}: upgraded to websocket', timeout=10)
    finally:
        proc.stop()
        if redis is not None:
            redis.close()
