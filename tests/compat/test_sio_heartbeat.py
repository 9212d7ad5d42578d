"""python-socketio passes ``ping_interval``/``ping_timeout`` to the
Engine.IO server; applications shorten the interval to keep idle
connections alive through proxies, so the server must ping every
``ping_interval`` seconds, whatever ``ping_timeout`` is."""
from __future__ import annotations

import importlib

import pytest

from sio_support import (
    assert_no_errors,
    require_node_peers,
    sio_client,
    start_sio_server,
)

importlib.import_module('socketio')

#: An interval shorter than the timeout: 0.5 s between pings, 3 s to answer.
OPTIONS = {'ping_interval': 0.5, 'ping_timeout': 3}
WATCH_MS = 2500


# One transport per server: test_core_timer_follows_the_pong pins the cause.
@pytest.mark.parametrize(('script', 'transports'), [
    ('socketio_werkzeug.py', 'websocket'), ('socketio_uvicorn.py', 'polling')])
def test_server_pings_every_ping_interval(script: str, transports: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if script.endswith('uvicorn.py'):
        importlib.import_module('uvicorn')
    require_node_peers()
    monkeypatch.setenv('PINGS_WATCH_MS', str(WATCH_MS))
    proc, port = start_sio_server(script, options=OPTIONS)
    try:
        result = sio_client(f'http://127.0.0.1:{port}', 'pings', transports)
        assert result['ok'], result
        assert result['pingInterval'] == 500 and result['pingTimeout'] == 3000
        assert_no_errors(proc)
    finally:
        proc.stop()
    # Pings at about 0.5, 1.0, 1.5, 2.0 s after connecting; allow for one
    # being late on a loaded machine.
    assert int(result['pings']) >= 3, result  # type: ignore[call-overload]


def test_watch_window_is_long_enough() -> None:
    # The check above is only meaningful if the window holds several
    # intervals but less than one ping_timeout after the first ping.
    interval_ms = OPTIONS['ping_interval'] * 1000
    assert 4 * interval_ms <= WATCH_MS
    assert interval_ms + OPTIONS['ping_timeout'] * 1000 > WATCH_MS


def test_core_timer_follows_the_pong() -> None:
    # The same bug without any I/O: after the pong, the core's next timer
    # must be the next ping (pong + interval), not the pong deadline.
    from engineio import packet
    from engineio.sansio.server import ServerConfig, ServerCore

    core = ServerCore(ServerConfig(ping_interval=0.5, ping_timeout=3))
    session = core.open_session('sid', 'websocket', 0.0)
    core.accept(session, 0.0)
    due = core.expire(0.5)
    assert due and due[0][0] is session  # the first ping is queued
    assert session.receive(packet.PONG, None, 0.6) is None
    # The core may look in between, but the next ping is due one interval
    # after the pong, not at the pong deadline (3.5).
    assert core.expire(1.09) == []
    assert core.next_deadline() == pytest.approx(1.1)
    due = core.expire(1.1)
    assert due and due[0][0] is session
