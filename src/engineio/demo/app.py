"""The demo application: an echo and chat server on :class:`AsyncServer`,
served by aiohttp (:func:`create_aiohttp_app`) or any ASGI server
(:func:`create_app`).

Messages the page sends (Engine.IO messages, JSON text or binary):

- ``{"type": "chat", "name": ..., "text": ...}``: broadcast to every
  connected session as ``{"type": "chat", "name", "text", "from"}``;
- the text ``__sid__``: answered with ``sid:<session id>``;
- anything else (latency probes, binary data, plain text): echoed back
  unchanged, text as text and binary as binary.

The server tells each page who is online: ``{"type": "welcome", ...}`` on
connect and ``{"type": "presence", ...}`` whenever someone comes or goes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import engineio

STATIC_DIR = Path(__file__).resolve().parent / 'static'

#: Longest chat text and name relayed to the other tabs.
MAX_CHAT_TEXT = 500
MAX_NAME = 40


def create_app(static_files: dict[str, Any] | None = None,
               **options: Any) -> tuple[Any, Any]:
    """Build the demo server and its ASGI application.

    :param static_files: extra static file rules, added to the demo's own
                         (``/`` is the page, ``/static/`` its files).
    :param options: :class:`engineio.AsyncServer` options; ``logger``
                    defaults to ``True`` so connections are printed.

    Returns ``(eio, app)``.
    """
    options.setdefault('async_mode', 'asgi')
    eio = create_server(**options)
    app = engineio.ASGIApp(eio, static_files={**_static_rules(),
                                              **(static_files or {})})
    return eio, app


def create_aiohttp_app(static_files: dict[str, str] | None = None,
                       **options: Any) -> tuple[Any, Any]:
    """Build the demo server attached to an aiohttp application.

    :param static_files: extra rules, URL path to a file or a directory.
    :param options: :class:`engineio.AsyncServer` options, as for
                    :func:`create_app`.

    Returns ``(eio, app)``, ``app`` an ``aiohttp.web.Application``.
    """
    from aiohttp import web

    options.setdefault('async_mode', 'aiohttp')
    eio = create_server(**options)
    app = web.Application()
    eio.attach(app)
    rules = {**_static_rules(), **(static_files or {})}
    for url, target in rules.items():
        path = Path(target)
        if path.is_dir():
            app.router.add_static(url, path)
        else:
            app.router.add_get(url, _file_handler(path))
    return eio, app


def _file_handler(path: Path) -> Any:
    from aiohttp import web

    async def serve(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)
    return serve


def _static_rules() -> dict[str, str]:
    return {'/': str(STATIC_DIR / 'index.html'), '/static': str(STATIC_DIR)}


def create_server(**options: Any) -> engineio.AsyncServer:
    """The demo's :class:`engineio.AsyncServer` with its event handlers.

    :param options: :class:`engineio.AsyncServer` options; ``logger``
                    defaults to ``True`` so connections are printed.
    """
    options.setdefault('logger', True)
    eio = engineio.AsyncServer(**options)
    online: dict[str, str] = {}  # sid -> short name shown to the others

    async def broadcast(data: Any) -> None:
        for sid in list(online):
            # A session that is closing is no longer in ``eio.sockets``
            # although its disconnect handler has not run yet: skip it.
            if sid in eio.sockets:
                await eio.send(sid, data)

    async def connect(sid: str, environ: dict[str, Any]) -> None:
        online[sid] = sid[:6]
        await eio.send(sid, {'type': 'welcome', 'sid': sid,
                             'online': len(online)})
        await broadcast({'type': 'presence', 'online': len(online),
                         'joined': online[sid]})

    async def message(sid: str, data: Any) -> None:
        if isinstance(data, dict) and data.get('type') == 'chat':
            name = str(data.get('name') or online.get(sid, sid[:6]))[:MAX_NAME]
            await broadcast({'type': 'chat', 'name': name,
                             'text': str(data.get('text', ''))[:MAX_CHAT_TEXT],
                             'from': sid[:6]})
        elif data == '__sid__':
            await eio.send(sid, f'sid:{sid}')
        else:
            await eio.send(sid, data)

    async def disconnect(sid: str, reason: str) -> None:
        name = online.pop(sid, sid[:6])
        await broadcast({'type': 'presence', 'online': len(online),
                         'left': name, 'reason': reason})

    eio.on('connect', connect)
    eio.on('message', message)
    eio.on('disconnect', disconnect)
    return eio
