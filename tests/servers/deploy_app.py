"""The echo app as a module-level WSGI callable, for servers that import
an application by name: ``gunicorn deploy_app:app`` and
``uwsgi --wsgi-file deploy_app.py --callable app``."""
from __future__ import annotations

from echo_app import make_wsgi_app

app = make_wsgi_app()
