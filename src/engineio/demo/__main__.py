"""``python -m engineio.demo [--host 127.0.0.1] [--port 8000] [--server NAME]``

Serves the demo page and an :class:`engineio.AsyncServer`. The web server is
aiohttp on uvloop (the fastest deployment measured, see docs/benchmarks.md)
when aiohttp is installed, else uvicorn; ``--server`` picks one. The port
comes from ``--port``, else from ``$PORT``, else 8000; ``0`` picks a free
one. The server's log shows one line per connect, upgrade and disconnect.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import socket
import sys

SERVERS = {'aiohttp': 'aiohttp', 'uvicorn': 'uvicorn'}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m engineio.demo',
        description='Engine.IO demo: latency graph, transport upgrade, chat.')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int,
                        default=int(os.environ.get('PORT') or 8000),
                        help='port (default $PORT or 8000; 0: any free port)')
    parser.add_argument('--server', choices=sorted(SERVERS),
                        help='web server (default: aiohttp if installed, '
                             'else uvicorn)')
    args = parser.parse_args(argv)

    server = args.server or next(
        (name for name, module in SERVERS.items()
         if importlib.util.find_spec(module) is not None), 'aiohttp')
    if importlib.util.find_spec(SERVERS[server]) is None:
        extra = 'aiohttp' if server == 'aiohttp' else 'asgi'
        print(f'The demo on {server} needs it: pip install "engineio[{extra}]"',
              file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.INFO, format='%(asctime)s  %(message)s',
                        datefmt='%H:%M:%S')
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f'Cannot listen on {args.host}:{args.port}: {exc}. '
              'Set PORT (or --port) to a free port.', file=sys.stderr)
        return 1
    sock.listen(128)
    port = sock.getsockname()[1]
    # The socket is listening already: connections wait in its backlog
    # until the server accepts them, so the URL is usable once printed.
    print(f'Engine.IO demo running at http://{args.host}:{port}/ on {server} '
          '(open it in two or more tabs; Ctrl+C stops)', flush=True)
    if server == 'aiohttp':
        _run_aiohttp(sock)
    else:
        _run_uvicorn(sock)
    return 0


def _run_aiohttp(sock: socket.socket) -> None:
    from aiohttp import web

    from .app import create_aiohttp_app

    loop: asyncio.AbstractEventLoop
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    _, app = create_aiohttp_app()
    web.run_app(app, sock=sock, print=None, access_log=None, loop=loop)


def _run_uvicorn(sock: socket.socket) -> None:
    import uvicorn

    from .app import create_app

    _, app = create_app()
    config = uvicorn.Config(app, log_level='warning', access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == '__main__':
    sys.exit(main())
