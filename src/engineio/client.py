"""The blocking Engine.IO client: a thin driver over the protocol core.

Every protocol decision is made by :class:`engineio.sansio.client.ClientCore`;
this module performs the I/O it asks for, with ``requests`` for HTTP
long-polling and ``websocket-client`` for WebSocket, and runs the
application's handlers.

Each connection runs three daemon threads: a reader (long-polling GETs or
WebSocket receives, bounded by the heartbeat deadline), a writer (batched
POSTs or WebSocket sends) and a dispatcher that calls the ``message`` and
``disconnect`` handlers one at a time, in the order the server sent the
messages.  Handlers never run on the reader, so a slow handler cannot delay
the answer to a ping.

A handler that blocks on an event or queue made by ``create_event()`` /
``create_queue()``, or in ``sleep()``, hands the dispatching of the next
messages to a new dispatcher thread first: the message it waits for (the
acknowledgement python-socketio's ``call()`` waits for, say) can then be
delivered.  Order is kept otherwise.
"""
from __future__ import annotations

import contextvars
import inspect
import logging
import queue
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from . import packet
from .exceptions import ConnectionError, ProtocolError
from .handlers import EventHandlers
from .payload import encode_frames
from .sansio.client import POLLING, WEBSOCKET, ClientCore, ClientReason, State
from .sansio.events import Disconnected, MessageReceived

try:
    import requests
except ImportError:  # pragma: no cover - the "client" extra is not installed
    requests = None  # type: ignore[assignment]
try:
    import websocket
except ImportError:  # pragma: no cover - the "client" extra is not installed
    websocket = None  # type: ignore[assignment]

default_logger = logging.getLogger('engineio.client')
monotonic = time.monotonic

#: Blocking clients with an open connection (disconnected on SIGINT).
connected_clients: list[Client] = []
original_signal_handler: Any = None

#: Shortest timeout handed to a blocking read: 0 would make the socket
#: non-blocking.
_MIN_WAIT = 0.01


def signal_handler(sig: int, frame: Any) -> Any:
    """SIGINT handler: disconnect every connected client, then let the
    handler that was installed before take over."""
    for client in connected_clients[:]:
        client.disconnect()
    if callable(original_signal_handler):
        return original_signal_handler(sig, frame)
    if original_signal_handler == signal.SIG_IGN:
        return None
    return signal.default_int_handler(sig, frame)


class _Invocation:
    """One run of a handler by a dispatcher; see :func:`hand_off_dispatch`."""

    __slots__ = ('conn', 'dispatcher', 'hand_off', 'running')

    def __init__(self, conn: Any, dispatcher: Any,
                 hand_off: Callable[[], None]) -> None:
        self.conn = conn
        self.dispatcher = dispatcher
        self.running = True
        self.hand_off = hand_off


#: The handler invocation running in this thread (or asyncio task, and the
#: tasks it creates, which copy the context).
_invocation: contextvars.ContextVar[_Invocation | None] = \
    contextvars.ContextVar('engineio_client_invocation', default=None)


def hand_off_dispatch() -> None:
    """Called by the client's blocking primitives before they block: if this
    is a handler run by the connection's active dispatcher, start another
    dispatcher for the messages that follow, so the one awaited can arrive.
    """
    inv = _invocation.get()
    if inv is not None and inv.running and \
            inv.conn.dispatcher is inv.dispatcher:
        inv.hand_off()


class _Event(threading.Event):
    """A :class:`threading.Event` that lets the next messages be dispatched
    while a handler waits on it."""

    def wait(self, timeout: float | None = None) -> bool:
        if not self.is_set():
            hand_off_dispatch()
        return super().wait(timeout)


class _Queue(queue.Queue):  # type: ignore[type-arg]
    """A :class:`queue.Queue` that lets the next messages be dispatched
    while a handler waits on it."""

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if block and self.empty():
            hand_off_dispatch()
        return super().get(block, timeout)


def _json_body(text: str | bytes | None) -> Any:
    """The JSON document in an error response, or None."""
    if not text:
        return None
    try:
        return packet.Packet.json.loads(text)
    except (ValueError, TypeError):
        return None


class BaseClient(EventHandlers):
    """Options, handlers and attributes shared by both clients."""

    #: The disconnect reasons: ``CLIENT_DISCONNECT``, ``SERVER_DISCONNECT``
    #: and ``TRANSPORT_ERROR``.
    reason = ClientReason

    def __init__(self, logger: Any = False, json: Any = None,
                 request_timeout: float = 5, http_session: Any = None,
                 ssl_verify: bool = True, handle_sigint: bool = True,
                 websocket_extra_options: dict[str, Any] | None = None,
                 timestamp_requests: bool = True) -> None:
        self._setup_handlers(logger, json, default_logger)
        self.request_timeout = request_timeout
        self.http = http_session
        self.ssl_verify = ssl_verify
        self.handle_sigint = handle_sigint
        self.websocket_extra_options = websocket_extra_options or {}
        self.timestamp_requests = timestamp_requests
        self._core: ClientCore | None = None

    def is_asyncio_based(self) -> bool:
        return False

    def transport(self) -> str | None:
        """Return the name of the transport currently in use.

        The possible values returned by this function are ``'polling'`` and
        ``'websocket'``.
        """
        return self.current_transport

    # -- connection attributes (read from the core) ------------------------
    @property
    def state(self) -> str:
        """``'disconnected'``, ``'connected'`` or ``'disconnecting'``.

        While a transport error is being reported to the ``disconnect``
        handler the state is still ``'connected'``; deliberate closes (by
        either side) report ``'disconnecting'``.
        """
        core = self._core
        return core.state.value if core is not None else 'disconnected'

    @state.setter
    def state(self, value: str) -> None:
        # Some applications and tests force the state; honour it when a
        # connection object exists.
        if self._core is not None:
            self._core.state = State(value)

    @property
    def sid(self) -> str | None:
        """The session id assigned by the server, while connected."""
        core = self._core
        if core is None or core.state is State.DISCONNECTED:
            return None
        return core.sid

    @property
    def current_transport(self) -> str | None:
        """The transport in use (``'polling'`` or ``'websocket'``)."""
        core = self._core
        return core.transport if core is not None else None

    @property
    def transports(self) -> list[str] | None:
        """The transports allowed by the last ``connect()`` call."""
        core = self._core
        return core.transports if core is not None else None

    @property
    def upgrades(self) -> list[str]:
        """The upgrades the server offered in its handshake."""
        core = self._core
        if core is None or core.handshake is None:
            return []
        return list(core.handshake.upgrades)

    @property
    def ping_interval(self) -> float | None:
        """The server's ping interval, in seconds."""
        core = self._core
        if core is None or core.handshake is None:
            return None
        return core.handshake.ping_interval

    @property
    def ping_timeout(self) -> float | None:
        """The server's ping timeout, in seconds."""
        core = self._core
        if core is None or core.handshake is None:
            return None
        return core.handshake.ping_timeout

    # -- helpers shared by the drivers -------------------------------------
    def _new_core(self, url: str, transports: Any,
                  engineio_path: str) -> ClientCore:
        if self.state != 'disconnected':
            raise ValueError('Client is not in a disconnected state')
        return ClientCore(url, transports, engineio_path,
                          self.timestamp_requests)

    def _disconnect_args(self, reason: str) -> tuple[Any, ...]:
        return (reason,) if self._disconnect_takes_reason else ()

    def _handshake_failed(self, status: int,
                          body: str | bytes | None) -> ConnectionError:
        """The exception for an HTTP error answer to the handshake.

        The server's JSON error document, if it sent one, is the second
        argument (python-socketio hands it to its ``connect_error``
        handler).
        """
        message = f'Unexpected status code {status} in server response'
        data = _json_body(body)
        if data is None:
            return ConnectionError(message)
        return ConnectionError(message, data)

    def _log_events(self, events: list[Any]) -> None:
        for event in events:
            if type(event) is Disconnected:
                self.logger.info('Connection ended: %s', event.reason)


class _Connection:
    """The I/O objects and threads of one connection of a :class:`Client`.

    Threads receive this object and only ever touch its core, so a thread
    that outlives its connection cannot disturb the next one.
    """

    def __init__(self, core: ClientCore, headers: dict[str, str]) -> None:
        self.core = core
        self.headers = headers
        # Reentrant: the SIGINT handler may disconnect while the main thread
        # holds the lock.
        self.lock = threading.RLock()
        #: Set when the core may have output for the writer.
        self.wake = threading.Event()
        #: Set when the connection is over and its disconnect handler ran.
        self.done = threading.Event()
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        #: Set by a client disconnect: undelivered messages are dropped.
        self.stopping = False
        self.ws: Any = None
        self.reader: threading.Thread | None = None
        self.writer: threading.Thread | None = None
        #: The dispatcher thread that takes the next event.
        self.dispatcher: threading.Thread | None = None
        #: Every dispatcher this connection had (see hand_off_dispatch()).
        self.dispatchers: list[threading.Thread] = []

    def post(self, events: list[Any]) -> None:
        for event in events:
            self.events.put(event)

    def own_thread(self) -> bool:
        current = threading.current_thread()
        return current in (self.reader, self.writer) or \
            current in self.dispatchers


class Client(BaseClient):
    """An Engine.IO client.

    This class implements a fully compliant Engine.IO web client with support
    for websocket and long-polling transports.

    :param logger: To enable logging set to ``True`` or pass a logger object
                   to use. To disable logging set to ``False``. The default is
                   ``False``. Note that fatal errors are logged even when
                   ``logger`` is ``False``.
    :param json: An alternative json module to use for encoding and decoding
                 packets. Custom json modules must have ``dumps`` and
                 ``loads`` functions that are compatible with the standard
                 library versions. This is a process-wide setting.
    :param request_timeout: A timeout in seconds for requests. The default is
                            5 seconds.
    :param http_session: an initialized ``requests.Session`` object to be used
                         when sending requests to the server, or a callable
                         that returns one. Use it if you need to add special
                         client options such as proxy servers, SSL
                         certificates, custom CA bundle, etc.
    :param ssl_verify: ``True`` to verify SSL certificates, or ``False`` to
                       skip SSL certificate verification, allowing
                       connections to servers with self signed certificates.
                       The default is ``True``.
    :param handle_sigint: Set to ``True`` to automatically handle
                          disconnection when the process is interrupted, or
                          to ``False`` to leave interrupt handling to the
                          calling application. Interrupt handling can only be
                          enabled when the client instance is created in the
                          main thread.
    :param websocket_extra_options: Dictionary containing additional keyword
                                    arguments passed to
                                    ``websocket.create_connection()``.
    :param timestamp_requests: If ``True`` a timestamp is added to the query
                               string of long-polling requests as a
                               cache-busting measure. Set to ``False`` to
                               disable.
    """

    def __init__(self, logger: Any = False, json: Any = None,
                 request_timeout: float = 5, http_session: Any = None,
                 ssl_verify: bool = True, handle_sigint: bool = True,
                 websocket_extra_options: dict[str, Any] | None = None,
                 timestamp_requests: bool = True) -> None:
        global original_signal_handler
        if handle_sigint and original_signal_handler is None and \
                threading.current_thread() is threading.main_thread():
            original_signal_handler = signal.signal(signal.SIGINT,
                                                    signal_handler)
        super().__init__(logger=logger, json=json,
                         request_timeout=request_timeout,
                         http_session=http_session, ssl_verify=ssl_verify,
                         handle_sigint=handle_sigint,
                         websocket_extra_options=websocket_extra_options,
                         timestamp_requests=timestamp_requests)
        self._conn: _Connection | None = None

    # -- public API --------------------------------------------------------
    def connect(self, url: str, headers: dict[str, str] | None = None,
                transports: str | list[str] | None = None,
                engineio_path: str = 'engine.io') -> None:
        """Connect to an Engine.IO server.

        :param url: The URL of the Engine.IO server. It can include custom
                    query string parameters if required by the server. Its
                    path is not used: the endpoint is ``engineio_path``.
        :param headers: A dictionary with custom headers to send with the
                        connection request.
        :param transports: The list of allowed transports. Valid transports
                           are ``'polling'`` and ``'websocket'``. If not
                           given, the polling transport is connected first,
                           then an upgrade to websocket is attempted.
        :param engineio_path: The endpoint where the Engine.IO server is
                              installed. The default value is appropriate for
                              most cases.

        Raises :class:`engineio.exceptions.ConnectionError` when the server
        cannot be reached (within ``request_timeout``), refuses the
        connection or answers something that is not Engine.IO, and when the
        ``connect`` handler raises.

        Example usage::

            eio = engineio.Client()
            eio.connect('http://localhost:5000')
        """
        core = self._new_core(url, transports, engineio_path)
        if requests is None or websocket is None:  # pragma: no cover
            raise RuntimeError('the Engine.IO client needs the "requests" and '
                               '"websocket-client" packages: install '
                               'python-engineio[client]')
        conn = _Connection(core, dict(headers or {}))
        self._core = core
        self._conn = conn
        try:
            if callable(self.http) and not isinstance(self.http,
                                                      requests.Session):
                self.http = self.http()
            if self.http is None:
                self.http = requests.Session()
            if core.first_transport == POLLING:
                events = self._open_polling(conn)
            else:
                events = self._open_websocket(conn)
        except BaseException:
            conn.done.set()
            raise
        self.logger.info('Connected to %s as %s (%s)', url, core.sid,
                         core.transport)
        connected_clients.append(self)
        try:
            self._call_handler('connect', raise_errors=True)
        except Exception as exc:
            with conn.lock:
                conn.core.close()
            self._flush_close(conn)
            self._end(conn)
            raise ConnectionError(f'connect handler failed: {exc!r}') from exc
        with conn.lock:
            can_upgrade = core.can_upgrade()
        if can_upgrade:
            self._upgrade(conn)
        if core.state is not State.CONNECTED:
            return  # the connect handler disconnected
        conn.post(events)
        self._log_events(events)
        reader = self._read_websocket if core.transport == WEBSOCKET \
            else self._read_polling
        self._new_dispatcher(conn)
        conn.writer = self._spawn(self._write_loop, conn, 'writer')
        conn.reader = self._spawn(reader, conn, 'reader')

    def wait(self) -> None:
        """Wait until the connection with the server ends.

        Client applications can use this function to block the main thread
        during the life of the connection.
        """
        conn = self._conn
        if conn is None or conn.own_thread():
            return
        # A bounded wait repeated, so the main thread stays responsive to
        # KeyboardInterrupt.
        while not conn.done.wait(1.0):
            pass

    def send(self, data: Any) -> None:
        """Send a message to the server.

        :param data: The data to send to the server. Data can be of type
                     ``str``, ``bytes``, ``list`` or ``dict``. If a ``list``
                     or ``dict``, the data will be serialized as JSON.

        The message is queued and written in the background; it is dropped
        when the client is not connected.
        """
        conn = self._conn
        if conn is None:
            return
        with conn.lock:
            if conn.core.send(data):
                conn.wake.set()

    def disconnect(self, abort: bool = False, reason: str | None = None
                   ) -> None:
        """Disconnect from the server.

        :param abort: If set to ``True``, do not wait for background tasks
                      associated with the connection to end.
        :param reason: The reason passed to the ``disconnect`` handler; by
                       default ``Client.reason.CLIENT_DISCONNECT``.
        """
        conn = self._conn
        if conn is None:
            return
        with conn.lock:
            event = conn.core.close(reason or self.reason.CLIENT_DISCONNECT)
            conn.wake.set()
        if event is None:
            # Already over, or ending: the dispatcher reports it.
            if conn.core.state is State.DISCONNECTED:
                return
            if not abort and not conn.own_thread():
                conn.done.wait(self.request_timeout)
            return
        self.logger.info('Disconnecting: %s', event.reason)
        conn.stopping = True
        conn.events.put(None)
        self._call_handler('disconnect', *self._disconnect_args(event.reason))
        if conn.writer is None:
            # The connection's threads have not started (this is the
            # connect handler): deliver the close packet from here.
            self._flush_close(conn)
        elif not abort:
            self._join(conn.writer)
            self._shutdown_ws(conn)
            self._join(conn.reader)
        self._end(conn)

    def start_background_task(self, target: Callable[..., Any], *args: Any,
                              **kwargs: Any) -> threading.Thread:
        """Start a background task.

        This is a utility function that applications can use to start a
        background task.

        :param target: the target function to execute.
        :param args: arguments to pass to the function.
        :param kwargs: keyword arguments to pass to the function.

        This function returns an object compatible with the ``Thread`` class
        in the Python standard library. The ``start()`` method on this object
        is already called by this function.
        """
        th = threading.Thread(target=target, args=args, kwargs=kwargs,
                              daemon=True)
        th.start()
        return th

    def sleep(self, seconds: float = 0) -> None:
        """Sleep for the requested amount of time.

        In a ``message`` handler, the messages that follow are dispatched
        while it sleeps.
        """
        if seconds > 0:
            hand_off_dispatch()
        time.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> queue.Queue[Any]:
        """Create a queue object.

        A handler blocked in its ``get()`` lets the messages that follow be
        dispatched meanwhile.
        """
        return _Queue(*args, **kwargs)

    def create_event(self, *args: Any, **kwargs: Any) -> threading.Event:
        """Create an event object.

        A handler blocked in its ``wait()`` lets the messages that follow be
        dispatched meanwhile (python-socketio's ``call()`` waits on one).
        """
        return _Event(*args, **kwargs)

    # -- compatibility attributes ------------------------------------------
    @property
    def read_loop_task(self) -> threading.Thread | None:
        return self._conn.reader if self._conn else None

    @property
    def write_loop_task(self) -> threading.Thread | None:
        return self._conn.writer if self._conn else None

    @property
    def ws(self) -> Any:
        """The ``websocket-client`` connection, when on WebSocket."""
        return self._conn.ws if self._conn else None

    # -- opening -----------------------------------------------------------
    def _open_polling(self, conn: _Connection) -> list[Any]:
        core = conn.core
        url = core.request_url(POLLING, time.time())
        self.logger.info('Attempting polling connection to %s', url)
        try:
            r = self._request(conn, 'GET', url, self.request_timeout)
        except requests.RequestException as exc:
            raise ConnectionError(f'Connection failed: {exc}') from exc
        if not 200 <= r.status_code < 300:
            raise self._handshake_failed(r.status_code, r.content)
        try:
            with conn.lock:
                return core.open_polling(r.content, monotonic())
        except ProtocolError as exc:
            raise ConnectionError(f'Unexpected response from server: {exc}'
                                  ) from exc

    def _open_websocket(self, conn: _Connection) -> list[Any]:
        core = conn.core
        url = core.request_url(WEBSOCKET)
        self.logger.info('Attempting WebSocket connection to %s', url)
        ws = self._ws_connect(conn, url)
        try:
            frame = ws.recv()
            with conn.lock:
                events = core.open_websocket(frame, monotonic())
        except ProtocolError as exc:
            ws.shutdown()
            raise ConnectionError(f'Unexpected response from server: {exc}'
                                  ) from exc
        except Exception as exc:
            ws.shutdown()
            raise ConnectionError(f'Connection failed: {exc}') from exc
        conn.ws = ws
        return events

    def _ws_connect(self, conn: _Connection, url: str) -> Any:
        """Open a WebSocket; ConnectionError if the server refuses it."""
        try:
            return websocket.create_connection(
                url, **self._ws_options(conn, url))
        except websocket.WebSocketBadStatusException as exc:
            raise self._handshake_failed(exc.status_code,
                                         exc.resp_body) from exc
        except Exception as exc:
            raise ConnectionError(f'Connection failed: {exc}') from exc

    def _ws_options(self, conn: _Connection, url: str) -> dict[str, Any]:
        http = self.http
        headers = dict(conn.headers)
        # Cookies the HTTP session holds for this server (a load balancer's
        # sticky-session cookie, for one) go on the WebSocket handshake too.
        http_url = url.replace('ws', 'http', 1)
        cookie = http.prepare_request(
            requests.Request('GET', http_url)).headers.get('Cookie')
        if cookie and 'Cookie' not in headers:
            headers['Cookie'] = cookie
        options: dict[str, Any] = {
            'header': [f'{k}: {v}' for k, v in headers.items()],
            'timeout': self.request_timeout,
            'enable_multithread': True,
        }
        sslopt: dict[str, Any] = {}
        if not self.ssl_verify:
            sslopt = {'cert_reqs': ssl.CERT_NONE, 'check_hostname': False}
        elif isinstance(getattr(http, 'verify', None), str):
            sslopt = {'ca_certs': http.verify}
        cert = getattr(http, 'cert', None)
        if cert:
            if isinstance(cert, str):
                sslopt['certfile'] = cert
            else:
                sslopt['certfile'], sslopt['keyfile'] = cert
        if sslopt:
            options['sslopt'] = sslopt
        proxies = getattr(http, 'proxies', None) or {}
        proxy = proxies.get('https' if url.startswith('wss') else 'http')
        if proxy:
            p = urlsplit(proxy)
            options['http_proxy_host'] = p.hostname
            options['http_proxy_port'] = p.port
            if p.scheme in ('socks4', 'socks4a', 'socks5', 'socks5h'):
                options['proxy_type'] = p.scheme
            if p.username:
                options['http_proxy_auth'] = (p.username, p.password or '')
        for key, value in self.websocket_extra_options.items():
            # Extra headers and TLS options add to ours; anything else wins.
            if key == 'header' and isinstance(value, dict):
                options['header'] += [f'{k}: {v}' for k, v in value.items()]
            elif key == 'header' and isinstance(value, list):
                options['header'] += value
            elif key == 'sslopt' and isinstance(value, dict):
                options['sslopt'] = {**options.get('sslopt', {}), **value}
            else:
                options[key] = value
        return options

    def _request(self, conn: _Connection, method: str, url: str,
                 timeout: float, body: str | None = None) -> Any:
        headers = conn.headers
        if body is not None:
            headers = dict(headers)
            headers['Content-Type'] = 'text/plain;charset=UTF-8'
        # The session's own CA bundle is passed explicitly: requests would
        # otherwise let REQUESTS_CA_BUNDLE from the environment override it.
        verify = getattr(self.http, 'verify', None) if self.ssl_verify \
            else False
        return self.http.request(
            method, url, headers=headers, data=body,
            timeout=(self.request_timeout, timeout), verify=verify)

    def _upgrade(self, conn: _Connection) -> None:
        """Probe a WebSocket and move the connection onto it.

        Done before the polling loops start, so polling is already paused
        when the probe is answered and the upgrade completes at once.
        """
        core = conn.core
        url = core.request_url(WEBSOCKET)
        self.logger.info('Attempting WebSocket upgrade to %s', url)
        try:
            ws = self._ws_connect(conn, url)
        except ConnectionError as exc:
            self.logger.info('WebSocket upgrade failed: %s', exc)
            return
        try:
            with conn.lock:
                probe = core.begin_probe()
            ws.send(probe)
            answer = ws.recv()
            with conn.lock:
                ok = core.probe_answered(answer) and core.upgrade_ready
                if ok:
                    ws.send(core.complete_upgrade())
        except Exception as exc:
            self.logger.info('WebSocket upgrade failed: %s', exc)
            ok = False
        if not ok:
            with conn.lock:
                core.abort_upgrade()
            ws.shutdown()
            return
        conn.ws = ws
        self.logger.info('WebSocket upgrade was successful')

    def _flush_close(self, conn: _Connection) -> None:
        """Write what a connection closed before its threads started still
        has queued (its close packet), then drop the WebSocket."""
        with conn.lock:
            frames = conn.core.take_frames()
        try:
            if conn.ws is not None:
                for frame in frames:
                    self._ws_send(conn.ws, frame)
            elif frames:
                url = conn.core.request_url(POLLING, time.time())
                self._request(conn, 'POST', url, self.request_timeout,
                              encode_frames(frames))
        except Exception as exc:
            self.logger.info('Could not deliver the close packet: %s', exc)
        self._shutdown_ws(conn)

    # -- the connection's threads ------------------------------------------
    def _spawn(self, target: Callable[[_Connection], None],
               conn: _Connection, role: str) -> threading.Thread:
        th = threading.Thread(target=target, args=(conn,), daemon=True,
                              name=f'engineio-client-{role}')
        th.start()
        return th

    def _read_polling(self, conn: _Connection) -> None:
        core = conn.core
        events: list[Any] = []
        while True:
            with conn.lock:
                now = monotonic()
                events = core.on_deadline(now)
                if events or not core.begin_poll():
                    break
                url = core.request_url(POLLING, time.time())
                # The GET is the heartbeat timer: the server answers it at
                # the latest with its next ping.
                timeout = max(core.time_left(now), _MIN_WAIT)
            try:
                r = self._request(conn, 'GET', url, timeout)
                body = r.content if 200 <= r.status_code < 300 else None
                if body is None:
                    self.logger.warning('Unexpected status code %s in '
                                        'polling response', r.status_code)
            except requests.Timeout:
                self.logger.warning('Server has stopped sending pings')
                body = None
            except Exception as exc:
                self.logger.warning('Polling request failed: %s', exc)
                body = None
            with conn.lock:
                if body is None:
                    events = core.on_deadline(monotonic()) or \
                        core.transport_lost()
                    break
                events = core.receive_payload(body, monotonic())
                if core.has_output():
                    conn.wake.set()
            conn.post(events)
            if events and type(events[-1]) is Disconnected:
                events = []
                break
        self._reader_done(conn, events)

    def _read_websocket(self, conn: _Connection) -> None:
        core = conn.core
        ws = conn.ws
        events: list[Any] = []
        while True:
            with conn.lock:
                now = monotonic()
                events = core.on_deadline(now)
                if events:
                    self.logger.warning('Server has stopped sending pings')
                    break
                if not core.active:
                    break
                timeout = core.time_left(now)
            try:
                # The receive timeout is the heartbeat timer.
                ws.settimeout(max(timeout, _MIN_WAIT))
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as exc:
                with conn.lock:
                    if core.active:
                        self.logger.warning('WebSocket failed: %s', exc)
                    events = core.transport_lost()
                break
            if opcode == websocket.ABNF.OPCODE_TEXT:
                frame: str | bytes = data.decode('utf-8', 'replace') \
                    if isinstance(data, bytes) else data
            elif opcode == websocket.ABNF.OPCODE_BINARY:
                frame = data
            else:
                with conn.lock:
                    events = core.transport_lost()
                break
            with conn.lock:
                events = core.receive_frame(frame, monotonic())
                if core.has_output():
                    conn.wake.set()
            conn.post(events)
            if events and type(events[-1]) is Disconnected:
                events = []
                break
        self._reader_done(conn, events)

    def _reader_done(self, conn: _Connection, events: list[Any]) -> None:
        self._log_events(events)
        conn.post(events)
        conn.wake.set()  # the writer may be done now
        if conn.core.state is not State.CONNECTED or conn.core.lost:
            self._shutdown_ws(conn)

    def _write_loop(self, conn: _Connection) -> None:
        core = conn.core
        while True:
            with conn.lock:
                polling = core.transport == POLLING
                frames = core.begin_post() if polling else core.take_frames()
                if not frames:
                    if core.writer_done:
                        break
                    conn.wake.clear()
                url = core.request_url(POLLING, time.time()) \
                    if polling and frames else ''
            if not frames:
                conn.wake.wait()
                continue
            try:
                if polling:
                    r = self._request(conn, 'POST', url, self.request_timeout,
                                      encode_frames(frames))
                    ok = 200 <= r.status_code < 300
                    if not ok:
                        self.logger.warning('Unexpected status code %s in '
                                            'POST response', r.status_code)
                else:
                    for frame in frames:
                        self._ws_send(conn.ws, frame)
                    ok = True
            except Exception as exc:
                self.logger.warning('Write failed: %s', exc)
                ok = False
            with conn.lock:
                if polling:
                    core.end_post()
                events = [] if ok else core.transport_lost()
            if not ok:
                self._log_events(events)
                conn.post(events)
                break
        if conn.ws is not None and core.state is State.DISCONNECTING:
            # A deliberate close: end the WebSocket with a close frame; the
            # reader sees the server's close frame (or the shutdown) and ends.
            try:
                conn.ws.send_close()
            except Exception:
                pass
        if core.state is not State.CONNECTED or core.lost:
            self._shutdown_ws(conn)

    @staticmethod
    def _ws_send(ws: Any, frame: str | bytes) -> None:
        if isinstance(frame, str):
            ws.send(frame)
        else:
            ws.send_binary(frame)

    def _new_dispatcher(self, conn: _Connection) -> None:
        """Start a dispatcher and make it the one that takes the next event
        (the previous one, if any, ends after its current handler)."""
        th = threading.Thread(target=self._dispatch_loop, args=(conn,),
                              daemon=True, name='engineio-client-dispatcher')
        conn.dispatcher = th  # before start(): the thread checks it
        conn.dispatchers.append(th)
        th.start()

    def _dispatch_loop(self, conn: _Connection) -> None:
        me = threading.current_thread()
        while conn.dispatcher is me:
            item = conn.events.get()
            if item is None:
                return
            if type(item) is MessageReceived:
                if not conn.stopping:
                    self._dispatch(conn, me, 'message', item.data)
                continue
            # The end of the connection: the state is still 'connected' for
            # a transport error while the handler runs (python-socketio
            # reconnects on that), 'disconnecting' for a server close.
            self._dispatch(conn, me, 'disconnect',
                           *self._disconnect_args(item.reason))
            self._end(conn)
            return

    def _dispatch(self, conn: _Connection, me: threading.Thread, event: str,
                  *args: Any) -> None:
        inv = _Invocation(conn, me, lambda: self._new_dispatcher(conn))
        token = _invocation.set(inv)
        try:
            self._call_handler(event, *args)
        finally:
            inv.running = False
            _invocation.reset(token)

    # -- ending ------------------------------------------------------------
    def _end(self, conn: _Connection) -> None:
        with conn.lock:
            conn.core.finish()
        try:
            connected_clients.remove(self)
        except ValueError:
            pass
        conn.done.set()
        conn.wake.set()

    def _shutdown_ws(self, conn: _Connection) -> None:
        ws = conn.ws
        if ws is None:
            return
        sock = ws.sock
        if sock is not None:
            try:
                # Wakes a thread blocked in recv on this socket.
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            ws.shutdown()
        except Exception:
            pass

    def _join(self, thread: threading.Thread | None) -> None:
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.request_timeout)

    def _call_handler(self, event: str, *args: Any,
                      raise_errors: bool = False) -> Any:
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            result = handler(*args)
            if inspect.isawaitable(result):  # pragma: no cover
                raise TypeError(f'the {event!r} handler is a coroutine: use '
                                'engineio.AsyncClient for asyncio handlers')
            return result
        except Exception:
            if raise_errors:
                raise
            self.logger.exception('%s handler error', event)
            return None
