"""Manual reproducer (not collected by pytest): many short wss sessions of
one client kind through the test TLS proxy to the official server.

    python tests/client/stress_wss.py sync|async N

Prints each failed session (with the client's log) and the count.  Run it
with the CPU busy (two ``python3 -c "while True: pass"``) to see races.
"""
from __future__ import annotations

import logging
import pathlib
import sys
import tempfile
import time


def main(kind: str, sessions: int) -> int:
    here = pathlib.Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent), str(here.parents[1] / 'src')]
    from client_harness import HARNESSES
    from tls_proxy import TLSProxy

    from conftest import _node

    from support import make_self_signed

    logging.basicConfig(level=logging.WARNING,
                        format='%(threadName)s %(message)s')
    log = logging.getLogger('stress')
    log.setLevel(logging.INFO)
    server = _node()
    cert, key = make_self_signed(pathlib.Path(tempfile.mkdtemp()))
    proxy = TLSProxy(server.port, cert, key).start()
    url = f'wss://127.0.0.1:{proxy.port}'
    fails = 0
    started = time.monotonic()
    try:
        for i in range(sessions):
            c = HARNESSES[kind](ssl_verify=False, logger=log)
            try:
                c.connect(url, transports=['websocket'])
                for j in range(5):
                    assert c.reply_to(f'm{j}', timeout=5) == f'm{j}'
            except Exception as exc:
                fails += 1
                print('FAIL', i, type(exc).__name__, str(exc)[:300],
                      flush=True)
            finally:
                c.close()
    finally:
        proxy.stop()
        server.proc.stop()
    print(kind, 'fails', fails, 'of', sessions, 'in',
          f'{time.monotonic() - started:.1f} s')
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
