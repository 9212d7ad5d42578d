"""The primitives each async mode hands out, and automatic mode selection.

Each check runs tests/deploy/runtime_probe.py in a fresh interpreter (one
per mode), so eventlet and gevent never share a process with each other or
with pytest.  Under a green runtime every task runs in the main OS thread,
and a primitive that blocked the thread instead of the green thread (a real
``threading.Event`` wait, a real lock) would starve the other tasks: the
probe's bounded waits would then time out, which these tests detect.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support import ROOT

PROBE = Path(__file__).resolve().parent / 'runtime_probe.py'


def _installed(*names: str) -> bool:
    return all(importlib.util.find_spec(n) is not None for n in names)


def probe(*args: str) -> dict[str, Any]:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT / 'src'), env.get('PYTHONPATH', '')])
    out = subprocess.run([sys.executable, str(PROBE), *args], env=env,
                         capture_output=True, text=True, timeout=60)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith('{')]
    assert lines, f'probe printed nothing:\n{out.stdout}\n{out.stderr}'
    result: dict[str, Any] = json.loads(lines[-1])
    return result


MODES = [
    pytest.param('threading', (), id='threading'),
    pytest.param('eventlet', (), id='eventlet'),
    pytest.param('gevent', (), id='gevent'),
    # The uWSGI mode shares gevent's primitives; a stand-in uwsgi module
    # lets it load outside a uWSGI server (its WebSocket is tested in
    # test_deployments under a real uWSGI).
    pytest.param('gevent_uwsgi', ('--fake-uwsgi',), id='gevent_uwsgi'),
]


@pytest.mark.parametrize(('mode', 'extra'), MODES)
def test_primitives_do_not_block_other_tasks(mode: str,
                                             extra: tuple[str, ...]) -> None:
    result = probe('primitives', mode, *extra)
    assert result['async_mode'] == mode
    # create_event: the waiter saw the set from the other task, quickly.
    assert result['event']['log'] == ['set', ['waited', True]], result
    assert result['event']['seconds'] < 1.5, result
    # create_queue / get_queue_empty_exception.
    assert result['queue']['got'] == ['item'], result
    assert result['queue']['seconds'] < 1.5, result
    assert result['queue']['empty_raised'], result
    assert result['queue']['joinable'], result
    # The server's lock: a task waiting for it let a third task run.
    assert result['lock']['order'] == ['held', 'bystander', 'released',
                                       'acquired'], result
    # The handler pool runs jobs concurrently.
    assert result['pool']['log'] == ['a', 'b'], result
    assert result['pool']['seconds'] < 1.5, result
    # shutdown() joins the server's timer task.
    assert result['shutdown']['stopped'], result
    assert result['shutdown']['seconds'] < 1.5, result
    # Green modes run every task in the main thread; threads do not.
    assert result['all_in_main_thread'] is (mode != 'threading'), result


def test_green_runtimes_are_installed() -> None:
    # ./run-tests.sh installs both; the selection tests below need them.
    assert _installed('eventlet', 'gevent')


@pytest.mark.parametrize(('args', 'expected'), [
    # The documented order: eventlet, gevent_uwsgi, gevent, threading.
    ((), 'eventlet'),
    (('--uwsgi-loop', 'gevent'), 'eventlet'),
    (('--block', 'eventlet', '--uwsgi-loop', 'gevent'), 'gevent_uwsgi'),
    # uWSGI without its gevent loop is not gevent_uwsgi.
    (('--block', 'eventlet', '--uwsgi-loop', 'ugreen'), 'gevent'),
    (('--block', 'eventlet'), 'gevent'),
    (('--block', 'eventlet', '--block', 'gevent'), 'threading'),
    (('--block', 'eventlet', '--block', 'gevent', '--uwsgi-loop', 'gevent'),
     'threading'),
], ids=['all', 'uwsgi+eventlet', 'uwsgi-gevent', 'uwsgi-other-loop',
        'no-eventlet', 'neither', 'uwsgi-without-gevent'])
def test_automatic_selection(args: tuple[str, ...], expected: str) -> None:
    assert probe('select', *args) == {'async_mode': expected}


@pytest.mark.parametrize(('args', 'message'), [
    (('--mode', 'eventlet', '--block', 'eventlet'), 'not installed'),
    (('--mode', 'gevent', '--block', 'gevent'), 'not installed'),
    (('--mode', 'gevent_uwsgi'), 'only inside a uWSGI server'),
    (('--mode', 'gevent_uwsgi', '--uwsgi-loop', 'ugreen'), '--gevent'),
    (('--mode', 'nonsense'), 'valid modes'),
])
def test_explicit_mode_that_cannot_run(args: tuple[str, ...],
                                       message: str) -> None:
    result = probe('select', *args)
    assert 'error' in result and message in result['error'], result
