"""The ceiling of the gevent figure: a bare gevent-websocket echo (pywsgi
with ``WebSocketHandler``), greeting with a fixed Engine.IO open packet like
bare_asgi.py."""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
args = parser.parse_args()

OPEN = ('0{"sid":"bare","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')


def app(environ, start_response):
    ws = environ.get('wsgi.websocket')
    if ws is None:
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', '2')])
        return [b'ok']
    ws.send(OPEN)
    while True:
        message = ws.receive()
        if message is None:
            break
        ws.send(message, binary=not isinstance(message, str))
    return []


print(f'bare gevent-websocket echo; gevent {gevent.__version__}',
      file=sys.stderr, flush=True)
pywsgi.WSGIServer(('127.0.0.1', args.port), app, log=None, backlog=4096,
                  handler_class=WebSocketHandler).serve_forever()
