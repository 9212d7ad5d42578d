"""python-socketio's admin instrumentation (``sio.instrument()``) on this
package's servers.

It wraps Engine.IO internals by name: ``eio._ok`` (saved and replaced),
``Socket.handle_post_request``, ``Socket._websocket_handler`` (then the
WebSocket's ``send``/``wait``) and ``Socket._send_ping`` (class-wide, with
``functools.partialmethod``), and reads ``eio.sockets``,
``eio._get_socket(sid).upgraded`` and ``eio.create_event()``.  The server
runs with a 1 s ping interval so the ping hook runs during the test.
"""
from __future__ import annotations

import importlib

from sio_scenarios import ALL_COUNTERS, run_admin

importlib.import_module('socketio')


def test_instrumented_server_websocket() -> None:
    result = run_admin('socketio_werkzeug.py', 'websocket')
    assert set(ALL_COUNTERS) <= set(result['aggregated']), result  # type: ignore[arg-type]
    # The transport the admin shows for this client is wrong (it says
    # 'polling'): see test_sio_surface.py::
    # test_direct_websocket_session_counts_as_upgraded.


def test_instrumented_server_polling_then_upgrade() -> None:
    result = run_admin('socketio_werkzeug.py', 'polling,websocket')
    assert set(ALL_COUNTERS) <= set(result['aggregated']), result  # type: ignore[arg-type]


def test_instrumented_server_polling_counts_output() -> None:
    # A shorter wait: the counters it waits for never come.
    result = run_admin('socketio_werkzeug.py', 'polling', timeout_ms=7000)
    assert set(ALL_COUNTERS) <= set(result['aggregated']), result  # type: ignore[arg-type]


def test_instrumented_async_server_polling_counts_traffic() -> None:
    # AsyncServer skips the long-polling hooks while nothing wraps them;
    # once instrument() has wrapped them, polling traffic goes through them.
    result = run_admin('socketio_uvicorn.py', 'polling', timeout_ms=7000)
    assert set(ALL_COUNTERS) <= set(result['aggregated']), result  # type: ignore[arg-type]


def test_instrumented_async_server_polling_then_upgrade() -> None:
    result = run_admin('socketio_uvicorn.py', 'polling,websocket')
    assert set(ALL_COUNTERS) <= set(result['aggregated']), result  # type: ignore[arg-type]
