"""HTTPS and WSS with a self-signed certificate (``ssl_verify``)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from client_harness import SyncHarness
from tls_proxy import TLSProxy, make_self_signed

from engineio.exceptions import ConnectionError

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
