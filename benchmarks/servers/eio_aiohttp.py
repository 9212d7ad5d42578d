"""Engine.IO echo server on aiohttp (``web.run_app`` on uvloop when it is
installed): one script for both Python targets, like eio_asgi.py.

The API of ``engineio.AsyncServer`` is the same in this project and in
python-engineio, so the target is chosen by the interpreter that runs the
script: benchmarks/.venvs/ours (with PYTHONPATH pointing at src/) or
benchmarks/.venvs/pe4151 (python-engineio 4.15.1 from PyPI).

    python eio_aiohttp.py --port 8000
"""
import argparse
import asyncio
import os
import sys

import aiohttp
from aiohttp import web

import engineio

try:
    import uvloop
except ImportError:  # pragma: no cover - the benchmark venvs have it
    uvloop = None

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--no-uvloop', action='store_true',
                    help="aiohttp on asyncio's own event loop")
parser.add_argument('--reuse-port', action='store_true',
                    help='SO_REUSEPORT: several processes of this script listen '
                         'on one port and the kernel spreads the connections '
                         '(the multiproc figure)')
args = parser.parse_args()

if os.environ.get('EIO_BENCH_GC'):
    # An application's choice, measured as one (docs/deployment.md): fewer
    # young-generation collections, and none of them over the objects that
    # exist once the server has started.
    import gc
    gc.set_threshold(int(os.environ['EIO_BENCH_GC']))
    gc.freeze()

if os.environ.get('EIO_BENCH_PATCH'):
    # Candidate fast paths (benchmarks/experiments/fastpath.py), this
    # project only.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from experiments import fastpath
    print('patched:', fastpath.apply(os.environ['EIO_BENCH_PATCH']),
          file=sys.stderr, flush=True)

eio = engineio.AsyncServer(async_mode='aiohttp')


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


app = web.Application()
eio.attach(app)

use_uvloop = uvloop is not None and not args.no_uvloop
loop = uvloop.new_event_loop() if use_uvloop else asyncio.new_event_loop()
asyncio.set_event_loop(loop)
print(f'engineio {getattr(engineio, "__version__", "?")} from '
      f'{engineio.__file__}; aiohttp {aiohttp.__version__} on '
      f'{"uvloop " + uvloop.__version__ if use_uvloop else "asyncio"}',
      file=sys.stderr, flush=True)
web.run_app(app, host='127.0.0.1', port=args.port, access_log=None,
            print=None, backlog=4096, loop=loop,
            reuse_port=args.reuse_port or None)
