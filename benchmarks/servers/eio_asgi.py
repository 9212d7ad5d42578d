"""Engine.IO echo server on uvicorn (uvloop + httptools): one script for
both Python targets.

The API of ``engineio.AsyncServer`` is the same in this project and in
python-engineio, so the target is chosen by the interpreter that runs the
script: benchmarks/.venvs/ours (with PYTHONPATH pointing at src/) or
benchmarks/.venvs/pe4151 (python-engineio 4.15.1 from PyPI).

    python eio_asgi.py --port 8000
"""
import argparse
import os
import sys

import uvicorn

import engineio

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--ws', default='auto',
                    help="uvicorn's WebSocket implementation")
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
    # project only: measured as the 'ours-patched' target of run.py.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from experiments import fastpath
    print('patched:', fastpath.apply(os.environ['EIO_BENCH_PATCH']),
          file=sys.stderr, flush=True)

eio = engineio.AsyncServer(async_mode='asgi')


@eio.on('message')
async def message(sid, data):
    await eio.send(sid, data)


app = engineio.ASGIApp(eio)

print(f'engineio {getattr(engineio, "__version__", "?")} from '
      f'{engineio.__file__}; uvicorn {uvicorn.__version__}',
      file=sys.stderr, flush=True)
uvicorn.run(app, host='127.0.0.1', port=args.port, loop='uvloop',
            http='httptools', ws=args.ws, log_level='warning',
            access_log=False, backlog=4096)
