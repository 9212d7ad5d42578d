"""Flask's threaded development server with the Engine.IO app mounted."""
from __future__ import annotations

import time

import pytest
import requests

from support import node_client, start_server


@pytest.fixture(scope='module')
def flask_url(node_peers):
    proc, port = start_server('flask_server.py', {'async_mode': 'threading'})
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # app.run binds after READY
        try:
            requests.get(url + '/hello', timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url
    proc.stop()


def test_flask_routes_still_work(flask_url):
    assert requests.get(flask_url + '/hello', timeout=5).text == \
        'flask says hello'


@pytest.mark.parametrize('transports', ['polling', 'websocket',
                                        'polling,websocket'])
def test_engineio_under_flask(flask_url, transports):
    result = node_client(flask_url, 'echo', transports)
    assert result['ok'], result
    if ',' in transports:
        assert result['upgraded']
