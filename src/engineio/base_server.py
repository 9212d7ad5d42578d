"""What :class:`Server` and :class:`AsyncServer` share that is not protocol:
options, handler registration, logging, session ids and user sessions."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from . import packet
from .handlers import EventHandlers
from .sansio.events import Reason
from .sansio.models import Request, status_line
from .sansio.server import COMPRESSION_METHODS, ServerConfig, ServerCore

default_logger = logging.getLogger('engineio.server')


class BaseServer(EventHandlers):
    """Options, handlers and bookkeeping common to both servers."""

    _disconnect_fixed_args = 1

    compression_methods = list(COMPRESSION_METHODS)
    event_names = ['connect', 'disconnect', 'message', 'connection_error']
    valid_transports = ['polling', 'websocket']
    reason = Reason

    def __init__(self, async_mode: str | None = None,
                 ping_interval: float | tuple[float, float] = 25,
                 ping_timeout: float = 20,
                 max_http_buffer_size: int = 1000000,
                 allow_upgrades: bool = True,
                 http_compression: bool = True,
                 compression_threshold: int = 1024,
                 cookie: str | dict[str, Any] | None = None,
                 cors_allowed_origins: Any = None,
                 cors_credentials: bool = True,
                 logger: Any = False, json: Any = None,
                 async_handlers: bool = True,
                 monitor_clients: bool | None = None,
                 transports: list[str] | None = None,
                 max_outgoing_buffer_size: int | None = 16_000_000,
                 allow_request: Callable[..., Any] | None = None,
                 initial_packet: Any = None,
                 allow_eio3: bool = False,
                 websocket_compression: bool | dict[str, Any] = False,
                 **kwargs: Any) -> None:
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        self.allow_upgrades = allow_upgrades
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.cookie = cookie
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.async_handlers = async_handlers
        self.monitor_clients = monitor_clients is not False
        self.config = ServerConfig(
            ping_interval=ping_interval, ping_timeout=ping_timeout,
            max_http_buffer_size=max_http_buffer_size,
            allow_upgrades=allow_upgrades, http_compression=http_compression,
            compression_threshold=compression_threshold, cookie=cookie,
            cors_allowed_origins=cors_allowed_origins,
            cors_credentials=cors_credentials, transports=transports,
            enforce_timeouts=self.monitor_clients,
            max_outgoing_buffer_size=max_outgoing_buffer_size,
            initial_packet=initial_packet, allow_eio3=allow_eio3,
            websocket_compression=websocket_compression)
        self.websocket_compression = websocket_compression
        self.max_outgoing_buffer_size = max_outgoing_buffer_size
        self.allow_request = allow_request
        self.initial_packet = initial_packet
        self.allow_eio3 = allow_eio3
        self.transports = list(self.config.transports)
        self.core = ServerCore(self.config)
        #: Open sessions by sid (the per-session socket objects).
        self.sockets: dict[str, Any] = self.core.sessions
        self._setup_handlers(logger, json, default_logger)
        self.async_mode = self._select_async_mode(async_mode)

    def _select_async_mode(self, async_mode: str | None) -> str:
        raise NotImplementedError

    def generate_id(self) -> str:
        """Generate a unique session id."""
        return secrets.token_urlsafe(15)

    def transport(self, sid: str) -> str:
        """Return the name of the transport used by the client.

        The two possible values returned by this function are ``'polling'``
        and ``'websocket'``.

        :param sid: The session of the client.
        """
        return self._get_socket(sid).transport  # type: ignore[no-any-return]

    def _get_socket(self, sid: str) -> Any:
        """The socket object of an open session; KeyError if there is none."""
        socket = self.sockets.get(sid)
        if socket is None or socket.closed:
            raise KeyError('Session is disconnected')
        return socket

    def _disconnect_args(self, sid: str, reason: str) -> tuple[Any, ...]:
        return (sid, reason) if self._disconnect_takes_reason else (sid,)

    def _log_refusal(self, refusal: Any, method: str = '') -> None:
        """Log a refused request once, with the reason for the operator."""
        self.logger.warning('%s request refused (%d %s): %s', method,
                            int(refusal.code), refusal.message, refusal.detail)

    @staticmethod
    def _get_compressed_sizes() -> None:  # pragma: no cover - compat shim
        return None

    def _polling_context(self, environ: dict[str, Any]) -> tuple[Any, Any]:
        """The request model and CORS headers :meth:`handle_request` already
        decided for a polling request, as its hooks receive only the environ
        (python-socketio's admin wraps them by that signature).  A hook
        called on its own builds them."""
        req = environ.get('engineio.request')
        if req is None:
            from .adapters.wsgi import request_from_environ
            req = environ['engineio.request'] = request_from_environ(environ)
        cors = environ.get('engineio.cors')
        if cors is None:
            cors = self.core.cors_headers(req) or []
        return req, cors

    def _report_http(self, frames: Any = None, headers: Any = None) -> None:
        """Tell python-socketio's admin instrumentation about a polling
        response.  It counts traffic by replacing ``_ok`` on the instance;
        when it did not, this costs one dictionary lookup."""
        if '_ok' in self.__dict__:
            self._ok(packets=frames, headers=headers)

    def _ok(self, packets: Any = None, headers: Any = None,
            jsonp_index: Any = None) -> dict[str, Any]:
        """A 200 polling response as ``{'status', 'headers', 'response'}``.

        The drivers answer through the core and do not need this; it exists
        because python-socketio's admin instrumentation (``instrument()``)
        saves and replaces ``eio._ok`` when it starts, and would fail with
        AttributeError without it.  ``packets`` may hold
        :class:`~engineio.packet.Packet` objects or encoded frames; without
        packets the answer is the one a POST gets.
        """
        if packets is None:
            response = self.core.ok_response(list(headers or []))
        else:
            frames = [p.encode() if isinstance(p, packet.Packet) else p
                      for p in packets]
            response = self.core.payload_response(
                frames, Request('GET', {}), list(headers or []))
        return {'status': status_line(response.status),
                'headers': response.headers, 'response': response.body}


def user_session(socket: Any) -> dict[str, Any]:
    """The application's session dict of a socket, created on first use."""
    data = socket.session
    if data is None:
        data = socket.session = {}
    return data  # type: ignore[no-any-return]
