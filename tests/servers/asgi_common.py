"""Shared pieces of the asyncio test servers: the echo ASGI app and a
listening socket on 127.0.0.1 whose port is announced with ``READY``."""
from __future__ import annotations

import socket
from typing import Any

import engineio

from echo_app import OPTIONS, install


def listen() -> socket.socket:
    """A listening socket on 127.0.0.1 with a port chosen by the system."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(128)
    sock.set_inheritable(True)
    # Event loops (tornado's in particular) expect a non-blocking socket.
    sock.setblocking(False)
    return sock


def ready(sock: socket.socket) -> None:
    # Connections made from now on wait in the backlog until the server
    # accepts them, so announcing before the server runs is safe.
    print(f'READY {sock.getsockname()[1]}', flush=True)


def make_server(async_mode: str) -> Any:
    options = dict(OPTIONS)
    options.setdefault('async_mode', async_mode)
    eio = engineio.AsyncServer(**options)
    install(eio, is_async=True)
    return eio


def make_asgi_app(**kwargs: Any) -> Any:
    return engineio.ASGIApp(make_server('asgi'), **kwargs)
