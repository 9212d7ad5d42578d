"""The client examples, and SIGINT handling, in child processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from support import ROOT, Proc

pytestmark = pytest.mark.node

EXAMPLES = ROOT / 'examples' / 'client'


@pytest.mark.parametrize('example', ['sync_client.py', 'async_client.py'])
@pytest.mark.parametrize('transport', [None, 'polling', 'websocket'])
def test_example_runs(node: Any, example: str, transport: str | None) -> None:
    args = [sys.executable, str(EXAMPLES / example), node.url]
    if transport:
        args += ['--transport', transport]
    env = dict(os.environ, PYTHONPATH=str(ROOT / 'src'))
    out = subprocess.run(args, capture_output=True, text=True, timeout=30,
                         env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count('reply: ') == 3
    assert "reply: b'\\x00\\x01 some bytes'" in out.stdout
    assert "reply: {'json': [1, 2, 3]}" in out.stdout
    assert f'transport: {transport or "websocket"}' in out.stdout
    assert 'disconnected (client disconnect)' in out.stdout


# Each script first gives SIGINT Python's usual handler: a child inherits an
# ignored SIGINT (a run started in the background by a non-interactive
# shell ignores it), and the client rightly leaves an ignored SIGINT alone.
SYNC_SCRIPT = '''
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import engineio
eio = engineio.Client()
eio.on('disconnect', lambda reason: print('disconnect:', reason, eio.state,
                                          flush=True))
eio.connect({url!r}, transports={transports!r})
try:
    print('READY', eio.sid, flush=True)
    eio.wait()
except KeyboardInterrupt:
    print('interrupted', eio.state, flush=True)
'''

ASYNC_SCRIPT = '''
import asyncio
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import engineio

async def main():
    eio = engineio.AsyncClient()
    eio.on('disconnect', lambda reason: print('disconnect:', reason,
                                              eio.state, flush=True))
    await eio.connect({url!r}, transports={transports!r})
    try:
        print('READY', eio.sid, flush=True)
        await eio.wait()
    finally:
        print('finally', eio.state, flush=True)

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print('interrupted', flush=True)
'''


@pytest.mark.parametrize('script', [SYNC_SCRIPT, ASYNC_SCRIPT],
                         ids=['sync', 'async'])
@pytest.mark.parametrize('transports', [None, ['polling']],
                         ids=['default', 'polling'])
def test_sigint_disconnects_cleanly(node: Any, script: str,
                                    transports: Any) -> None:
    code = textwrap.dedent(script).format(url=node.url, transports=transports)
    proc = Proc([sys.executable, '-c', code])
    try:
        sid = proc.wait_for(r'READY (\S+)', 15).group(1)
        os.kill(proc.proc.pid, signal.SIGINT)
        proc.wait_for('disconnect: client disconnect disconnecting', 10)
        proc.wait_for('interrupted', 10)
        # The server saw the close packet, not a vanished client.
        node.proc.wait_for(f'"event":"close","sid":"{sid}"', 10)
        assert proc.proc.wait(10) is not None
    finally:
        proc.stop()
