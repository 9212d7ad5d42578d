"""What a driver's timer loop does, on every server mode: the core says
which timer commands run in the loop (waking a poll) and which run apart
(writes, handlers), so one session's slow ``disconnect`` handler cannot
delay another session's heartbeat, whatever ``async_handlers`` says."""
from __future__ import annotations

import itertools
import json
import time

import pytest
import requests
import websocket

from .modes import CORE_MODES, OTHER_ASYNC_MODES, mode_ids, serve

MODES = CORE_MODES + OTHER_ASYNC_MODES
INTERVAL = 0.5
SLOW = 2.0


@pytest.mark.parametrize('mode', MODES, ids=mode_ids(MODES))
def test_slow_disconnect_handler_delays_no_ping(mode):
    served = serve(mode, {'ping_interval': INTERVAL, 'ping_timeout': INTERVAL,
                          'async_handlers': False},
                   env={'EIO_SLOW_DISCONNECT': str(SLOW)})
    try:
        # B: a WebSocket session that answers every ping.
        ws = websocket.create_connection(
            served.url.replace('http', 'ws', 1)
            + '/engine.io/?EIO=4&transport=websocket', timeout=5)
        assert ws.recv().startswith('0{')
        # A: a polling session that never polls again: it times out after
        # about two intervals and its disconnect handler then runs SLOW s.
        r = requests.get(f'{served.url}/engine.io/?EIO=4&transport=polling',
                         timeout=5)
        sid_a = json.loads(r.text[1:])['sid']
        pings = []
        deadline = time.monotonic() + 2 * INTERVAL + SLOW + 1
        ws.settimeout(2 * INTERVAL + SLOW)
        while time.monotonic() < deadline:
            frame = ws.recv()
            if frame == '2':
                pings.append(time.monotonic())
                ws.send('3')
        served.wait_disconnect(sid_a, timeout=1)
        ws.close()
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert len(pings) >= 5, (mode.name, pings)
        # One interval between pings (plus scheduling on a busy machine),
        # never the handler's SLOW seconds.
        assert max(gaps) < INTERVAL + 0.9 < SLOW, (mode.name, gaps)
    finally:
        served.stop()
