"""HTTPS and WSS with a self-signed certificate (``ssl_verify``)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from client_harness import SyncHarness
from tls_proxy import TLSProxy

from engineio.exceptions import ConnectionError

from support import make_self_signed

pytestmark = [pytest.mark.node, pytest.mark.filterwarnings(
    'ignore::urllib3.exceptions.InsecureRequestWarning')]


@pytest.fixture(scope='module')
def tls_url(node: Any, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[str]:
    certfile, keyfile = make_self_signed(tmp_path_factory.mktemp('tls'))
    proxy = TLSProxy(node.port, certfile, keyfile).start()
    yield f'https://127.0.0.1:{proxy.port}'
    proxy.stop()


def test_self_signed_accepted_without_verification(
        tls_url: str, make_client: Callable[..., SyncHarness],
        transports: Any) -> None:
    c = make_client(ssl_verify=False)
    c.connect(tls_url, transports=transports)
    assert c.reply_to('over tls') == 'over tls'
    assert c.reply_to(b'\x00binary') == b'\x00binary'
    if transports is None:  # the upgrade went to wss://
        assert c.client.transport() == 'websocket'
    c.disconnect()
    assert c.rec.disconnects == [('client disconnect', 'disconnecting')]


def test_self_signed_refused_with_verification(
        tls_url: str, make_client: Callable[..., SyncHarness],
        transports: Any) -> None:
    c = make_client()
    with pytest.raises(ConnectionError):
        c.connect(tls_url, transports=transports)
    assert c.client.state == 'disconnected'


def test_wss_url_scheme(tls_url: str,
                        make_client: Callable[..., SyncHarness]) -> None:
    c = make_client(ssl_verify=False)
    c.connect(tls_url.replace('https', 'wss'), transports=['websocket'])
    assert c.reply_to('wss') == 'wss'


def test_wss_both_directions_at_once(
        tls_url: str, make_client: Callable[..., SyncHarness]) -> None:
    """The client's writer sends while its reader receives, on one TLS
    connection: 500 messages out (each echoed) while the server sends 500
    of its own, all delivered in order (the race itself, which this does
    not provoke reliably through the proxy, is tested in
    tests/adapters/test_tls_socket.py)."""
    c = make_client(ssl_verify=False)
    c.connect(tls_url.replace('https', 'wss'), transports=['websocket'])
    c.send('__burst__:500')
    for i in range(500):
        c.send(f'c:{i}')
    got = c.messages(1000, timeout=30)
    assert [m for m in got if m.startswith('c:')] == \
        [f'c:{i}' for i in range(500)]
    assert [m for m in got if m.startswith('s:')] == \
        [f's:{i}' for i in range(500)]
    assert c.rec.disconnects == []


def test_custom_ca_bundle_in_session(tls_url: str, tmp_path: Path) -> None:
    """A requests session that trusts the certificate works for both the
    HTTP requests and the WebSocket (verification stays on)."""
    import requests
    from client_harness import SyncHarness as Harness

    certfile = _cert_of(tls_url, tmp_path)
    session = requests.Session()
    session.verify = str(certfile)
    c = Harness(http_session=session)
    try:
        c.connect(tls_url)
        assert c.client.transport() == 'websocket'
        assert c.reply_to('trusted') == 'trusted'
    finally:
        c.close()


def _cert_of(url: str, directory: Path) -> Path:
    """Fetch the server's certificate (to trust it explicitly)."""
    import ssl

    host, port = url.split('//', 1)[1].split(':')
    pem = ssl.get_server_certificate((host, int(port)))
    path = directory / 'server.pem'
    path.write_text(pem)
    return path


def test_only_the_reader_releases_the_websocket_descriptor() -> None:
    """A descriptor closed under a thread still inside an SSL read is reused
    by the next connection, whose bytes the old TLS object then takes: the
    blocking client closes it only in the reader, once the writer is done
    (a real race, seen as UNEXPECTED_MESSAGE on the next wss connect; here
    with a recording stand-in for the websocket-client object)."""
    import threading

    import engineio
    from engineio.client import _Connection
    from engineio.sansio.client import ClientCore

    class Sock:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def shutdown(self, how: int) -> None:
            self.calls.append('shutdown')

    class WS:
        def __init__(self) -> None:
            self.sock = Sock()
            self.calls = self.sock.calls

        def send_close(self) -> None:
            self.calls.append('send_close')

        def shutdown(self) -> None:
            self.calls.append('close')

    client = engineio.Client(handle_sigint=False)
    conn = _Connection(ClientCore('http://127.0.0.1:1'), {})
    ws = WS()
    conn.core.websocket = ws
    release = threading.Event()
    conn.reader = threading.Thread(target=release.wait, args=(5,))
    conn.reader.start()
    try:
        client._ws_close(conn, ws, graceful=True)  # the writer, at its end
        assert ws.calls == ['send_close', 'shutdown']
    finally:
        release.set()
        conn.reader.join(5)
    # The reader has ended (as it does once woken): now the descriptor goes.
    client._ws_close(conn, ws, graceful=False)
    assert ws.calls[-1] == 'close'
    # A WebSocket the loops do not use (a failed probe) closes at once.
    probe = WS()
    conn.reader = threading.Thread(target=release.wait, args=(5,))
    client._ws_close(conn, probe, graceful=False)
    assert probe.calls == ['shutdown', 'close']
