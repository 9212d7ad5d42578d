"""Protocol v3 (``allow_eio3=True``) on the blocking Server under Werkzeug,
driven by engine.io-client 3.5.x (the last v3 client, as in Socket.IO v2)
over real sockets on 127.0.0.1, plus raw wire checks with ``requests``."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

import engineio
from engineio.sansio import v3

from support import NODE, TESTS, start_server

pytestmark = pytest.mark.node

JS3_DIR = TESTS / 'js3'
TRANSPORTS = ['polling', 'websocket', 'polling,websocket']
# A fast heartbeat for the liveness tests: v3 clients ping every 0.5 s.
FAST = {'ping_interval': 0.5, 'ping_timeout': 0.5}


@pytest.fixture(scope='session')
def js3_peers() -> Path:
    """engine.io-client 3.x; CI installs it (scripts/setup.sh runs npm ci)."""
    assert shutil.which(NODE), 'node is required for the peer tests'
    assert (JS3_DIR / 'node_modules' / 'engine.io-client').is_dir(), \
        'run "npm ci" in tests/js3 first (scripts/setup.sh does it)'
    return JS3_DIR


def v3_client(url: str, scenario: str, transports: str | None = None,
              base64: bool = False, timeout_ms: int = 20000,
              extra: list[str] | None = None) -> dict[str, Any]:
    """Run one scenario of tests/js3/client.js; its JSON result."""
    args = [NODE, str(JS3_DIR / 'client.js'), '--url', url,
            '--scenario', scenario, '--timeout-ms', str(timeout_ms)]
    if transports:
        args += ['--transports', transports]
    if base64:
        args.append('--base64')
    args += extra or []
    out = subprocess.run(args, capture_output=True, text=True,
                         timeout=timeout_ms / 1000 + 15, cwd=str(JS3_DIR))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    assert lines, f'no result from js3/client.js: {out.stdout}\n{out.stderr}'
    result: dict[str, Any] = json.loads(lines[-1])
    result['_stderr'] = out.stderr[-2000:]
    return result


def wait_reason(proc: Any, sid: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in proc.events('disconnect'):
            if ev['sid'] == sid:
                return ev['reason']  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f'no disconnect for {sid}')


@pytest.fixture(scope='module')
def server(js3_peers):
    proc, port = start_server('werkzeug_server.py',
                              {'async_mode': 'threading', 'allow_eio3': True})
    yield proc, f'http://127.0.0.1:{port}'
    proc.stop()


@pytest.fixture(scope='module')
def fast_server(js3_peers):
    proc, port = start_server('werkzeug_server.py',
                              {'async_mode': 'threading', 'allow_eio3': True,
                               **FAST})
    yield proc, f'http://127.0.0.1:{port}'
    proc.stop()


# -- the real v3 client ----------------------------------------------------
@pytest.mark.parametrize('base64', [False, True], ids=['binary', 'base64'])
@pytest.mark.parametrize('transports', TRANSPORTS)
@pytest.mark.parametrize('scenario', ['echo', 'order', 'binary-order', 'mixed'])
def test_scenarios(server, scenario, transports, base64):
    result = v3_client(server[1], scenario, transports, base64)
    assert result['ok'], result
    if transports != 'polling,websocket':
        assert result['transport'] == transports


@pytest.mark.parametrize('base64', [False, True], ids=['binary', 'base64'])
def test_upgrade_loses_nothing(server, base64):
    for _ in range(3):
        result = v3_client(server[1], 'upgrade', base64=base64)
        assert result['ok'], result
        assert result['upgraded'] and result['transport'] == 'websocket'
        assert result['received'] == 200


def test_handshake_values(server):
    result = v3_client(server[1], 'handshake', 'polling')
    assert result['ok'], result
    # v3: no maxPayload in the open packet.
    assert set(result['handshake']) == {'sid', 'upgrades', 'pingInterval',
                                        'pingTimeout'}
    assert result['handshake']['pingInterval'] == 25000
    assert result['handshake']['pingTimeout'] == 20000
    assert result['handshake']['upgrades'] == ['websocket']


@pytest.mark.parametrize('transports', TRANSPORTS)
def test_server_close(server, transports):
    proc, url = server
    result = v3_client(url, 'server-close', transports)
    assert result['ok'], result
    assert result['closeReason'] == 'transport close'
    assert wait_reason(proc, result['sid']) == 'server disconnect'


@pytest.mark.parametrize('base64', [False, True], ids=['binary', 'base64'])
@pytest.mark.parametrize('transports', TRANSPORTS)
def test_client_pings_are_answered(fast_server, transports, base64):
    result = v3_client(fast_server[1], 'ping', transports, base64,
                       extra=['--duration-ms', '2600'])
    assert result['ok'], result
    # v3 heartbeat: the client pings every 0.5 s and gets each pong back.
    assert result['pings'] >= 4, result
    assert result['pongs'] >= result['pings'] - 1, result


@pytest.mark.parametrize('transports', TRANSPORTS)
def test_silent_client_is_dropped(fast_server, transports):
    proc, url = fast_server
    result = v3_client(url, 'silent', transports)
    assert result['ok'], result
    assert result['closeReason'] == 'transport close'
    # Dropped after pingInterval + pingTimeout (1 s), give or take.
    assert 900 <= result['closedAfterMs'] <= 5000, result
    assert wait_reason(proc, result['sid']) == 'ping timeout'


# -- the option and the wire ---------------------------------------------
def test_eio3_refused_by_default(serve, js3_peers):
    s = serve(engineio.Server(async_mode='threading'))
    r = requests.get(f'{s.url}/engine.io/?EIO=3&transport=polling',
                     timeout=5)
    assert r.status_code == 400
    assert r.json() == {'code': 5, 'message': 'Unsupported protocol version'}
    result = v3_client(s.url, 'handshake', 'polling', timeout_ms=3000)
    assert not result['ok'] and 'sid' not in result, result


def test_raw_v3_polling_exchange(serve):
    eio = engineio.Server(async_mode='threading', allow_eio3=True,
                          initial_packet=b'\x01\x02')
    got: list[Any] = []
    eio.on('message', lambda sid, data: (got.append(data), eio.send(sid, data)))
    s = serve(eio)
    base = f'{s.url}/engine.io/?EIO=3&transport=polling'
    r = requests.get(base, timeout=5)
    assert r.headers['Content-Type'] == 'application/octet-stream'
    # binary payload: the open packet as a text entry, then the initial
    # binary message (type byte 4)
    assert r.content[0] == 0 and r.content.endswith(b'\x01\x03\xff\x04\x01\x02')
    length_end = r.content.index(b'\xff')
    open_packet = r.content[length_end + 1:].split(b'\x01\x03\xff')[0]
    handshake = json.loads(open_packet[1:])
    assert 'maxPayload' not in handshake
    sid = handshake['sid']
    # A binary POST payload: text "4é" then binary [7, 8]; a ping.
    body = b'\x00\x03\xff4\xc3\xa9\x01\x03\xff\x04\x07\x08\x00\x01\xff2'
    r = requests.post(f'{base}&sid={sid}', data=body, timeout=5,
                      headers={'Content-Type': 'application/octet-stream'})
    assert r.status_code == 200 and r.content == b'ok'
    deadline = time.monotonic() + 5
    received: list[Any] = []
    while len(received) < 3 and time.monotonic() < deadline:
        r = requests.get(f'{base}&sid={sid}', timeout=5)
        received += v3.decode_payload(r.content)
    assert got == ['é', b'\x07\x08']
    assert sorted(received, key=repr) == sorted(
        [(3, None), (4, 'é'), (4, b'\x07\x08')], key=repr)
    # The wrong protocol for this session is refused.
    r = requests.get(f'{s.url}/engine.io/?EIO=4&transport=polling&sid={sid}',
                     timeout=5)
    assert r.status_code == 400


def test_raw_v3_b64_handshake(serve):
    eio = engineio.Server(async_mode='threading', allow_eio3=True,
                          initial_packet=b'\x01\x02')
    s = serve(eio)
    r = requests.get(f'{s.url}/engine.io/?EIO=3&transport=polling&b64=1',
                     timeout=5)
    assert r.headers['Content-Type'].startswith('text/plain')
    text = r.content.decode()
    assert text.endswith('6:b4AQI=')
    n, _, rest = text.partition(':')
    assert json.loads(rest[1:int(n)])['pingInterval'] == 25000
