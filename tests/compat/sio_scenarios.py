"""The socket.io-client scenarios every python-socketio server on this
package must pass (blocking Server, Flask-SocketIO, AsyncServer).

Each function takes the server process and its URL and runs one scenario of
js/sio_client.js, then checks the server's view (its JSON lines) and that
the server logged no error.
"""
from __future__ import annotations

from sio_support import (
    assert_no_errors,
    require_node_peers,
    server_event,
    sio_client,
    sio_client_proc,
    start_sio_server,
)
from support import Proc


def check(proc: Proc, result: dict[str, object]) -> dict[str, object]:
    assert result['ok'], result
    assert_no_errors(proc)
    return result


def connect_polling_then_upgrade(proc: Proc, url: str) -> None:
    result = check(proc, sio_client(url, 'connect', 'polling,websocket'))
    assert result['initialTransport'] == 'polling'
    assert result['upgraded'] and result['transport'] == 'websocket'
    server_event(proc, 'connect', str(result['id']))


def connect_websocket_only(proc: Proc, url: str) -> None:
    result = check(proc, sio_client(url, 'connect', 'websocket'))
    assert result['initialTransport'] == 'websocket'
    connected = server_event(proc, 'connect', str(result['id']))
    assert connected['transport'] == 'websocket'


def connect_polling_only(proc: Proc, url: str) -> None:
    result = check(proc, sio_client(url, 'connect', 'polling'))
    assert result['transport'] == 'polling'


def disconnect_reasons(proc: Proc, url: str, transports: str) -> None:
    result = check(proc, sio_client(url, 'disconnect', transports))
    assert result['serverDisconnectReason'] == 'io server disconnect'
    assert server_event(proc, 'disconnect', str(result['byServer']))['reason'] \
        == 'server disconnect'
    assert server_event(proc, 'disconnect', str(result['byClient']))['reason'] \
        == 'client disconnect'


def burst(proc: Proc, url: str, transports: str) -> None:
    result = check(proc, sio_client(url, 'burst', transports))
    assert result['toServer'] == {'count': 200, 'distinct': 200}
    assert result['fromServer'] == 200 and result['fromServerInOrder']
    if transports == 'polling':
        # The point of the test: one polling payload held far more than
        # the 16 packets python-engineio accepts.
        assert int(result['maxBatch']) > 16, result  # type: ignore[call-overload]


def reconnect_after_restart(script: str) -> None:
    proc, port = start_sio_server(script)
    url = f'http://127.0.0.1:{port}'
    client = sio_client_proc(url, 'reconnect')
    try:
        client.wait_for(r'"connected": ?1', 15)
        proc.stop()
        client.wait_for(r'"disconnected"', 10)
        proc, _ = start_sio_server(script, port=port)
        client.wait_for(r'"ok"', 20)
        final = [e for e in client.events() if 'ok' in e][-1]
        assert final['ok'], client.lines
        assert final['connects'] == 2
        assert final['echoed'] == 'after restart', final
        assert_no_errors(proc)
    finally:
        client.stop()
        proc.stop()


def namespaces(proc: Proc, url: str) -> None:
    result = check(proc, sio_client(url, 'namespaces'))
    assert result['refused'] == 'private'
    server_event(proc, 'connect', str(result['mainId']))
    server_event(proc, 'connect', str(result['chatId']), ns='/chat')


#: Admin servers ping every second, so the ping hook runs during a test.
ADMIN_OPTIONS = {'ping_interval': 1, 'ping_timeout': 5}
ALL_COUNTERS = ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut', 'rawConnection']


def run_admin(script: str, transports: str,
              timeout_ms: int = 12000) -> dict[str, object]:
    require_node_peers()
    proc, port = start_sio_server(script, options=ADMIN_OPTIONS, admin=True)
    try:
        result = sio_client(f'http://127.0.0.1:{port}', 'admin', transports,
                            timeout_ms=timeout_ms)
        assert result['ok'], result
        assert_no_errors(proc)
    finally:
        proc.stop()
    seen = result['seen']
    assert isinstance(seen, dict)
    assert seen['config'] >= 1 and seen['server_stats'] >= 2, result
    assert seen['event_received'] >= 1, result
    # Once at connect, then again at each ping (the _send_ping hook).
    assert len(result['userConnected']) >= 2, result  # type: ignore[arg-type]
    return result
