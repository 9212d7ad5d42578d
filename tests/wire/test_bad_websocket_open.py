"""WebSocket opening requests that break RFC 6455 section 4.2.1 are refused
before anything happens: no session, no ``connect``, and an upgrade request
leaves its polling session as it was.

The official engine.io 6.6 server (its ``ws`` library) answers each of them
with a 400 ("Missing or invalid Sec-WebSocket-Key header", or "... Version
header" plus ``Sec-WebSocket-Version: 13, 8``), with or without a sid; a
request without ``Upgrade`` or without ``Connection: Upgrade`` is a plain
GET to it: 400 ``{"code":3,"message":"Bad request"}``; a POST handshake is
400 "Bad handshake method", a POST upgrade 405.

Our own refusals are 400 with code 3 (2 for a POST handshake).  Some web
servers answer the handshake before the application sees the request, each
in its own way (docs/limits.md): those answers are in ``FRAMEWORK``.
"""
from __future__ import annotations

import base64
import json
import socket
import time

import pytest
import requests

from .modes import ALL_MODES, OFFICIAL, Served, mode_ids
from support import handshake, poll_url

MODES = [OFFICIAL, *ALL_MODES]
pytestmark = pytest.mark.parametrize('served', MODES, indirect=True,
                                     ids=mode_ids(MODES))

GOOD_KEY = base64.b64encode(bytes(range(16))).decode()


def opening(key: str | None = GOOD_KEY, version: str | None = '13',
            upgrade: bool = True, connection: bool = True) -> list[str]:
    headers = []
    if upgrade:
        headers.append('Upgrade: websocket')
    if connection:
        headers.append('Connection: Upgrade')
    if key is not None:
        headers.append(f'Sec-WebSocket-Key: {key}')
    if version is not None:
        headers.append(f'Sec-WebSocket-Version: {version}')
    return headers


#: name: (method, headers)
CASES = {
    'short key': ('GET', opening(key='short')),
    'key not base64': ('GET', opening(key='@' * 22 + '==')),
    'key of 15 bytes': ('GET', opening(
        key=base64.b64encode(b'k' * 15).decode())),
    'key of 17 bytes': ('GET', opening(
        key=base64.b64encode(b'k' * 17).decode())),
    'no key': ('GET', opening(key=None)),
    'version 99': ('GET', opening(version='99')),
    'no version': ('GET', opening(version=None)),
    'no Upgrade': ('GET', opening(upgrade=False)),
    'no Connection': ('GET', opening(connection=False)),
    'POST': ('POST', opening()),
}

#: Answers given by the web server itself, before the application runs:
#: (mode, case, with a sid) -> status.  Anything else is 400.
FRAMEWORK = {
    # gevent-websocket's handler base64-decodes the key without catching
    # binascii.Error: a traceback and a 500 of its own (docs/limits.md).
    **{('gevent-websocket', 'short key', s): 500 for s in (False, True)},
    **{('gevent-websocket', 'no version', s): 426 for s in (False, True)},
    # uvicorn refuses an upgrade by POST itself (0.55 and later: before,
    # it never answers, and the connection times out: None).
    **{('asgi', 'POST', s): (405, None) for s in (False, True)},
    ('official', 'POST', True): 405,
}
#: The modes where every answer above that is a 400 comes from our core.
CORE_ANSWERS = {'threading', 'eventlet', 'gevent', 'aiohttp', 'tornado',
                'sanic'}


def raw_request(served: Served, method: str, headers: list[str],
                sid: str | None = None
                ) -> tuple[int | None, dict[str, str], bytes]:
    """Send one request on a fresh connection: (status, headers, body);
    the status is None when no answer came within 1 s (shorter than the
    heartbeat, so that the session of an upgrade attempt lives on)."""
    target = '/engine.io/?EIO=4&transport=websocket' + \
        (f'&sid={sid}' if sid else '')
    lines = [f'{method} {target} HTTP/1.1', f'Host: 127.0.0.1:{served.port}',
             *headers]
    if method == 'POST':
        lines.append('Content-Length: 0')
    with socket.create_connection(('127.0.0.1', served.port),
                                  timeout=1) as sock:
        sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        data = b''
        while b'\r\n\r\n' not in data:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                if not data:
                    return None, {}, b''
                raise
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b'\r\n\r\n')
        status_line, *header_lines = head.decode('latin-1').split('\r\n')
        status = int(status_line.split()[1])
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(':')
            fields[name.strip().lower()] = value.strip()
        length = int(fields.get('content-length') or 0)
        deadline = time.monotonic() + 5
        while len(body) < length and time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            body += chunk
    return status, fields, body


def check_answer(served: Served, case: str, with_sid: bool, status: int | None,
                 fields: dict[str, str], body: bytes) -> None:
    mode = served.mode.name
    where = f'{mode}, {case}, {"upgrade" if with_sid else "handshake"}'
    expected = FRAMEWORK.get((mode, case, with_sid), 400)
    allowed = expected if isinstance(expected, tuple) else (expected,)
    assert status in allowed, (where, status, body)
    if mode in CORE_ANSWERS:
        code = 2 if case == 'POST' and not with_sid else 3
        assert json.loads(body)['code'] == code, (where, body)
        if case.startswith(('version', 'no version')):
            assert fields.get('sec-websocket-version') == '13', where


def wait_connected(served: Served, sid: str) -> None:
    """Wait for ``sid``'s connect event: every event printed before it has
    been read by then."""
    deadline = time.monotonic() + 5
    while sid not in served.connected():
        assert time.monotonic() < deadline, f'no connect event for {sid}'
        time.sleep(0.02)


def test_bad_websocket_handshake_creates_no_session(served: Served) -> None:
    for case, (method, headers) in CASES.items():
        status, fields, body = raw_request(served, method, headers)
        check_answer(served, case, False, status, fields, body)
    # The server prints its events in order: once this session's connect is
    # read, a connect of any request above would have been read too.
    sid, _ = handshake(served.url)
    wait_connected(served, sid)
    assert served.connected() == {sid}


def test_bad_websocket_upgrade_leaves_the_session_on_polling(
        served: Served) -> None:
    for case, (method, headers) in CASES.items():
        sid, _ = handshake(served.url)
        status, fields, body = raw_request(served, method, headers, sid)
        check_answer(served, case, True, status, fields, body)
        url = poll_url(served.url, sid)
        r = requests.post(url, data='4hello', timeout=5)
        assert r.status_code == 200, (served.mode.name, case, r.content)
        r = requests.get(url, timeout=5)
        assert r.status_code == 200, (served.mode.name, case, r.content)
        assert '4hello' in r.text.split('\x1e'), (served.mode.name, case,
                                                  r.text)
        assert sid not in served.disconnected(), (served.mode.name, case)
