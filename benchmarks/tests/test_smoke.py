"""Cheap smoke tests of the benchmark harness (not part of the CI suite).

    python -m pytest benchmarks/tests -q

They run the codec and in-process benchmarks briefly with the current
interpreter and this project's src/, and, when Node and the load generator's
packages are installed, one short WebSocket echo against this project's
ASGI server.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

ENV = {**os.environ, 'PYTHONPATH': str(REPO / 'src')}


def test_tables_and_ratios():
    ours = [{'rate': 300.0, 'server_cpu_us_per_op': 10.0}, None,
            {'rate': 200.0, 'server_cpu_us_per_op': 20.0}]
    pe = [{'rate': 100.0, 'server_cpu_us_per_op': 30.0},
          {'rate': 100.0, 'server_cpu_us_per_op': 30.0},
          {'rate': 100.0, 'server_cpu_us_per_op': 30.0}]
    assert run.paired_ratio(ours, pe, 'rate') == 2.5
    assert run.cpu_ratio(ours, pe) == 2.25
    table = run.md_table(['a', 'bb'], [['1', '2'], ['333', '4']])
    assert table.splitlines()[0] == '| a   | bb |'
    assert run.fmt_rate(123456) == '123k'
    assert run.verdict(0.5, 0.6, higher=False) == 'met'


def test_codec_bench_runs_and_checks_results():
    out = subprocess.run(
        [sys.executable, str(BENCH / 'codec' / 'codec_bench.py'),
         '--seconds-per-case', '0.01'],
        capture_output=True, text=True, env=ENV, timeout=120, check=True)
    data = json.loads(out.stdout)
    assert data['engineio_file'].startswith(str(REPO / 'src'))
    assert len(data['ops_per_s']) == 10
    assert all(v > 0 for v in data['ops_per_s'].values())


@pytest.mark.parametrize('app', ['eio', 'bare'])
def test_inproc_echo_runs(app):
    pytest.importorskip('uvloop')
    out = subprocess.run(
        [sys.executable, str(BENCH / 'codec' / 'inproc_echo.py'),
         '--conns', '5', '--messages', '500', '--app', app],
        capture_output=True, text=True, env=ENV, timeout=120, check=True)
    data = json.loads(out.stdout)
    assert data['messages'] == 500
    assert data['cpu_us_per_msg'] > 0


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which('node') is None, reason='needs Node.js')
def test_loadgen_ws_echo_against_our_asgi_server():
    pytest.importorskip('uvicorn')
    if not (BENCH / 'loadgen' / 'node_modules' / 'ws').exists():
        pytest.skip('load generator packages not installed (run run.py once)')
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, str(BENCH / 'servers' / 'eio_asgi.py'),
         '--port', str(port)], env=ENV, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', port), 0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run(
            ['node', str(BENCH / 'loadgen' / 'loadgen.js'), 'ws-echo',
             '--port', str(port), '--conns', '3', '--warmup', '0.1',
             '--duration', '0.5', '--server-pid', str(server.pid)],
            capture_output=True, text=True, timeout=60, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result['count'] > 0
        assert result['bad_frames'] == 0
        assert result['server_cpu_us_per_op'] is not None
    finally:
        server.terminate()
        server.wait(10)
