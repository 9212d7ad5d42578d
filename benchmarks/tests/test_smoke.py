"""Cheap smoke tests of the benchmark harness (not part of the CI suite).

    python -m pytest benchmarks/tests -q

They run the codec and in-process benchmarks briefly with the current
interpreter and this project's src/, and, when Node and the load generator's
packages are installed, one short WebSocket echo against this project's
ASGI server.
"""
from __future__ import annotations

import importlib.util
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
    _require_module('uvloop')
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


def test_loadgen_ws_echo_against_our_asgi_server():
    _require_module('uvicorn')
    _needs_loadgen()
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


# -- the stacks figure (issue 17): targets, merging split load generators, and
# -- the new servers (aiohttp, bare aiohttp, bare Node ws) -------------------
def test_stack_targets_aliases_and_own_bare():
    assert run.target_key('pe-aiohttp') == 'pe4151-aiohttp'
    assert run.target_key('ours') == 'ours'
    assert run.own_bare('ours') == 'bare'
    assert run.own_bare('pe4151-aiohttp') == 'bare-aiohttp'
    assert run.own_bare('ours-aiohttp-patched') == 'bare-aiohttp'
    assert run.own_bare('node') == 'node-ws'
    assert run.own_bare('ours-eventlet') == 'bare-eventlet'  # figure 6's eventlet ceiling
    assert run.own_bare('ours-gevent') == 'bare-gevent'
    assert run.own_bare('ours-aiohttp-x2') == 'bare-aiohttp'
    assert set(run.STACK_TARGETS) <= set(run.STACK_OF)
    assert 'stacks' in run.FIGURES and 'stacks' not in run.DEFAULT_FIGURES


def test_merge_split_loadgen_results():
    def part(count, cpu_pct, hist):
        return {'seconds': 1.0, 'count': count, 'rate': float(count), 'conns': 2,
                'loadgen_cpu_pct': cpu_pct, 'server_cpu_s': 0.5, 'core1_busy_pct': 90.0,
                'hist': hist, 'max_ms': 3.0, 'bad_frames': 0, 'samples': count}
    b1 = 349  # 1.02**349 us ~ 1 ms
    merged = run.merge_loadgen([part(1000, 40.0, {str(b1): 1000}),
                                part(3000, 45.0, {str(b1 + 35): 3000})], [1, 1])
    assert merged['rate'] == 4000 and merged['conns'] == 4
    assert merged['loadgen_cpu_pct'] == 85.0  # both processes on core 1
    assert merged['server_cpu_us_per_op'] == pytest.approx(125.0)
    assert 0.9 < merged['p50_ms'] / 2.0 < 1.1 and merged['p99_ms'] == merged['p50_ms']
    assert 'hist' not in merged
    assert run.merge_loadgen([part(1, 1.0, {}), None], [1, 1]) is None


def _python_with(module):
    """An interpreter that has ``module``: this one, else the benchmark venv."""
    probe = 'import importlib.util,sys;sys.exit(importlib.util.find_spec(sys.argv[1]) is None)'
    venvs = sorted((BENCH / '.venvs').glob('ours-py*/bin/python'))
    for py in (sys.executable, *map(str, venvs)):
        if Path(py).exists() and subprocess.run([py, '-c', probe, module]).returncode == 0:
            return py
    pytest.fail(f'no interpreter with {module}: run benchmarks/run.py once '
                'to create the benchmark venvs')


def _start(argv):
    port = _free_port()
    server = subprocess.Popen([*argv, '--port', str(port)], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return server, port
        except OSError:
            time.sleep(0.05)
    server.terminate()
    server.wait(10)
    pytest.fail(f'{argv} did not listen')


def _needs_loadgen():
    # What these smoke tests need is missing: a failure that says how to get
    # it, never a skip counted as a pass.
    if shutil.which('node') is None:
        pytest.fail('needs Node.js (scripts/setup.sh installs it)')
    if not (BENCH / 'loadgen' / 'node_modules' / 'ws').exists():
        pytest.fail('load generator packages not installed: run '
                    'benchmarks/run.py once (npm ci in benchmarks/loadgen)')


def _require_module(name):
    if importlib.util.find_spec(name) is None:
        pytest.fail(f'{name} is not installed: run benchmarks/run.py once, or '
                    f'pip install {name}')


@pytest.mark.parametrize('script', ['eio_aiohttp.py', 'bare_aiohttp.py', 'node_ws.js'])
@pytest.mark.parametrize('payload', ['text16', 'bin16'])
def test_stack_servers_echo(script, payload):
    _needs_loadgen()
    interpreter = 'node' if script.endswith('.js') else _python_with('aiohttp')
    server, port = _start([interpreter, str(BENCH / 'servers' / script)])
    try:
        out = subprocess.run(
            ['node', str(BENCH / 'loadgen' / 'loadgen.js'), 'ws-echo',
             '--port', str(port), '--conns', '3', '--payload', payload, '--warmup', '0.1',
             '--duration', '0.3', '--server-pid', str(server.pid)],
            capture_output=True, text=True, timeout=60, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result['count'] > 0
        assert result['bad_frames'] == 0
        assert result['server_cpu_us_per_op'] is not None
    finally:
        server.terminate()
        server.wait(10)


def test_split_loadgen_against_bare_node_ws():
    _needs_loadgen()
    server, port = _start(['node', str(BENCH / 'servers' / 'node_ws.js')])
    try:
        srv = run.Server(run.Target('node-ws', 'bare Node ws echo', []), BENCH)
        srv.proc, srv.port = server, port
        result = run.run_loadgen('node', 'ws-echo', srv, 30, procs=2, cores=[os.sched_getaffinity(0).pop()],
                                 conns=5, payload='text16', warmup=0.1, duration=0.3)
        assert result is not None
        assert result['loadgen_procs'] == 2 and result['conns'] == 5
        assert result['count'] > 0 and result['bad_frames'] == 0
        assert result['p50_ms'] is not None and result['p50_ms'] <= result['p99_ms']
    finally:
        server.terminate()
        server.wait(10)


# -- issue 17, items 2 and 4: figures 3-5 on every stack, the bare polling
# -- servers, figure 6's eventlet ceiling, and the multiproc figure -----------
def _loadgen(*argv):
    out = subprocess.run(['node', str(BENCH / 'loadgen' / 'loadgen.js'), *argv],
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('script', ['bare_asgi.py', 'bare_aiohttp.py', 'node_ws.js',
                                    'eio_asgi.py', 'node_eio.js'])
@pytest.mark.parametrize('client', ['raw', 'http'])
def test_polling_load_generator_on_bare_and_engineio_servers(script, client):
    _needs_loadgen()
    interpreter = 'node' if script.endswith('.js') else _python_with('aiohttp')
    server, port = _start([interpreter, str(BENCH / 'servers' / script)])
    try:
        result = _loadgen('polling', '--port', str(port), '--clients', '3', '--warmup', '0.1',
                          '--duration', '0.3', '--server-pid', str(server.pid),
                          *(['--raw'] if client == 'raw' else []))
        assert result['client'] == client
        assert result['count'] > 0 and result['errors'] == 0, result
        # A round trip is one POST and the GET of its echo, nothing else.
        assert result['http_requests'] <= 2 * result['count'] + 6
    finally:
        server.terminate()
        server.wait(10)


def test_bare_eventlet_echoes_text_and_binary():
    _needs_loadgen()
    server, port = _start([_python_with('eventlet'), str(BENCH / 'servers' / 'bare_eventlet.py')])
    try:
        for payload in ('text16', 'bin16'):
            result = _loadgen('ws-echo', '--port', str(port), '--conns', '3', '--payload', payload,
                              '--warmup', '0.1', '--duration', '0.3', '--server-pid', str(server.pid))
            assert result['count'] > 0 and result['bad_frames'] == 0, result
    finally:
        server.terminate()
        server.wait(10)


def _bare_harness(**targets):
    """A Harness with only what target selection needs (no setup, no venvs)."""
    h = object.__new__(run.Harness)
    h.targets = {k: run.Target(k, k, [], workers=w) for k, w in targets.items()}
    h.chosen = {}
    return h


def test_targets_option_per_figure_and_left_out_targets():
    h = _bare_harness(**{k: 0 for k in run.STACK_TARGETS + run.BLOCKING_TARGETS},
                      **{'ours-aiohttp-x2': 2})
    h.chosen = h.parse_targets(['ours,pe-aiohttp,bare-gevent,ours-aiohttp-x2',
                                'polling=ours,bare', 'multiproc=ours-aiohttp-x2,node'])
    assert h.pick('ws', ['node']) == ['ours', 'pe4151-aiohttp', 'bare-gevent', 'ours-aiohttp-x2']
    assert h.pick('polling', []) == ['ours', 'bare']
    # WebSocket-only bare servers and worker groups are left out where they can't be measured.
    assert h.pick('memory', []) == ['ours', 'pe4151-aiohttp', 'bare-gevent']
    assert h.pick('multiproc', []) == ['ours-aiohttp-x2', 'node']
    assert h.pick('blocking', run.BLOCKING_TARGETS) == run.BLOCKING_TARGETS
    h.chosen = h.parse_targets(['sessions=node'])
    assert h.pick('polling', run.POLLING_TARGETS) == run.STACK_TARGETS
    assert h.pick('sessions', run.SESSIONS_TARGETS) == ['node']
    for bad in (['nosuchfigure=ours'], ['ours,nosuch']):
        with pytest.raises(SystemExit):
            h.parse_targets(bad)
    assert 'multiproc' in run.FIGURES and 'multiproc' not in run.DEFAULT_FIGURES
    assert run.base_key('ours-aiohttp-x12') == 'ours-aiohttp' == run.base_key('ours-aiohttp-patched')
    assert run.Harness._same_stack_pe('ours-aiohttp', {'pe4151': [], 'pe4151-aiohttp': []}) == 'pe4151-aiohttp'
    assert run.Harness._same_stack_pe('ours-aiohttp', {'pe4151': []}) == 'pe4151'
    assert run.Harness._same_stack_pe('pe4151', {'pe4151': []}) is None


def test_worker_group_shares_a_port_and_the_loadgen_adds_up_its_cpu(tmp_path):
    _needs_loadgen()
    py = _python_with('aiohttp')
    group = run.WorkerGroup(
        run.Target('ours-aiohttp-x2', 'two workers', [py, 'servers/eio_aiohttp.py'],
                   {'PYTHONPATH': str(REPO / 'src')}, workers=2),
        tmp_path, cores=os.sched_getaffinity(0)).start()
    try:
        assert run.listening_sockets(group.port) == 2
        assert len(group.pid_arg.split(',')) == 2
        result = run.run_loadgen('node', 'ws-echo', group, 30, conns=8, payload='text16',
                                 warmup=0.1, duration=0.3)
        assert result is not None and result['count'] > 0 and result['bad_frames'] == 0
        assert len(result['server_cpu_pct_per_pid']) == 2
        assert result['server_cpu_pct'] == pytest.approx(sum(result['server_cpu_pct_per_pid']))
    finally:
        group.stop()
    assert not group.alive()


@pytest.mark.parametrize('script', ['node_eio.js', 'bare_aiohttp.py', 'eio_aiohttp.py'])
@pytest.mark.parametrize('payload', ['text16', 'text1k', 'bin16'])
def test_c_loadgen_matches_node_loadgen(script, payload):
    """loadgen/wsecho.c (--ws-loadgen c) drives the servers like loadgen.js
    and reports the same fields."""
    _needs_loadgen()
    wsecho = run.ensure_wsecho()
    interpreter = 'node' if script.endswith('.js') else _python_with('aiohttp')
    server, port = _start([interpreter, str(BENCH / 'servers' / script)])
    try:
        results = []
        for head in ([wsecho, 'ws-echo'],
                     ['node', str(BENCH / 'loadgen' / 'loadgen.js'), 'ws-echo']):
            out = subprocess.run(
                [*head, '--port', str(port), '--conns', '5', '--payload', payload,
                 '--warmup', '0.1', '--duration', '0.3', '--server-pid', str(server.pid),
                 '--hist'],
                capture_output=True, text=True, timeout=60, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        c_result, node_result = results
        assert c_result['count'] > 0 and c_result['samples'] == c_result['count']
        assert c_result['bad_frames'] == 0 and c_result['dropped_connections'] == 0
        assert sum(c_result['hist'].values()) == c_result['count']
        assert c_result['p50_ms'] <= c_result['p99_ms'] <= c_result['max_ms']
        assert set(c_result) == set(node_result)
    finally:
        server.terminate()
        server.wait(10)
