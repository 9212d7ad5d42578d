"""Engine.IO echo server, blocking ``engineio.Server`` under gevent:
gevent's pywsgi server with gevent-websocket's ``WebSocketHandler`` (the
deployment python-engineio documents for gevent), monkey-patched as usual.

Like eio_asgi.py, one script serves both Python targets: the interpreter
decides which ``engineio`` is imported.

    python eio_gevent.py --port 8000 [--no-gevent-websocket]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import engineio  # noqa: E402

if os.environ.get('EIO_BENCH_PATCH'):
    # Candidate fast paths (benchmarks/experiments/fastpath.py), this
    # project only.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from experiments import fastpath
    print('patched:', fastpath.apply(os.environ['EIO_BENCH_PATCH']),
          file=sys.stderr, flush=True)
import gevent  # noqa: E402
from gevent import pywsgi  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--no-gevent-websocket', action='store_true',
                    help="plain pywsgi (this project's own WebSocket "
                         'over the raw socket; python-engineio needs '
                         'gevent-websocket or simple-websocket)')
args = parser.parse_args()

eio = engineio.Server(async_mode='gevent')


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


app = engineio.WSGIApp(eio)
kwargs = {}
if not args.no_gevent_websocket:
    from geventwebsocket.handler import WebSocketHandler
    kwargs['handler_class'] = WebSocketHandler
print(f'engineio {getattr(engineio, "__version__", "?")} from '
      f'{engineio.__file__}; gevent {gevent.__version__} '
      f'{"pywsgi" if args.no_gevent_websocket else "gevent-websocket"}',
      file=sys.stderr, flush=True)
pywsgi.WSGIServer(('127.0.0.1', args.port), app, log=None, backlog=4096,
                  **kwargs).serve_forever()
