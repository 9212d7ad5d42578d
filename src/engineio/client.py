"""The blocking Engine.IO client: a thin driver over the protocol core.

The core's programs (:class:`engineio.sansio.client.ClientCore`) decide
everything; this module carries out their commands with ``requests`` for
HTTP long-polling and ``websocket-client`` for WebSocket, and runs the
application's handlers.  Each program step runs under the connection's
lock, the I/O between steps does not.

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

import inspect
import queue
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ._tls_socket import serialize_tls
from .base_client import BaseClient, Connection, hand_off_dispatch, invocation
from .packet import Frame
from .sansio import client_commands as cmd
from .sansio.client import ClientCore
from .sansio.client_commands import Command, Failure, HttpReply, Program

try:
    import requests
except ImportError:  # pragma: no cover - the "client" extra is not installed
    requests = None  # type: ignore[assignment]
try:
    import websocket
except ImportError:  # pragma: no cover - the "client" extra is not installed
    websocket = None  # type: ignore[assignment]

T = TypeVar('T')

#: Blocking clients with an open connection (disconnected on SIGINT).
connected_clients: list[Client] = []
original_signal_handler: Any = None


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


class _Connection(Connection[threading.Thread]):
    """The threads and synchronization of one connection of a
    :class:`Client`."""

    def __init__(self, core: ClientCore, headers: dict[str, str]) -> None:
        super().__init__(core, headers)
        # Reentrant: the SIGINT handler may disconnect while the main thread
        # holds the lock.
        self.lock = threading.RLock()
        #: Set when the core may have output for the writer.
        self.wake = threading.Event()
        #: Set when the connection is over and its end was dispatched.
        self.done = threading.Event()
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def own_thread(self) -> bool:
        return self.runs(threading.current_thread())


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

    def _init_driver(self) -> None:
        global original_signal_handler
        if self.handle_sigint and original_signal_handler is None and \
                threading.current_thread() is threading.main_thread():
            original_signal_handler = signal.signal(signal.SIGINT,
                                                    signal_handler)
        self._conn: _Connection | None = None

    # -- public API -----------------------------------------------------------
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
            self._run(conn, core.connecting())
        except BaseException:
            conn.done.set()
            raise

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
        if conn is not None:
            self._run(conn, conn.core.disconnecting(
                reason or self.reason.CLIENT_DISCONNECT, abort))

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

    # -- compatibility attributes ---------------------------------------------
    @property
    def read_loop_task(self) -> threading.Thread | None:
        return self._conn.reader if self._conn else None

    @property
    def write_loop_task(self) -> threading.Thread | None:
        return self._conn.writer if self._conn else None

    @property
    def ws(self) -> Any:
        """The ``websocket-client`` connection, when on WebSocket."""
        return self._core.websocket if self._core else None

    # -- carrying out the core's programs -------------------------------------
    def _run(self, conn: _Connection, program: Program[T]) -> T:
        """Run a program of the core: its steps under the connection's lock,
        the commands they return without it."""
        result: Any = None
        while True:
            with conn.lock:
                try:
                    command = program.send(result)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
            result = self._execute(conn, command)

    def _execute(self, conn: _Connection, command: Command) -> Any:
        match command:
            case cmd.HttpRequest():
                return self._request(conn, command)
            case cmd.ReceiveFrame(ws=ws, timeout=timeout):
                return self._ws_receive(ws, self._timeout(timeout))
            case cmd.SendFrames(ws=ws, frames=frames):
                return self._ws_send(ws, frames)
            case cmd.OpenWebSocket(url=url):
                return self._ws_open(conn, url)
            case cmd.CloseWebSocket(ws=ws, graceful=graceful):
                self._ws_close(conn, ws, graceful)
            case cmd.RunHandler():
                return self._run_handler(conn, command)
            case cmd.NextEvent():
                if conn.dispatcher is threading.current_thread():
                    return conn.events.get()
            case cmd.AwaitOutput():
                conn.wake.wait()
                conn.wake.clear()
            case cmd.StartLoops():
                self._new_dispatcher(conn)
                conn.writer = self._spawn(conn, conn.core.writing(), 'writer')
                conn.reader = self._spawn(conn, conn.core.reading(), 'reader')
            case cmd.Join(loop=loop):
                self._join(
                    conn.reader if loop is cmd.Loop.READER else conn.writer)
            case cmd.AwaitEnd():
                if not conn.own_thread():
                    conn.done.wait(self.request_timeout)
            case cmd.Connected():
                connected_clients.append(self)
            case cmd.Ended():
                try:
                    connected_clients.remove(self)
                except ValueError:
                    pass
                conn.done.set()
                conn.wake.set()
            case _:
                self._perform(conn, command)
        return None

    # -- HTTP and WebSocket ---------------------------------------------------
    def _request(self, conn: _Connection,
                 command: cmd.HttpRequest) -> HttpReply | Failure:
        # The session's own CA bundle is passed explicitly: requests would
        # otherwise let REQUESTS_CA_BUNDLE from the environment override it.
        verify = getattr(self.http, 'verify', None) if self.ssl_verify \
            else False
        try:
            r = self.http.request(
                command.method, command.url, data=command.body,
                headers=self._headers(conn, command.content_type),
                timeout=(self.request_timeout, self._timeout(command.timeout)),
                verify=verify)
        except requests.Timeout as exc:
            return Failure(str(exc), timed_out=True)
        except Exception as exc:
            return Failure(str(exc))
        return HttpReply(r.status_code, r.content)

    def _ws_open(self, conn: _Connection, url: str) -> Any:
        try:
            ws = websocket.create_connection(
                url, **self._ws_options(conn, url))
        except websocket.WebSocketBadStatusException as exc:
            return Failure(str(exc), status=exc.status_code,
                           body=exc.resp_body)
        except Exception as exc:
            return Failure(str(exc))
        # The reader and writer threads use it at once (see _tls_socket).
        ws.sock = serialize_tls(ws.sock)
        return ws

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

    @staticmethod
    def _ws_send(ws: Any, frames: list[Frame]) -> Failure | None:
        try:
            for frame in frames:
                if isinstance(frame, str):
                    ws.send(frame)
                else:
                    ws.send_binary(frame)
        except Exception as exc:
            return Failure(str(exc))
        return None

    @staticmethod
    def _ws_receive(ws: Any, timeout: float) -> Frame | Failure | None:
        try:
            ws.settimeout(timeout)
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException as exc:
            return Failure(str(exc), timed_out=True)
        except Exception as exc:
            return Failure(str(exc))
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return data.decode('utf-8', 'replace') \
                if isinstance(data, bytes) else data
        if opcode == websocket.ABNF.OPCODE_BINARY:
            return data  # type: ignore[no-any-return]
        return None  # a close frame

    def _ws_close(self, conn: _Connection, ws: Any, graceful: bool) -> None:
        if graceful:
            try:
                ws.send_close()
            except Exception:
                pass
        sock = ws.sock
        if sock is not None:
            try:
                # Wakes a thread blocked in recv on this socket.
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # The descriptor is closed only where no other thread of this
        # connection can still be in a read or write on it: one closed under
        # a reader still inside SSL_read is reused by the next connection,
        # whose handshake bytes the old TLS object then reads (wss clients
        # failed with UNEXPECTED_MESSAGE/WRONG_VERSION_NUMBER).  The reader
        # always closes the WebSocket when it ends: it does it, after the
        # writer, for the WebSocket the loops use.
        reader = conn.reader
        current = threading.current_thread()
        if ws is conn.core.websocket and reader is not None \
                and reader.is_alive():
            if reader is not current:
                return
            self._join(conn.writer)
        try:
            ws.shutdown()
        except Exception:
            pass

    # -- threads and handlers -------------------------------------------------
    def _spawn(self, conn: _Connection, program: Program[None],
               role: str) -> threading.Thread:
        th = threading.Thread(target=self._run, args=(conn, program),
                              daemon=True, name=f'engineio-client-{role}')
        th.start()
        return th

    def _new_dispatcher(self, conn: _Connection) -> None:
        """Start a dispatcher and make it the one that takes the next event
        (the previous one, if any, ends after its current handler)."""
        th = threading.Thread(target=self._run,
                              args=(conn, conn.core.dispatching()),
                              daemon=True, name='engineio-client-dispatcher')
        conn.dispatcher = th  # before start(): the thread checks it
        conn.dispatchers.append(th)
        th.start()

    def _run_handler(self, conn: _Connection,
                     command: cmd.RunHandler) -> Exception | None:
        handler, args = self._handler(command)
        if handler is None:
            return None
        with invocation(conn, threading.current_thread(), command,
                        lambda: self._new_dispatcher(conn)):
            try:
                if inspect.isawaitable(handler(*args)):  # pragma: no cover
                    raise TypeError(f'the {command.event!r} handler is a '
                                    'coroutine: use engineio.AsyncClient for '
                                    'asyncio handlers')
            except Exception as exc:
                return self._handler_failed(command, exc)
        return None

    def _join(self, thread: threading.Thread | None) -> None:
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.request_timeout)
