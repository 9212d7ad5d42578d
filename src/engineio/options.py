"""The options of :class:`~engineio.Server` and
:class:`~engineio.AsyncServer`, defined once.

:data:`SERVER_OPTIONS` holds, in the documented order, each option's name,
default, type (as written in the signature), check and documentation.  From
it come the servers' ``:param:`` docstrings and the option attributes; the
signature of :meth:`BaseServer.__init__ <engineio.base_server.BaseServer>`
is written out so that type checkers and IDEs see it, and
``tests/test_public_api.py`` checks that it, this table and
``docs/options.md`` agree.
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from .sansio.server import transports_option, websocket_compression_threshold


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Option:
    """One constructor option of the servers."""

    name: str
    default: Any
    #: The annotation exactly as the signature spells it.
    annotation: str
    #: The ``:param:`` text (reST, one paragraph, wrapped when rendered).
    doc: str
    #: :class:`~engineio.AsyncServer`'s text, where it differs.
    async_doc: str | None = None
    #: Raises ValueError for a value the option does not take; returns the
    #: value the attribute holds.
    check: Callable[[Any], Any] = _identity
    #: The :meth:`ServerConfig.update <engineio.sansio.server.ServerConfig>`
    #: keyword the option is written to; None when the driver reads the
    #: attribute itself.
    config_key: str | None = None
    #: Whether the attribute may be assigned after construction.
    settable: bool = True
    #: Not in the reference signature: an extension of this implementation,
    #: keyword-only so the reference's positional order stays as it is.
    keyword_only: bool = False
    #: The attribute hands out copies: the value is derived, so changing
    #: it in place could not reach the core.
    copy_on_read: bool = False

    def text(self, asyncio: bool) -> str:
        return self.async_doc if asyncio and self.async_doc else self.doc


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(name: str, allow_zero: bool = False,
              allow_none: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and allow_none:
            return value
        if not _is_number(value) or value < 0 or (value == 0
                                                  and not allow_zero):
            kind = 'a number >= 0' if allow_zero else 'a positive number'
            if allow_none:
                kind += ' or None'
            raise ValueError(f'{name} must be {kind}, not {value!r}')
        return value
    return check


def _check_ping_interval(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and _is_number(value[0]) and value[0] > 0 \
                and _is_number(value[1]) and value[1] >= 0:
            return value
    elif _is_number(value) and value > 0:
        return value
    raise ValueError('ping_interval must be a positive number or an '
                     f'(interval, grace) pair, not {value!r}')


def _check_cookie(value: Any) -> Any:
    if value is None or value is False or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get('name'), str):
        return value
    raise ValueError('cookie must be None, a cookie name, or a dict with a '
                     f"'name' key, not {value!r}")


def _check_cors(value: Any) -> Any:
    if value is None or isinstance(value, str) or callable(value):
        return value
    if isinstance(value, Collection) and all(isinstance(v, str)
                                             for v in value):
        return value
    raise ValueError('cors_allowed_origins must be None, an origin, a list '
                     f'of origins or a callable, not {value!r}')


def _check_callable(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not callable(value):
            raise ValueError(f'{name} must be a callable or None, not '
                             f'{value!r}')
        return value
    return check


def _check_cluster(value: Any) -> Any:
    if value is None:
        return value
    if not isinstance(value, str):
        if not all(hasattr(value, name) for name in ('start', 'publish',
                                                     'receivers')):
            raise ValueError('cluster must be a URL or a bus object '
                             f'(engineio.cluster.bus), not {value!r}')
        return value
    if value is not None:
        from .cluster.redis_bus import normalize_url
        normalize_url(value)
    return value


def _check_json(value: Any) -> Any:
    if value is not None and not (callable(getattr(value, 'dumps', None))
                                  and callable(getattr(value, 'loads', None))):
        raise ValueError('json must be a module with dumps() and loads(), '
                         f'not {value!r}')
    return value


def _check_transports(value: Any) -> list[str]:
    # The attribute is a list, as in the reference implementation.
    return list(transports_option(value))


def _check_initial_packet(value: Any) -> Any:
    if value is None or isinstance(value, (str, bytes, bytearray, memoryview,
                                           dict, list)):
        return value
    raise ValueError('initial_packet must be a str, bytes, dict, list or '
                     f'None, not {value!r}')


def _check_websocket_compression(value: Any) -> Any:
    websocket_compression_threshold(value)
    return value


def _check_async_mode(value: Any) -> Any:
    if value is not None and not isinstance(value, str):
        raise ValueError(f'async_mode must be a str or None, not {value!r}')
    return value


SERVER_OPTIONS: tuple[Option, ...] = (
    Option(
        'async_mode', None, 'str | None',
        'The asynchronous model to use. See the Deployment section in the '
        'documentation for a description of the available options. Valid '
        'async modes are "threading", "eventlet", "gevent" and '
        '"gevent_uwsgi". If this argument is not given, "eventlet" is tried '
        'first, then "gevent_uwsgi", then "gevent", and finally "threading". '
        'The first async mode that has all its dependencies installed is the '
        'one that is chosen.',
        async_doc='The asynchronous model to use. See the Deployment section '
        'in the documentation for a description of the available options. '
        'Valid async modes are "aiohttp", "sanic", "tornado" and "asgi". If '
        'this argument is not given, "aiohttp" is tried first, followed by '
        '"sanic", "tornado", and finally "asgi". The first async mode that '
        'has all its dependencies installed is the one that is chosen.',
        check=_check_async_mode, settable=False),
    Option(
        'ping_interval', 25, 'float | tuple[float, float]',
        'The interval in seconds at which the server pings the client. The '
        'default is 25 seconds. For advanced control, a two element tuple can '
        'be given, where the first number is the ping interval and the second '
        'is a grace period added by the server.',
        check=_check_ping_interval, config_key='ping_interval'),
    Option(
        'ping_timeout', 20, 'float',
        'The time in seconds that the client waits for the server to respond '
        'before disconnecting. The default is 20 seconds.',
        check=_positive('ping_timeout'), config_key='ping_timeout'),
    Option(
        'max_http_buffer_size', 1000000, 'int',
        'The maximum size that is accepted for incoming messages. The default '
        'is 1,000,000 bytes. In spite of its name, the value set in this '
        'argument is enforced for HTTP long-polling and WebSocket '
        'connections.',
        check=_positive('max_http_buffer_size'),
        config_key='max_http_buffer_size'),
    Option(
        'allow_upgrades', True, 'bool',
        'Whether to allow transport upgrades or not. The default is '
        '``True``.',
        config_key='allow_upgrades'),
    Option(
        'http_compression', True, 'bool',
        'Whether to compress packages when using the polling transport. The '
        'default is ``True``.',
        config_key='http_compression'),
    Option(
        'compression_threshold', 1024, 'int',
        'Only compress messages when their byte size is greater than this '
        'value. The default is 1024 bytes.',
        check=_positive('compression_threshold', allow_zero=True),
        config_key='compression_threshold'),
    Option(
        'cookie', None, 'str | dict[str, Any] | None',
        'If set to a string, it is the name of the HTTP cookie the server '
        'sends back to the client containing the client session id. If set '
        "to a dictionary, the ``'name'`` key contains the cookie name and "
        'other keys define cookie attributes, where the value of each '
        'attribute can be a string, a callable with no arguments, or a '
        'boolean. If set to ``None`` (the default), a cookie is not sent to '
        'the client.',
        check=_check_cookie, config_key='cookie'),
    Option(
        'cors_allowed_origins', None,
        'str | Collection[str] | Callable[..., Any] | None',
        'Origin or list of origins that are allowed to connect to this '
        'server. Only the same origin is allowed by default. Set this '
        "argument to ``'*'`` or ``['*']`` to allow all origins, or to ``[]`` "
        'to disable CORS handling. A callable receiving the origin (and the '
        'environ) may decide instead.',
        check=_check_cors, config_key='cors_allowed_origins'),
    Option(
        'cors_credentials', True, 'bool',
        'Whether credentials (cookies, authentication) are allowed in '
        'requests to this server. The default is ``True``.',
        config_key='cors_credentials'),
    Option(
        'logger', False, 'logging.Logger | bool',
        'To enable logging set to ``True`` or pass a logger object to use. To '
        'disable logging set to ``False``. The default is ``False``. Note '
        'that fatal errors are logged even when ``logger`` is ``False``.'),
    Option(
        'json', None, 'Any',
        'An alternative JSON module to use for encoding and decoding packets. '
        'Custom JSON modules must have ``dumps`` and ``loads`` functions that '
        'are compatible with the standard library versions. This is a '
        'process-wide setting, all instantiated servers and clients must use '
        'the same JSON module.',
        check=_check_json, settable=False),
    Option(
        'async_handlers', True, 'bool',
        'If set to ``True``, run message event handlers in non-blocking '
        'threads (the messages of one client are still handled in the order '
        'they arrived). To run handlers synchronously, set to ``False``. The '
        'default is ``True``.',
        async_doc='If set to ``True``, message handlers do not hold up the '
        "reading of the client's next messages (the messages of one client "
        'are still handled in the order they arrived). To run handlers '
        'synchronously, set to ``False``. The default is ``True``.'),
    Option(
        'monitor_clients', None, 'bool | None',
        'If set to ``True``, a background task will ensure inactive clients '
        'are closed. Set to ``False`` to disable the monitoring task (not '
        'recommended). The default is ``True``.',
        check=lambda value: value is not False, config_key='enforce_timeouts'),
    Option(
        'transports', None, 'Sequence[str] | None',
        "The list of allowed transports. Valid transports are ``'polling'`` "
        "and ``'websocket'``. Defaults to ``['polling', 'websocket']``.",
        check=_check_transports, config_key='transports',
        copy_on_read=True),
    Option(
        'max_outgoing_buffer_size', 16_000_000, 'int | None',
        'The most bytes (characters for text) of messages held for a '
        'long-polling client that does not collect them. A client over the '
        "limit is disconnected with reason ``'transport error'``. The "
        'default is 16,000,000; ``None`` removes the limit.',
        check=_positive('max_outgoing_buffer_size', allow_none=True),
        config_key='max_outgoing_buffer_size', keyword_only=True),
    Option(
        'allow_request', None, 'Callable[..., Any] | None',
        'A function called with the WSGI environ of each handshake before a '
        'session exists. Returning ``True`` or ``None`` accepts it; '
        '``False`` refuses it with a 403 response, and a string refuses it '
        'with that string as the reason. Off by default.',
        async_doc='A function (or coroutine function) called with the '
        'environ of each handshake before a session exists. Returning '
        '``True`` or ``None`` accepts it; ``False`` refuses it with a 403 '
        'response, and a string refuses it with that string as the reason. '
        'Off by default.',
        check=_check_callable('allow_request'), keyword_only=True),
    Option(
        'initial_packet', None, 'str | bytes | dict[str, Any] | list[Any] | None',
        'A message (``str``, ``bytes``, ``dict`` or ``list``) sent to every '
        'client right after the open packet. Off by default.',
        check=_check_initial_packet, config_key='initial_packet',
        keyword_only=True),
    Option(
        'allow_eio3', False, 'bool',
        'Whether to accept clients of Engine.IO protocol v3 (Engine.IO 3.x, '
        'Socket.IO v2). The default is ``False``: they get a 400 response.',
        config_key='allow_eio3', keyword_only=True),
    Option(
        'websocket_compression', False, 'bool | dict[str, Any]',
        'permessage-deflate (RFC 7692) for WebSocket messages, negotiated '
        'when the client offers it. ``False`` (the default, as in the '
        'official server): off. ``True``: on, messages shorter than 1024 '
        "bytes are sent uncompressed. A dict ``{'threshold': n}``: on, with "
        "``n`` as that size. Served over the request's raw socket (Werkzeug, "
        "gunicorn, eventlet, gevent's pywsgi without gevent-websocket's "
        "handler); gevent-websocket's handler and uWSGI never compress.",
        async_doc='permessage-deflate (RFC 7692) for WebSocket messages, '
        'negotiated when the client offers it. ``False`` (the default, as in '
        'the official server): off. ``True``: on with a 1024-byte threshold; '
        "a dict ``{'threshold': n}``: on with threshold ``n``. aiohttp and "
        'tornado compress every message once it is negotiated (their APIs '
        'have no per-message switch), so the threshold does not apply there. '
        'sanic never negotiates it. Under ASGI the web server decides '
        '(uvicorn and hypercorn negotiate it whenever the client offers it, '
        'daphne never), whatever this option says.',
        check=_check_websocket_compression,
        config_key='websocket_compression', keyword_only=True),
    Option(
        'cluster', None, 'str | Bus | AsyncBus | None',
        'Share sessions with the other server processes that use the same '
        'Redis (or Valkey) server, so that any process can serve any request '
        'of any session and no sticky sessions are needed: a '
        '``redis://``, ``rediss://``, ``valkey://``, ``valkeys://`` or '
        '``unix://`` URL (or, for other engines and tests, an object with the '
        'interface of ``engineio.cluster.bus``). Needs the ``redis`` package '
        '(the ``cluster`` extra). A session lives in the process that '
        'accepted its handshake; requests that reach another process are '
        'forwarded to it over Redis pub/sub. Off by default. See '
        'docs/scaling.md.',
        check=_check_cluster, settable=False, keyword_only=True),
)

#: The options by name.
OPTIONS_BY_NAME = {option.name: option for option in SERVER_OPTIONS}

KWARGS_DOC = ('Reserved for future extensions, any additional parameters '
              'given as keyword arguments will be silently ignored.')

#: The line of a server's class docstring that :func:`expand_docstring`
#: replaces with the ``:param:`` list.
OPTIONS_MARKER = re.compile(
    r'^([ \t]*)\.\. options: generated from engineio\.options[^\n]*$',
    re.MULTILINE)


def param_lines(asyncio: bool, indent: str = '', width: int = 79) -> list[str]:
    """The ``:param name: text`` list of the servers' docstrings, in the
    style of the reference (continuation lines under the text)."""
    lines = []
    docs = [(o.name, o.text(asyncio)) for o in SERVER_OPTIONS]
    for name, text in [*docs, ('kwargs', KWARGS_DOC)]:
        head = f'{indent}:param {name}: '
        lines.extend(textwrap.wrap(text, width, initial_indent=head,
                                   subsequent_indent=' ' * len(head),
                                   break_on_hyphens=False)
                     or [head.rstrip()])
    return lines


def expand_docstring(doc: str | None, asyncio: bool) -> str | None:
    """``doc`` with its options marker replaced by the ``:param:`` list."""
    if not doc:
        return doc
    match = OPTIONS_MARKER.search(doc)
    if match is None:
        return doc
    block = '\n'.join(param_lines(asyncio, match.group(1)))
    return doc[:match.start()] + block + doc[match.end():]


def option_values(given: dict[str, Any]) -> dict[str, Any]:
    """Check the options given to a server: name -> attribute value."""
    return {o.name: o.check(given[o.name]) for o in SERVER_OPTIONS}


def config_values(values: dict[str, Any]) -> dict[str, Any]:
    """The :class:`~engineio.sansio.server.ServerConfig` arguments of
    checked option values."""
    return {o.config_key: values[o.name] for o in SERVER_OPTIONS
            if o.config_key is not None}

