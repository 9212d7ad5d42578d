from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.serving import make_server

import engineio


class Served:
    def __init__(self, eio: engineio.Server, app: Any) -> None:
        self.eio = eio
        self.server = make_server('127.0.0.1', 0, app, threaded=True)
        self.url = f'http://127.0.0.1:{self.server.server_port}'
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.eio.disconnect()
        self.eio.shutdown()
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def serve() -> Callable[..., Served]:
    """Serve a Server (built by the test) under Werkzeug on 127.0.0.1."""
    started: list[Served] = []

    def start(eio: engineio.Server, app: Any = None) -> Served:
        s = Served(eio, app or engineio.WSGIApp(eio))
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
