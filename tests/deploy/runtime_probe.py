"""Checks of one async mode's primitives, run in a fresh interpreter.

Each mode gets its own process so eventlet's and gevent's import-time
effects never meet each other or the test runner.  Prints one JSON line.

    python runtime_probe.py primitives MODE [--fake-uwsgi]
    python runtime_probe.py select [--mode M] [--block MOD]... [--uwsgi-loop L]

``--block MOD`` makes ``import MOD`` fail as if it were not installed;
``--uwsgi-loop L`` / ``--fake-uwsgi`` stand in a ``uwsgi`` module whose
``loop`` is L (bytes, as uWSGI sets it), as inside ``uwsgi --gevent``.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import types
from typing import Any

#: Every wait below is bounded by this; a primitive that blocks the whole
#: process (a real lock or event under green threads) shows as a timeout.
LIMIT = 3.0


def fake_uwsgi(loop: str | None) -> None:
    module = types.ModuleType('uwsgi')
    if loop is not None:
        module.loop = loop.encode()  # type: ignore[attr-defined]
    sys.modules['uwsgi'] = module


def primitives(mode: str) -> dict[str, Any]:
    import engineio

    eio = engineio.Server(async_mode=mode)
    out: dict[str, Any] = {'async_mode': eio.async_mode}
    main_thread = threading.get_ident()
    threads: set[int] = set()

    # An event waited on in one task is set by another: a wait that blocked
    # the process (not just the task) would let the setter never run.
    event = eio.create_event()
    log: list[Any] = []

    def waiter() -> None:
        threads.add(threading.get_ident())
        log.append(('waited', event.wait(LIMIT)))

    def setter() -> None:
        threads.add(threading.get_ident())
        eio.sleep(0.05)
        log.append('set')
        event.set()

    start = time.monotonic()
    tasks = [eio.start_background_task(waiter),
             eio.start_background_task(setter)]
    for task in tasks:
        task.join(LIMIT)
    out['event'] = {'log': log, 'seconds': time.monotonic() - start}

    # A queue read in one task is fed by another; an empty queue raises the
    # mode's own exception.
    queue = eio.create_queue()
    got: list[Any] = []

    def consumer() -> None:
        got.append(queue.get(timeout=LIMIT))

    def producer() -> None:
        eio.sleep(0.05)
        queue.put('item')

    start = time.monotonic()
    tasks = [eio.start_background_task(consumer),
             eio.start_background_task(producer)]
    for task in tasks:
        task.join(LIMIT)
    empty_raised = False
    try:
        queue.get(timeout=0.01)
    except eio.get_queue_empty_exception():
        empty_raised = True
    out['queue'] = {'got': got, 'seconds': time.monotonic() - start,
                    'empty_raised': empty_raised,
                    'joinable': hasattr(queue, 'task_done')
                    and hasattr(queue, 'join')}

    # The server's lock held across a sleep by one task: another task that
    # waits for it must not stop a third from running meanwhile.
    order: list[str] = []

    def holder() -> None:
        with eio._lock:
            order.append('held')
            eio.sleep(0.1)
        order.append('released')

    def contender() -> None:
        eio.sleep(0.02)
        with eio._lock:
            order.append('acquired')

    def bystander() -> None:
        eio.sleep(0.05)
        order.append('bystander')

    start = time.monotonic()
    tasks = [eio.start_background_task(f)
             for f in (holder, contender, bystander)]
    for task in tasks:
        task.join(LIMIT)
    out['lock'] = {'order': order, 'seconds': time.monotonic() - start}

    # The message-handler pool: two jobs that need each other to finish
    # must run at the same time.
    first, second = eio.create_event(), eio.create_event()
    done = eio.create_event()
    pool_log: list[str] = []

    def job_a() -> None:
        threads.add(threading.get_ident())
        first.set()
        if second.wait(LIMIT):
            pool_log.append('a')
        done.set()

    def job_b() -> None:
        if first.wait(LIMIT):
            pool_log.append('b')
        second.set()

    start = time.monotonic()
    eio._pool.submit(job_a)
    eio._pool.submit(job_b)
    done.wait(LIMIT)
    out['pool'] = {'log': sorted(pool_log),
                   'seconds': time.monotonic() - start}
    out['all_in_main_thread'] = threads == {main_thread}

    # shutdown() stops the server's timer task, joining it.
    eio._start_service()
    eio.sleep(0.05)
    start = time.monotonic()
    eio.shutdown()
    out['shutdown'] = {'seconds': time.monotonic() - start,
                       'stopped': eio._service_task is None}
    out['event_type'] = f'{type(event).__module__}.{type(event).__name__}'
    return out


def select(mode: str | None, blocked: list[str],
           uwsgi_loop: str | None, fake: bool) -> dict[str, Any]:
    for name in blocked:
        # A None entry makes the import raise ImportError.
        sys.modules[name] = None  # type: ignore[assignment]
    if fake:
        fake_uwsgi(uwsgi_loop)
    import engineio
    try:
        return {'async_mode': engineio.Server(async_mode=mode).async_mode}
    except ValueError as exc:
        return {'error': str(exc)}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='command', required=True)
    prim = sub.add_parser('primitives')
    prim.add_argument('mode')
    prim.add_argument('--fake-uwsgi', action='store_true')
    sel = sub.add_parser('select')
    sel.add_argument('--mode')
    sel.add_argument('--block', action='append', default=[])
    sel.add_argument('--uwsgi-loop')
    sel.add_argument('--fake-uwsgi', action='store_true')
    args = parser.parse_args()
    if args.command == 'primitives':
        if args.fake_uwsgi:
            fake_uwsgi('gevent')
        result = primitives(args.mode)
    else:
        result = select(args.mode, args.block, args.uwsgi_loop,
                        args.fake_uwsgi or args.uwsgi_loop is not None)
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
