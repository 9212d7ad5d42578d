"""Routing shared by the WSGI and ASGI applications: the Engine.IO path,
static files, another application, or 404.  Pure functions."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

CONTENT_TYPES = {
    '.html': 'text/html',
    '.htm': 'text/html',
    '.css': 'text/css',
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.json': 'application/json',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.png': 'image/png',
    '.gif': 'image/gif',
    '.svg': 'image/svg+xml',
    '.ico': 'image/x-icon',
    '.txt': 'text/plain',
    '.map': 'application/json',
    '.wasm': 'application/wasm',
}
DEFAULT_CONTENT_TYPE = 'application/octet-stream'
DEFAULT_FILENAME = 'index.html'


class StaticFile(NamedTuple):
    filename: str
    content_type: str


def normalize_engineio_path(engineio_path: str) -> str:
    """``'engine.io'`` -> ``'/engine.io/'``."""
    stripped = engineio_path.strip('/')
    return f'/{stripped}/' if stripped else '/'


def is_engineio_path(path: str, engineio_path: str) -> bool:
    """Whether a request path belongs to the Engine.IO endpoint.

    ``engineio_path`` is normalized (see :func:`normalize_engineio_path`);
    the path without its trailing slash matches too.
    """
    return path.startswith(engineio_path) or path == engineio_path[:-1]


def _rule(value: Any) -> tuple[str, str | None]:
    if isinstance(value, dict):
        return value['filename'], value.get('content_type')
    return value, None


def content_type_for(filename: str) -> str:
    return CONTENT_TYPES.get(os.path.splitext(filename)[1].lower(),
                             DEFAULT_CONTENT_TYPE)


def find_static_file(path: str, static_files: Mapping[str, Any] | None
                     ) -> StaticFile | None:
    """Resolve a request path against the static file rules.

    A key that equals the path maps to a file; a key that is a prefix of the
    path (at a ``/`` boundary) maps to a directory, the rest of the path
    naming a file in it.  A path ending in ``/`` gets the default file (the
    ``''`` key, else ``index.html``).  Paths that try to leave their
    directory (``..``) resolve to nothing.
    """
    if not static_files:
        return None
    if '\x00' in path:
        return None
    default_name, default_type = _rule(static_files.get('', DEFAULT_FILENAME))
    if path in static_files:
        filename, ctype = _rule(static_files[path])
        return StaticFile(filename, ctype or content_type_for(filename))
    best = None
    for key in static_files:
        if not key or not path.startswith(key):
            continue
        at_boundary = key.endswith('/') or path == key or path[len(key)] == '/'
        if at_boundary and (best is None or len(key) > len(best)):
            best = key
    if best is None:
        return None
    base, ctype = _rule(static_files[best])
    rest = path[len(best):].lstrip('/')
    if isinstance(static_files[best], dict) and not rest:
        return StaticFile(base, ctype or content_type_for(base))
    use_default = path.endswith('/') or not rest
    parts = [p for p in rest.split('/') if p]
    if any(p in ('..', '.') or '\\' in p for p in parts):
        return None
    if use_default:
        parts.append(default_name)
        filename = os.path.join(base, *parts)
        return StaticFile(filename, default_type or content_type_for(filename))
    filename = os.path.join(base, *parts)
    return StaticFile(filename, content_type_for(filename))


def read_static_file(static: StaticFile) -> bytes | None:
    """The file's bytes, or None when it does not exist (answered 404)."""
    try:
        with open(static.filename, 'rb') as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
