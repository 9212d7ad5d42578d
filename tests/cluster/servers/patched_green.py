"""The echo app on eventlet's or gevent's own WSGI server, in a monkey
patched process (``patched_green.py eventlet|gevent``): what a cluster
needs under green threads, as the ``redis`` package uses the standard
socket module (gunicorn's eventlet and gevent workers patch the same way).
"""
from __future__ import annotations

import sys

kind = sys.argv[1]
if kind == 'eventlet':
    import eventlet
    eventlet.monkey_patch()
else:
    from gevent import monkey
    monkey.patch_all()

from echo_app import make_wsgi_app  # noqa: E402 - after the patching

app = make_wsgi_app()
if kind == 'eventlet':
    import eventlet.wsgi
    listener = eventlet.listen(('127.0.0.1', 0))
    print(f'READY {listener.getsockname()[1]}', flush=True)
    eventlet.wsgi.server(listener, app, log_output=False)
else:
    from gevent import pywsgi
    server = pywsgi.WSGIServer(('127.0.0.1', 0), app, log=None)
    server.start()
    print(f'READY {server.server_port}', flush=True)
    server.serve_forever()
