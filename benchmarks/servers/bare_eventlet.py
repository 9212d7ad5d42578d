"""The ceiling of the eventlet rows of the blocking figure: a bare
``eventlet.websocket`` echo on ``eventlet.wsgi``, the same WebSocket
implementation and WSGI server eio_eventlet.py runs on, monkey-patched the
same way, no Engine.IO.

Like bare_gevent.py it greets each WebSocket with a fixed Engine.IO open
packet, so the load generator drives it exactly as it drives the Engine.IO
servers, then echoes every message back unchanged.  Plain HTTP requests get
a fixed 200 answer.

    python bare_eventlet.py --port 8000
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import sys  # noqa: E402

import eventlet.websocket  # noqa: E402
import eventlet.wsgi  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
args = parser.parse_args()

OPEN = ('0{"sid":"bare","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')


@eventlet.websocket.WebSocketWSGI
def echo(ws):
    ws.send(OPEN)
    while True:
        message = ws.wait()
        if message is None:
            break
        # wait() gives str for text frames and bytes for binary ones, and
        # send() picks the frame type the same way: the echo keeps it.
        ws.send(message)


def app(environ, start_response):
    if environ.get('HTTP_UPGRADE', '').lower() == 'websocket':
        return echo(environ, start_response)
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '2')])
    return [b'ok']


print(f'bare eventlet.websocket echo; eventlet {eventlet.__version__}',
      file=sys.stderr, flush=True)
eventlet.wsgi.server(eventlet.listen(('127.0.0.1', args.port), backlog=4096),
                     app, log_output=False, max_size=10000)
