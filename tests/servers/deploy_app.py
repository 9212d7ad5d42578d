"""The echo app as a module-level WSGI callable, for servers that import
an application by name: ``gunicorn deploy_app:app`` and
``uwsgi --wsgi-file deploy_app.py --callable app``.

gunicorn and uWSGI print no ``READY <port>`` line of their own; when the
test passes the port it bound the server to in ``EIO_DEPLOY_PORT``, loading
the app prints it (the test then still polls until the server answers).
"""
from __future__ import annotations

import os

from echo_app import make_wsgi_app

app = make_wsgi_app()

if os.environ.get('EIO_DEPLOY_PORT'):
    print(f'READY {os.environ["EIO_DEPLOY_PORT"]}', flush=True)
