"""Engine.IO echo server, blocking ``engineio.Server`` under eventlet's
WSGI server, monkey-patched as usual.  One script for both Python targets.

    python eio_eventlet.py --port 8000
"""
import eventlet

eventlet.monkey_patch()

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
import eventlet.wsgi  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
args = parser.parse_args()

eio = engineio.Server(async_mode='eventlet')


@eio.on('message')
def message(sid, data):
    eio.send(sid, data)


app = engineio.WSGIApp(eio)
print(f'engineio {getattr(engineio, "__version__", "?")} from '
      f'{engineio.__file__}; eventlet {eventlet.__version__}',
      file=sys.stderr, flush=True)
eventlet.wsgi.server(eventlet.listen(('127.0.0.1', args.port), backlog=4096),
                     app, log_output=False, max_size=10000)
