"""The asyncio Engine.IO client: a thin driver over the protocol core.

The twin of :mod:`engineio.client`, method for method: every protocol
decision is made by :class:`engineio.sansio.client.ClientCore`, and this
module performs the I/O it asks for with ``aiohttp`` (HTTP long-polling and
WebSocket) and runs the application's handlers, which can be plain functions
or coroutines.

Each connection runs three tasks: a reader (long-polling GETs or WebSocket
receives, bounded by the heartbeat deadline), a writer (batched POSTs or
WebSocket sends) and a dispatcher that runs the ``message`` and
``disconnect`` handlers one at a time, in the order the server sent the
messages.  As in the blocking client, a handler that waits on an event or
queue made by ``create_event()`` / ``create_queue()``, or in ``sleep()``,
first hands the dispatching of the next messages to a new dispatcher task.
"""
from __future__ import annotations

import asyncio
import inspect
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from .client import BaseClient, _Invocation, _invocation, hand_off_dispatch
from .exceptions import ConnectionError, ProtocolError
from .payload import encode_frames
from .sansio.client import POLLING, WEBSOCKET, ClientCore, State
from .sansio.events import Disconnected, MessageReceived

try:
    import aiohttp
except ImportError:  # pragma: no cover - the "asyncio_client" extra is missing
    aiohttp = None  # type: ignore[assignment]

monotonic = time.monotonic

#: Asyncio clients with an open connection (disconnected on SIGINT).
connected_clients: list[AsyncClient] = []
#: Event loops with our SIGINT handler, and the handler it replaced.
_sigint_loops: dict[asyncio.AbstractEventLoop, Any] = {}
#: Strong references to fire-and-forget tasks (asyncio keeps weak ones).
_background: set[asyncio.Future[Any]] = set()

#: Shortest timeout handed to a read (see :mod:`engineio.client`).
_MIN_WAIT = 0.01


class _Event(asyncio.Event):
    """An :class:`asyncio.Event` that lets the next messages be dispatched
    while a handler waits on it."""

    async def wait(self) -> Any:
        if not self.is_set():
            hand_off_dispatch()
        return await super().wait()


class _Queue(asyncio.Queue):  # type: ignore[type-arg]
    """An :class:`asyncio.Queue` that lets the next messages be dispatched
    while a handler waits on it."""

    async def get(self) -> Any:
        if self.empty():
            hand_off_dispatch()
        return await super().get()


def _keep(task: asyncio.Future[Any]) -> asyncio.Future[Any]:
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


def _on_sigint(loop: asyncio.AbstractEventLoop) -> None:
    """SIGINT on a loop with connected clients: disconnect them, then hand
    the interrupt to the handler that was installed before."""
    clients = [c for c in connected_clients if c._loop is loop]
    for client in clients:
        client._interrupted = True

    async def disconnect_all() -> None:
        await asyncio.gather(*(c.disconnect() for c in clients),
                             return_exceptions=True)
        _uninstall_sigint(loop)
        signal.raise_signal(signal.SIGINT)

    _keep(loop.create_task(disconnect_all()))


def _install_sigint(loop: asyncio.AbstractEventLoop) -> None:
    if loop in _sigint_loops or \
            threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):
        return
    try:
        loop.add_signal_handler(signal.SIGINT, _on_sigint, loop)
    except (NotImplementedError, RuntimeError, ValueError):
        return  # not on Unix, or not the main thread's loop
    _sigint_loops[loop] = previous


def _uninstall_sigint(loop: asyncio.AbstractEventLoop) -> None:
    if loop not in _sigint_loops:
        return
    previous = _sigint_loops.pop(loop)
    try:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous)
    except (RuntimeError, ValueError):  # pragma: no cover - loop closing
        pass


class _Connection:
    """The I/O objects and tasks of one connection of an
    :class:`AsyncClient` (see :class:`engineio.client._Connection`)."""

    def __init__(self, core: ClientCore, headers: dict[str, str]) -> None:
        self.core = core
        self.headers = headers
        self.wake = asyncio.Event()
        self.done = asyncio.Event()
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.stopping = False
        self.http: Any = None
        #: The session was created for this connection and is closed with it.
        self.owns_http = False
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.writer: asyncio.Task[None] | None = None
        #: The dispatcher task that takes the next event.
        self.dispatcher: asyncio.Task[None] | None = None
        #: Every dispatcher this connection had (see hand_off_dispatch()).
        self.dispatchers: list[asyncio.Task[None]] = []

    def post(self, events: list[Any]) -> None:
        for event in events:
            self.events.put_nowait(event)

    def own_task(self) -> bool:
        try:
            current = asyncio.current_task()
        except RuntimeError:  # pragma: no cover - no running loop
            return False
        return current is not None and (
            current in (self.reader, self.writer)
            or current in self.dispatchers)


class AsyncClient(BaseClient):
    """An Engine.IO client for asyncio.

    This class implements a fully compliant Engine.IO web client with support
    for websocket and long-polling transports, compatible with the asyncio
    framework on Python 3.10 or newer.

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
    :param http_session: an initialized ``aiohttp.ClientSession`` object to be
                         used when sending requests to the server, or a
                         callable that returns one. Use it if you need to add
                         special client options such as proxy servers, SSL
                         certificates, etc. A session given here is never
                         closed by the client.
    :param ssl_verify: ``True`` to verify SSL certificates, or ``False`` to
                       skip SSL certificate verification, allowing
                       connections to servers with self signed certificates.
                       The default is ``True``.
    :param handle_sigint: Set to ``True`` to automatically handle
                          disconnection when the process is interrupted, or
                          to ``False`` to leave interrupt handling to the
                          calling application. Interrupt handling can only be
                          enabled when the client connects from the main
                          thread.
    :param websocket_extra_options: Dictionary containing additional keyword
                                    arguments passed to
                                    ``aiohttp.ClientSession.ws_connect()``.
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
        super().__init__(logger=logger, json=json,
                         request_timeout=request_timeout,
                         http_session=http_session, ssl_verify=ssl_verify,
                         handle_sigint=handle_sigint,
                         websocket_extra_options=websocket_extra_options,
                         timestamp_requests=timestamp_requests)
        self._conn: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The connection was closed because of SIGINT.
        self._interrupted = False

    def is_asyncio_based(self) -> bool:
        return True

    # -- public API --------------------------------------------------------
    async def connect(self, url: str, headers: dict[str, str] | None = None,
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

        Note: this method is a coroutine.

        Example usage::

            eio = engineio.AsyncClient()
            await eio.connect('http://localhost:5000')
        """
        core = self._new_core(url, transports, engineio_path)
        if aiohttp is None:  # pragma: no cover
            raise RuntimeError('the asyncio Engine.IO client needs the '
                               '"aiohttp" package: install '
                               'python-engineio[asyncio_client]')
        conn = _Connection(core, dict(headers or {}))
        self._core = core
        self._conn = conn
        self._loop = asyncio.get_running_loop()
        self._interrupted = False
        try:
            await self._open_http(conn)
            if core.first_transport == POLLING:
                events = await self._open_polling(conn)
            else:
                events = await self._open_websocket(conn)
        except BaseException:
            await self._close_http(conn)
            conn.done.set()
            raise
        self.logger.info('Connected to %s as %s (%s)', url, core.sid,
                         core.transport)
        connected_clients.append(self)
        if self.handle_sigint:
            _install_sigint(self._loop)
        try:
            await self._call_handler('connect', raise_errors=True)
        except Exception as exc:
            core.close()
            await self._flush_close(conn)
            await self._end(conn)
            raise ConnectionError(f'connect handler failed: {exc!r}') from exc
        if core.can_upgrade():
            await self._upgrade(conn)
        if core.state is not State.CONNECTED:
            return  # the connect handler disconnected
        conn.post(events)
        self._log_events(events)
        reader = self._read_websocket if core.transport == WEBSOCKET \
            else self._read_polling
        self._new_dispatcher(conn)
        conn.writer = asyncio.create_task(self._write_loop(conn))
        conn.reader = asyncio.create_task(reader(conn))

    async def wait(self) -> None:
        """Wait until the connection with the server ends.

        Client applications can use this function to block the main thread
        during the life of the connection.

        Note: this method is a coroutine.
        """
        conn = self._conn
        if conn is None or conn.own_task():
            return
        await conn.done.wait()
        if self._interrupted:
            # Ended by SIGINT: the interrupt is handed on right after the
            # disconnect and cancels this task, as it would have without
            # the client; do not return before that happens.
            await asyncio.sleep(1)

    async def send(self, data: Any) -> None:
        """Send a message to the server.

        :param data: The data to send to the server. Data can be of type
                     ``str``, ``bytes``, ``list`` or ``dict``. If a ``list``
                     or ``dict``, the data will be serialized as JSON.

        The message is queued and written in the background; it is dropped
        when the client is not connected.

        Note: this method is a coroutine.
        """
        conn = self._conn
        if conn is not None and conn.core.send(data):
            conn.wake.set()

    async def disconnect(self, abort: bool = False,
                         reason: str | None = None) -> None:
        """Disconnect from the server.

        :param abort: If set to ``True``, do not wait for background tasks
                      associated with the connection to end.
        :param reason: The reason passed to the ``disconnect`` handler; by
                       default ``AsyncClient.reason.CLIENT_DISCONNECT``.

        Note: this method is a coroutine.
        """
        conn = self._conn
        if conn is None:
            return
        event = conn.core.close(reason or self.reason.CLIENT_DISCONNECT)
        conn.wake.set()
        if event is None:
            # Already over, or ending: the dispatcher reports it.
            if conn.core.state is State.DISCONNECTED:
                return
            if not abort and not conn.own_task():
                await self._wait_for(conn.done.wait())
            return
        self.logger.info('Disconnecting: %s', event.reason)
        conn.stopping = True
        conn.events.put_nowait(None)
        await self._call_handler('disconnect',
                                 *self._disconnect_args(event.reason))
        if conn.writer is None:
            # The connection's tasks have not started (this is the connect
            # handler): deliver the close packet from here.
            await self._flush_close(conn)
        elif not abort:
            await self._join(conn.writer)
            await self._close_ws(conn)
            await self._join(conn.reader)
        await self._end(conn)

    def start_background_task(self, target: Callable[..., Any], *args: Any,
                              **kwargs: Any) -> asyncio.Task[Any]:
        """Start a background task.

        This is a utility function that applications can use to start a
        background task.

        :param target: the target function to execute. Must be a coroutine.
        :param args: arguments to pass to the function.
        :param kwargs: keyword arguments to pass to the function.

        The return value is an ``asyncio.Task`` object.
        """
        return asyncio.ensure_future(target(*args, **kwargs))

    async def sleep(self, seconds: float = 0) -> None:
        """Sleep for the requested amount of time.

        In a ``message`` handler, the messages that follow are dispatched
        while it sleeps.

        Note: this method is a coroutine.
        """
        if seconds > 0:
            hand_off_dispatch()
        await asyncio.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> asyncio.Queue[Any]:
        """Create a queue object.

        A handler waiting in its ``get()`` lets the messages that follow be
        dispatched meanwhile.
        """
        return _Queue(*args, **kwargs)

    def create_event(self, *args: Any, **kwargs: Any) -> asyncio.Event:
        """Create an event object.

        A handler waiting in its ``wait()`` lets the messages that follow be
        dispatched meanwhile (python-socketio's ``call()`` waits on one).
        """
        return _Event(*args, **kwargs)

    # -- compatibility attributes ------------------------------------------
    @property
    def read_loop_task(self) -> asyncio.Task[None] | None:
        return self._conn.reader if self._conn else None

    @property
    def write_loop_task(self) -> asyncio.Task[None] | None:
        return self._conn.writer if self._conn else None

    @property
    def ws(self) -> Any:
        """The ``aiohttp`` WebSocket, when on WebSocket."""
        return self._conn.ws if self._conn else None

    # -- opening -----------------------------------------------------------
    async def _open_http(self, conn: _Connection) -> None:
        http = self.http
        if isinstance(http, aiohttp.ClientSession) or \
                (http is not None and not callable(http)):
            conn.http = http  # the application's: never closed here
            return
        if http is not None:
            # A factory: the session it makes belongs to this connection.
            conn.http = http()
            if inspect.isawaitable(conn.http):
                conn.http = await conn.http
        else:
            # unsafe=True: keep cookies set by servers addressed by IP (a
            # load balancer's sticky-session cookie, for one).
            conn.http = aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True))
        conn.owns_http = True

    async def _open_polling(self, conn: _Connection) -> list[Any]:
        core = conn.core
        url = core.request_url(POLLING, time.time())
        self.logger.info('Attempting polling connection to %s', url)
        try:
            status, body = await self._request(conn, 'GET', url,
                                               self.request_timeout)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise ConnectionError(f'Connection failed: {exc!r}') from exc
        if not 200 <= status < 300:
            raise self._handshake_failed(status, body)
        try:
            return core.open_polling(body, monotonic())
        except ProtocolError as exc:
            raise ConnectionError(f'Unexpected response from server: {exc}'
                                  ) from exc

    async def _open_websocket(self, conn: _Connection) -> list[Any]:
        core = conn.core
        url = core.request_url(WEBSOCKET)
        self.logger.info('Attempting WebSocket connection to %s', url)
        ws = await self._ws_connect(conn, url)
        try:
            msg = await ws.receive(timeout=self.request_timeout)
            frame = msg.data if msg.type in (aiohttp.WSMsgType.TEXT,
                                             aiohttp.WSMsgType.BINARY) else ''
            events = core.open_websocket(frame, monotonic())
        except ProtocolError as exc:
            await ws.close()
            raise ConnectionError(f'Unexpected response from server: {exc}'
                                  ) from exc
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            await ws.close()
            raise ConnectionError(f'Connection failed: {exc!r}') from exc
        conn.ws = ws
        return events

    async def _ws_connect(self, conn: _Connection, url: str) -> Any:
        """Open a WebSocket; ConnectionError if the server refuses it."""
        options: dict[str, Any] = {'headers': conn.headers,
                                   # No size limit on what the server sends,
                                   # as with the blocking client.
                                   'max_msg_size': 0}
        if not self.ssl_verify:
            options['ssl'] = False
        for key, value in self.websocket_extra_options.items():
            # Extra headers add to the application's; anything else wins.
            if key == 'headers' and isinstance(value, dict):
                options['headers'] = {**conn.headers, **value}
            else:
                options[key] = value
        try:
            return await asyncio.wait_for(conn.http.ws_connect(url, **options),
                                          self.request_timeout)
        except aiohttp.WSServerHandshakeError as exc:
            raise self._handshake_failed(exc.status, None) from exc
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise ConnectionError(f'Connection failed: {exc!r}') from exc

    async def _request(self, conn: _Connection, method: str, url: str,
                       timeout: float, body: str | None = None
                       ) -> tuple[int, bytes]:
        headers = conn.headers
        if body is not None:
            headers = dict(headers)
            headers['Content-Type'] = 'text/plain;charset=UTF-8'
        options: dict[str, Any] = {} if self.ssl_verify else {'ssl': False}
        async with conn.http.request(
                method, url, headers=headers, data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
                **options) as r:
            return r.status, await r.read()

    async def _upgrade(self, conn: _Connection) -> None:
        """Probe a WebSocket and move the connection onto it.

        Done before the polling tasks start, so polling is already paused
        when the probe is answered and the upgrade completes at once.
        """
        core = conn.core
        url = core.request_url(WEBSOCKET)
        self.logger.info('Attempting WebSocket upgrade to %s', url)
        try:
            ws = await self._ws_connect(conn, url)
        except ConnectionError as exc:
            self.logger.info('WebSocket upgrade failed: %s', exc)
            return
        try:
            await ws.send_str(core.begin_probe())
            msg = await ws.receive(timeout=self.request_timeout)
            ok = msg.type == aiohttp.WSMsgType.TEXT and \
                core.probe_answered(msg.data) and core.upgrade_ready
            if ok:
                await ws.send_str(core.complete_upgrade())
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            self.logger.info('WebSocket upgrade failed: %s', exc)
            ok = False
        if not ok:
            core.abort_upgrade()
            await ws.close()
            return
        conn.ws = ws
        self.logger.info('WebSocket upgrade was successful')

    async def _flush_close(self, conn: _Connection) -> None:
        """Write what a connection closed before its tasks started still has
        queued (its close packet), then close the WebSocket."""
        frames = conn.core.take_frames()
        try:
            if conn.ws is not None:
                for frame in frames:
                    await self._ws_send(conn.ws, frame)
            elif frames:
                url = conn.core.request_url(POLLING, time.time())
                await self._request(conn, 'POST', url, self.request_timeout,
                                    encode_frames(frames))
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            self.logger.info('Could not deliver the close packet: %s', exc)
        await self._close_ws(conn)

    # -- the connection's tasks --------------------------------------------
    async def _read_polling(self, conn: _Connection) -> None:
        core = conn.core
        events: list[Any] = []
        while True:
            now = monotonic()
            events = core.on_deadline(now)
            if events or not core.begin_poll():
                break
            url = core.request_url(POLLING, time.time())
            # The GET is the heartbeat timer: the server answers it at the
            # latest with its next ping.
            timeout = max(core.time_left(now), _MIN_WAIT)
            body: bytes | None = None
            try:
                status, body = await self._request(conn, 'GET', url, timeout)
                if not 200 <= status < 300:
                    self.logger.warning('Unexpected status code %s in '
                                        'polling response', status)
                    body = None
            except asyncio.TimeoutError:
                self.logger.warning('Server has stopped sending pings')
            except (aiohttp.ClientError, OSError, RuntimeError) as exc:
                # RuntimeError: the session was closed under the request.
                if core.active:
                    self.logger.warning('Polling request failed: %s', exc)
            if body is None:
                events = core.on_deadline(monotonic()) or core.transport_lost()
                break
            events = core.receive_payload(body, monotonic())
            if core.has_output():
                conn.wake.set()
            conn.post(events)
            if events and type(events[-1]) is Disconnected:
                events = []
                break
        await self._reader_done(conn, events)

    async def _read_websocket(self, conn: _Connection) -> None:
        core = conn.core
        ws = conn.ws
        events: list[Any] = []
        while True:
            now = monotonic()
            events = core.on_deadline(now)
            if events:
                self.logger.warning('Server has stopped sending pings')
                break
            if not core.active:
                break
            try:
                # The receive timeout is the heartbeat timer.
                msg = await ws.receive(
                    timeout=max(core.time_left(now), _MIN_WAIT))
            except asyncio.TimeoutError:
                continue
            except (aiohttp.ClientError, OSError, RuntimeError) as exc:
                if core.active:
                    self.logger.warning('WebSocket failed: %s', exc)
                events = core.transport_lost()
                break
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                events = core.receive_frame(msg.data, monotonic())
            else:
                # CLOSE, CLOSING, CLOSED or ERROR: the WebSocket is gone.
                events = core.transport_lost()
                break
            if core.has_output():
                conn.wake.set()
            conn.post(events)
            if events and type(events[-1]) is Disconnected:
                events = []
                break
        await self._reader_done(conn, events)

    async def _reader_done(self, conn: _Connection, events: list[Any]) -> None:
        self._log_events(events)
        conn.post(events)
        conn.wake.set()  # the writer may be done now
        if conn.core.state is not State.CONNECTED or conn.core.lost:
            await self._close_ws(conn)

    async def _write_loop(self, conn: _Connection) -> None:
        core = conn.core
        while True:
            polling = core.transport == POLLING
            frames = core.begin_post() if polling else core.take_frames()
            if not frames:
                if core.writer_done:
                    break
                conn.wake.clear()
                await conn.wake.wait()
                continue
            try:
                if polling:
                    url = core.request_url(POLLING, time.time())
                    status, _ = await self._request(
                        conn, 'POST', url, self.request_timeout,
                        encode_frames(frames))
                    ok = 200 <= status < 300
                    if not ok:
                        self.logger.warning('Unexpected status code %s in '
                                            'POST response', status)
                else:
                    for frame in frames:
                        await self._ws_send(conn.ws, frame)
                    ok = True
            except (aiohttp.ClientError, OSError, RuntimeError,
                    asyncio.TimeoutError) as exc:
                self.logger.warning('Write failed: %s', exc)
                ok = False
            if polling:
                core.end_post()
            if not ok:
                events = core.transport_lost()
                self._log_events(events)
                conn.post(events)
                break
        if core.state is not State.CONNECTED or core.lost:
            # A deliberate close sends a WebSocket close frame; the reader
            # sees the server's answer and ends.
            await self._close_ws(conn)

    @staticmethod
    async def _ws_send(ws: Any, frame: str | bytes) -> None:
        if isinstance(frame, str):
            await ws.send_str(frame)
        else:
            await ws.send_bytes(frame)

    def _new_dispatcher(self, conn: _Connection) -> None:
        """Start a dispatcher and make it the one that takes the next event
        (the previous one, if any, ends after its current handler)."""
        # The task runs only once this one yields: no race on the attribute.
        task = asyncio.ensure_future(self._dispatch_loop(conn))
        conn.dispatcher = task
        conn.dispatchers.append(task)

    async def _dispatch_loop(self, conn: _Connection) -> None:
        me = asyncio.current_task()
        while conn.dispatcher is me:
            item = await conn.events.get()
            if item is None:
                return
            if type(item) is MessageReceived:
                if not conn.stopping:
                    await self._dispatch(conn, me, 'message', item.data)
                continue
            # The end of the connection: the state is still 'connected' for
            # a transport error while the handler runs (python-socketio
            # reconnects on that), 'disconnecting' for a server close.
            await self._dispatch(conn, me, 'disconnect',
                                 *self._disconnect_args(item.reason))
            await self._end(conn)
            return

    async def _dispatch(self, conn: _Connection, me: Any, event: str,
                        *args: Any) -> None:
        inv = _Invocation(conn, me, lambda: self._new_dispatcher(conn))
        # Tasks the handler creates (asyncio.wait_for() makes one on Python
        # 3.11) copy the context, and so see the invocation too.
        token = _invocation.set(inv)
        try:
            await self._call_handler(event, *args)
        finally:
            inv.running = False
            _invocation.reset(token)

    # -- ending ------------------------------------------------------------
    async def _end(self, conn: _Connection) -> None:
        conn.core.finish()
        try:
            connected_clients.remove(self)
        except ValueError:
            pass
        if self._loop is not None and \
                not any(c._loop is self._loop for c in connected_clients):
            _uninstall_sigint(self._loop)
        conn.done.set()
        conn.wake.set()
        if conn.owns_http:
            writer = conn.writer
            if writer is not None and not writer.done() and \
                    writer is not asyncio.current_task():
                # An aborted disconnect: the writer may still be delivering
                # the close packet with this session.
                _keep(asyncio.ensure_future(self._close_http_after(conn)))
            else:
                await self._close_http(conn)

    async def _close_http_after(self, conn: _Connection) -> None:
        await self._join(conn.writer)
        await self._close_http(conn)

    async def _close_http(self, conn: _Connection) -> None:
        http, conn.http = conn.http, None
        if http is not None and conn.owns_http:
            await http.close()

    async def _close_ws(self, conn: _Connection) -> None:
        ws = conn.ws
        if ws is not None and not ws.closed:
            try:
                await self._wait_for(ws.close())
            except (aiohttp.ClientError, OSError,
                    RuntimeError):  # pragma: no cover
                pass

    async def _join(self, task: asyncio.Task[None] | None) -> None:
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait([task], timeout=self.request_timeout)

    async def _wait_for(self, aw: Any) -> None:
        try:
            await asyncio.wait_for(aw, self.request_timeout)
        except asyncio.TimeoutError:
            pass

    async def _call_handler(self, event: str, *args: Any,
                            raise_errors: bool = False) -> Any:
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            result = handler(*args)
            if inspect.isawaitable(result):
                result = await result
            return result
        except Exception:
            if raise_errors:
                raise
            self.logger.exception('%s handler error', event)
            return None
