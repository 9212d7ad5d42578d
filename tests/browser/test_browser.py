"""Real browser tests: Debian's headless Chromium, driven by playwright-core
(tests/browser/drive.js), against servers started here on 127.0.0.1.

1. The demo page (``python -m engineio.demo``) with its own eio.js client:
   connect, upgrade to WebSocket, latency echoes, binary echo, two pages
   seeing each other's chat messages, then each transport alone.
2. The official engine.io-client browser bundle (from npm, in
   tests/browser/node_modules) against the same server over polling only,
   WebSocket only and the upgrade, with text and binary messages.

Screenshots go to build/browser/. Nothing here is skipped: without Chromium
or the npm packages the tests fail and say how to install them
(scripts/setup-browser.sh).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import NODE, ROOT, Proc, start_server

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
SCREENSHOTS = ROOT / 'build' / 'browser'
SETUP_HINT = 'run scripts/setup-browser.sh (it installs Debian\'s chromium ' \
    'and runs "npm ci" in tests/browser)'


@pytest.fixture(scope='module')
def browser() -> str:
    """Check that everything the browser tests need is installed."""
    assert shutil.which(NODE), f'node is required for the browser tests; {SETUP_HINT}'
    assert os.access(CHROMIUM, os.X_OK), \
        f'Chromium not found at {CHROMIUM}; {SETUP_HINT}'
    for package in ('playwright-core', 'engine.io-client'):
        assert (HERE / 'node_modules' / package).is_dir(), \
            f'npm package {package} missing in tests/browser; {SETUP_HINT}'
    out = subprocess.run([CHROMIUM, '--version'], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, \
        f'{CHROMIUM} --version failed: {out.stdout}{out.stderr}'
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return out.stdout.strip()


def drive(scenario: str, url: str, timeout: float = 90) -> dict[str, Any]:
    """Run drive.js and return its JSON result."""
    args = [NODE, str(HERE / 'drive.js'), '--scenario', scenario, '--url', url,
            '--screenshots', str(SCREENSHOTS),
            '--timeout-ms', str(int((timeout - 10) * 1000))]
    env = dict(os.environ, CHROMIUM=CHROMIUM)
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                         cwd=str(HERE), env=env)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    assert lines, (f'drive.js printed no result (exit {out.returncode}):\n'
                   f'{out.stdout[-3000:]}\n{out.stderr[-3000:]}')
    result: dict[str, Any] = json.loads(lines[-1])
    result['_stderr'] = out.stderr[-3000:]
    return result


def show(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=1)[-6000:]


@pytest.mark.node
@pytest.mark.parametrize('server', [None, 'uvicorn'])
def test_demo_page(browser: str, server: str | None) -> None:
    # None: the default (aiohttp, as installed by run-demo.sh).
    argv = ['--server', server] if server else []
    proc = Proc([sys.executable, '-m', 'engineio.demo', '--port', '0', *argv])
    try:
        port = proc.wait_for(
            rf'running at http://127\.0\.0\.1:(\d+)/ on {server or "aiohttp"}'
        ).group(1)
        result = drive('demo', f'http://127.0.0.1:{port}/')
        assert result['ok'], show(result)
        assert result['consoleErrors'] == []

        a, b = result['pageA'], result['pageB']
        for page in (a, b):
            assert page['state'] == 'open'
            assert page['upgraded'] is True
            assert page['transport'] == 'websocket'
            assert page['online'] >= 2
        # Latency was measured on both transports, across the upgrade.
        assert a['echoes'] >= 10
        assert a['transportsOfSamples'] == ['polling', 'websocket']
        assert all(0 <= ms < 5000 for ms in a['latencyMs'])
        assert a['binaryEchoes'] == 1
        # Each page saw its own and the other page's chat message.
        assert sorted(a['chat']) == sorted(b['chat'])
        assert len(a['chat']) == 2

        polling, websocket = result['single']['polling'], \
            result['single']['websocket']
        assert polling['transport'] == 'polling' and not polling['upgraded']
        assert websocket['transport'] == 'websocket'
        assert websocket['upgraded'] is False
        for page in (polling, websocket):
            assert page['echoes'] >= 3 and page['binaryEchoes'] == 1

        shot = Path(result['screenshot'])
        assert shot.is_file() and shot.stat().st_size > 10_000

        # The server printed one line per connect, upgrade and disconnect.
        proc.wait_for(rf'{a["sid"]}: connected \(polling\)')
        proc.wait_for(rf'{a["sid"]}: upgraded to websocket')
        proc.wait_for(rf'{websocket["sid"]}: connected \(websocket\)')
        proc.wait_for(rf'{a["sid"]}: disconnected \(')
    finally:
        proc.stop()


@pytest.mark.node
def test_official_client_bundle(browser: str) -> None:
    proc, port = start_server([sys.executable, str(HERE / 'serve_official.py')])
    try:
        result = drive('official', f'http://127.0.0.1:{port}/official.html')
        assert result['ok'], show(result)
        cases = result['cases']
        assert cases['polling']['transport'] == 'polling'
        assert cases['polling']['checks'] == ['text', 'binary', 'sid']
        assert cases['websocket']['transport'] == 'websocket'
        assert cases['websocket']['checks'] == ['text', 'binary', 'sid']
        assert cases['upgrade']['upgraded'] is True
        assert cases['upgrade']['transport'] == 'websocket'
        assert 'binary after upgrade' in cases['upgrade']['checks']
        assert result['clientVersion']
        assert Path(result['screenshot']).is_file()
    finally:
        proc.stop()
