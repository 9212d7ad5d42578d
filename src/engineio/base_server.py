"""What :class:`Server` and :class:`AsyncServer` share that is not protocol:
options, handler registration, logging, session ids and user sessions."""
from __future__ import annotations

import copy
import inspect
import logging
import secrets
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, overload

from . import packet
from .handlers import EventHandlers, make_logger
from .options import (
    OPTIONS_BY_NAME,
    Option,
    config_values,
    expand_docstring,
    option_values,
)
from .sansio.events import Reason
from .sansio.models import Request, status_line
from .sansio.server import COMPRESSION_METHODS, ServerConfig, ServerCore

if TYPE_CHECKING:
    from .cluster.bus import AsyncBus, Bus

default_logger = logging.getLogger('engineio.server')
T = TypeVar('T')


class _OptionView(Generic[T]):
    option: Option

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.option = OPTIONS_BY_NAME[name]

    @overload
    def __get__(self, obj: None, objtype: Any = None) -> _OptionView[T]: ...
    @overload
    def __get__(self, obj: BaseServer, objtype: Any = None) -> T: ...
    def __get__(self, obj: BaseServer | None, objtype: Any = None) -> Any:
        if obj is None:
            return self
        value = obj._options[self.option.name]
        if self.option.copy_on_read:
            # The core holds its own copy: one changed in place here could
            # not reach it.
            return copy.copy(value)
        return value


class OptionAttribute(_OptionView[T]):
    """A server option as an attribute of the server.

    Reading gives the value in effect; assigning checks the value as the
    constructor does and writes it through to the core's configuration,
    so what the wire shows (open packet, CORS, cookies...) follows.
    """

    def __set__(self, obj: BaseServer, value: T) -> None:
        obj._set_option(self.option, value)


class FixedOption(_OptionView[T]):
    """An option that cannot change once the server exists: assigning
    raises AttributeError (and type checkers refuse it)."""

    def __set__(self, obj: BaseServer, value: NoReturn) -> None:
        obj._set_option(self.option, value)


class BaseServer(EventHandlers):
    """Options, handlers and bookkeeping common to both servers."""

    _disconnect_fixed_args = 1

    compression_methods = list(COMPRESSION_METHODS)
    event_names = ['connect', 'disconnect', 'message', 'connection_error']
    valid_transports = ['polling', 'websocket']
    reason = Reason

    # The options (engineio.options.SERVER_OPTIONS) as attributes.
    async_mode = FixedOption[str]()
    ping_interval = OptionAttribute[float | tuple[float, float]]()
    ping_timeout = OptionAttribute[float]()
    max_http_buffer_size = OptionAttribute[int]()
    allow_upgrades = OptionAttribute[bool]()
    http_compression = OptionAttribute[bool]()
    compression_threshold = OptionAttribute[int]()
    cookie = OptionAttribute[str | dict[str, Any] | None]()
    cors_allowed_origins = OptionAttribute[
        str | Collection[str] | Callable[..., Any] | None]()
    cors_credentials = OptionAttribute[bool]()
    json = FixedOption[Any]()
    async_handlers = OptionAttribute[bool]()
    monitor_clients = OptionAttribute[bool]()
    transports = OptionAttribute[list[str]]()
    max_outgoing_buffer_size = OptionAttribute[int | None]()
    allow_request = OptionAttribute[Callable[..., Any] | None]()
    initial_packet = OptionAttribute[
        str | bytes | dict[str, Any] | list[Any] | None]()
    allow_eio3 = OptionAttribute[bool]()
    websocket_compression = OptionAttribute[bool | dict[str, Any]]()
    cluster = FixedOption['str | Bus | AsyncBus | None']()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The :param: list of the servers' docstrings is the options
        # table's text; an asyncio server's handle_request is a coroutine
        # function, and some options read differently there.
        cls.__doc__ = expand_docstring(
            cls.__doc__,
            inspect.iscoroutinefunction(getattr(cls, 'handle_request', None)))

    # The parameter list is written out for type checkers, IDEs and
    # inspect.signature(); tests/test_public_api.py checks it against
    # engineio.options.SERVER_OPTIONS and docs/options.md.
    def __init__(self, async_mode: str | None = None,
                 ping_interval: float | tuple[float, float] = 25,
                 ping_timeout: float = 20,
                 max_http_buffer_size: int = 1000000,
                 allow_upgrades: bool = True,
                 http_compression: bool = True,
                 compression_threshold: int = 1024,
                 cookie: str | dict[str, Any] | None = None,
                 cors_allowed_origins:
                     str | Collection[str] | Callable[..., Any] | None = None,
                 cors_credentials: bool = True,
                 logger: logging.Logger | bool = False,
                 json: Any = None,
                 async_handlers: bool = True,
                 monitor_clients: bool | None = None,
                 transports: Sequence[str] | None = None, *,
                 max_outgoing_buffer_size: int | None = 16_000_000,
                 allow_request: Callable[..., Any] | None = None,
                 initial_packet:
                     str | bytes | dict[str, Any] | list[Any] | None = None,
                 allow_eio3: bool = False,
                 websocket_compression: bool | dict[str, Any] = False,
                 cluster: str | Bus | AsyncBus | None = None,
                 **kwargs: Any) -> None:
        # Read before anything else is bound: exactly the parameters.
        self._options = option_values(locals())
        self.config = ServerConfig(**config_values(self._options))
        self.core = ServerCore(self.config)
        #: Open sessions by sid (the per-session socket objects).
        self.sockets: dict[str, Any] = self.core.sessions
        self._setup_handlers(logger, json, default_logger)
        self._options['async_mode'] = self._select_async_mode(async_mode)
        self._node: Any = None
        self._init_driver()
        if cluster is not None:
            # (The node sets core.node: its tag, which names its sessions.)
            self._node = self._make_node(cluster)

    def _set_option(self, option: Option, value: Any) -> None:
        if not option.settable:
            raise AttributeError(
                f'{option.name} cannot change after the server is created; '
                f'pass {option.name}= to the constructor')
        value = option.check(value)
        if option.config_key is not None:
            self.config.update(**{option.config_key: value})
        self._options[option.name] = value

    @property
    def logger(self) -> logging.Logger:
        """The :class:`logging.Logger` in use; assigning ``True``,
        ``False`` or a logger works as the ``logger`` option does."""
        return self._logger

    @logger.setter
    def logger(self, value: logging.Logger | bool | None) -> None:
        self._logger = make_logger(value, default_logger)

    def _init_driver(self) -> None:
        """The driver's own setup, once the options are in place and the
        async mode is chosen."""

    def _select_async_mode(self, async_mode: str | None) -> str:
        raise NotImplementedError

    def _make_node(self, url: Any) -> Any:
        """The driver's cluster node (:mod:`engineio.cluster`)."""
        raise NotImplementedError

    def _owner(self, sid: str) -> str | None:
        """The other node of the cluster that owns ``sid``, if any."""
        if self._node is None or sid in self.sockets:
            return None
        return self._node.owner_of(sid)  # type: ignore[no-any-return]

    def generate_id(self) -> str:
        """Generate a unique session id."""
        if self._node is not None:
            # The owner's tag first: any node can route the id to it.
            return self._node.make_sid()  # type: ignore[no-any-return]
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
