"""Serve the echo app with daphne (Twisted) on 127.0.0.1."""
from __future__ import annotations

from daphne.server import Server

from asgi_common import listen, make_asgi_app

# Twisted binds the port itself: take a free one from the system first.
probe = listen()
port = probe.getsockname()[1]
probe.close()


def announce() -> None:
    print(f'READY {port}', flush=True)


server = Server(make_asgi_app(),
                endpoints=[f'tcp:port={port}:interface=127.0.0.1'],
                signal_handlers=True, verbosity=0, ready_callable=announce)
server.run()
