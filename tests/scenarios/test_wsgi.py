"""The scenario table against the blocking server under Werkzeug."""
from __future__ import annotations

import pytest

from .runner import run
from .table import OPTIONS, SCENARIOS
from support import start_server


@pytest.fixture(scope='module')
def base_url():
    proc, port = start_server('werkzeug_server.py',
                              dict(OPTIONS, async_mode='threading'))
    yield f'http://127.0.0.1:{port}'
    proc.stop()


@pytest.mark.parametrize('name', list(SCENARIOS))
def test_scenario(base_url, name):
    run(base_url, name)
