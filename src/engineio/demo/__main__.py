"""``python -m engineio.demo [--host 127.0.0.1] [--port 8000]``

Serves the demo page and an :class:`engineio.AsyncServer` with uvicorn. The
port comes from ``--port``, else from ``$PORT``, else 8000; ``0`` picks a
free one. The server's log shows one line per connect, upgrade and
disconnect.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from .app import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m engineio.demo',
        description='Engine.IO demo: latency graph, transport upgrade, chat.')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int,
                        default=int(os.environ.get('PORT') or 8000),
                        help='port (default $PORT or 8000; 0: any free port)')
    args = parser.parse_args(argv)

    try:
        import uvicorn
    except ImportError:
        print('The demo needs uvicorn: pip install "uvicorn[standard]"',
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

    _, app = create_app()
    config = uvicorn.Config(app, log_level='warning', access_log=False)
    server = uvicorn.Server(config)
    # The socket is listening already: connections wait in its backlog
    # until uvicorn accepts them, so the URL is usable once printed.
    print(f'Engine.IO demo running at http://{args.host}:{port}/ '
          '(open it in two or more tabs; Ctrl+C stops)', flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == '__main__':
    sys.exit(main())
