"""The shared scenario table (tests/scenarios) against AsyncServer, so the
blocking and asyncio drivers cannot drift apart on the wire."""
from __future__ import annotations

import sys

import pytest

from scenarios.runner import run
from scenarios.table import OPTIONS, SCENARIOS

from support import SERVERS, start_server

SETUPS = {'uvicorn': ['asgi_uvicorn.py'], 'aiohttp': ['aiohttp_server.py'],
          'tornado': ['tornado_server.py'], 'sanic': ['sanic_server.py']}


@pytest.fixture(scope='module', params=list(SETUPS))
def base_url(request):
    args = SETUPS[request.param]
    proc, port = start_server([sys.executable, str(SERVERS / args[0]),
                               *args[1:]], OPTIONS)
    yield f'http://127.0.0.1:{port}'
    proc.stop()


@pytest.mark.parametrize('name', list(SCENARIOS))
def test_scenario(base_url, name):
    run(base_url, name)
