"""The asyncio Engine.IO client: a thin driver over the protocol core.

The twin of :mod:`engineio.client`, method for method: the core's programs
(:class:`engineio.sansio.client.ClientCore`) decide everything, and this
module carries out their commands with ``aiohttp`` (HTTP long-polling and
WebSocket) and runs the application's handlers, which can be plain
functions or coroutines.  Program steps run on the event loop without an
``await`` inside, which serializes them without a lock.

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
from collections.abc import Callable
from typing import Any, TypeVar

from .base_client import BaseClient, Connection, hand_off_dispatch, invocation
from .packet import Frame
from .sansio import client_commands as cmd
from .sansio.client import ClientCore
from .sansio.client_commands import Command, Failure, HttpReply, Program

try:
    import aiohttp
except ImportError:  # pragma: no cover - the "asyncio_client" extra is missing
    aiohttp = None  # type: ignore[assignment]

T = TypeVar('T')

#: Asyncio clients with an open connection (disconnected on SIGINT).
connected_clients: list[AsyncClient] = []
#: Event loops with our SIGINT handler, and the handler it replaced.
_sigint_loops: dict[asyncio.AbstractEventLoop, Any] = {}
#: Strong references to fire-and-forget tasks (asyncio keeps weak ones).
_background: set[asyncio.Future[Any]] = set()


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


class _Connection(Connection[asyncio.Task[None]]):
    """The tasks and HTTP session of one connection of an
    :class:`AsyncClient`."""

    def __init__(self, core: ClientCore, headers: dict[str, str]) -> None:
        super().__init__(core, headers)
        #: Set when the core may have output for the writer.
        self.wake = asyncio.Event()
        #: Set when the connection is over and its end was dispatched.
        self.done = asyncio.Event()
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.http: Any = None
        #: The session was created for this connection and is closed with it.
        self.owns_http = False

    def own_task(self) -> bool:
        try:
            return self.runs(asyncio.current_task())
        except RuntimeError:  # pragma: no cover - no running loop
            return False


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

    def _init_driver(self) -> None:
        self._conn: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The connection was closed because of SIGINT.
        self._interrupted = False

    def is_asyncio_based(self) -> bool:
        return True

    # -- public API -----------------------------------------------------------
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
            await self._run(conn, core.connecting())
        except BaseException:
            await self._close_http(conn)
            conn.done.set()
            raise

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
            # cmd.Ended by SIGINT: the interrupt is handed on right after the
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
        if conn is not None:
            await self._run(conn, conn.core.disconnecting(
                reason or self.reason.CLIENT_DISCONNECT, abort))

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

    # -- compatibility attributes ---------------------------------------------
    @property
    def read_loop_task(self) -> asyncio.Task[None] | None:
        return self._conn.reader if self._conn else None

    @property
    def write_loop_task(self) -> asyncio.Task[None] | None:
        return self._conn.writer if self._conn else None

    @property
    def ws(self) -> Any:
        """The ``aiohttp`` WebSocket, when on WebSocket."""
        return self._core.websocket if self._core else None

    # -- carrying out the core's programs -------------------------------------
    async def _run(self, conn: _Connection, program: Program[T]) -> T:
        """Run a program of the core, awaiting the commands it returns."""
        result: Any = None
        while True:
            try:
                command = program.send(result)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            result = await self._execute(conn, command)

    async def _execute(self, conn: _Connection, command: Command) -> Any:
        match command:
            case cmd.HttpRequest():
                return await self._request(conn, command)
            case cmd.ReceiveFrame(ws=ws, timeout=timeout):
                return await self._ws_receive(ws, self._timeout(timeout))
            case cmd.SendFrames(ws=ws, frames=frames):
                return await self._ws_send(ws, frames)
            case cmd.OpenWebSocket(url=url):
                return await self._ws_open(conn, url)
            case cmd.CloseWebSocket(ws=ws):
                await self._ws_close(ws)
            case cmd.RunHandler():
                return await self._run_handler(conn, command)
            case cmd.NextEvent():
                if conn.dispatcher is asyncio.current_task():
                    return await conn.events.get()
            case cmd.AwaitOutput():
                await conn.wake.wait()
                conn.wake.clear()
            case cmd.StartLoops():
                self._new_dispatcher(conn)
                conn.writer = self._spawn(conn, conn.core.writing())
                conn.reader = self._spawn(conn, conn.core.reading())
            case cmd.Join(loop=loop):
                await self._join(
                    conn.reader if loop is cmd.Loop.READER else conn.writer)
            case cmd.AwaitEnd():
                if not conn.own_task():
                    await self._wait_for(conn.done.wait())
            case cmd.Connected():
                connected_clients.append(self)
                if self.handle_sigint and self._loop is not None:
                    _install_sigint(self._loop)
            case cmd.Ended():
                await self._ended(conn)
            case _:
                self._perform(conn, command)
        return None

    # -- HTTP and WebSocket ---------------------------------------------------
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

    async def _close_http(self, conn: _Connection) -> None:
        http, conn.http = conn.http, None
        if http is not None and conn.owns_http:
            await http.close()

    async def _request(self, conn: _Connection,
                       command: cmd.HttpRequest) -> HttpReply | Failure:
        options: dict[str, Any] = {} if self.ssl_verify else {'ssl': False}
        timeout = aiohttp.ClientTimeout(total=self._timeout(command.timeout))
        try:
            async with conn.http.request(
                    command.method, command.url, data=command.body,
                    headers=self._headers(conn, command.content_type),
                    timeout=timeout, **options) as r:
                return HttpReply(r.status, await r.read())
        except asyncio.TimeoutError as exc:
            return Failure(repr(exc), timed_out=True)
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            # RuntimeError: the session was closed under the request.
            return Failure(repr(exc))

    async def _ws_open(self, conn: _Connection, url: str) -> Any:
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
            return Failure(repr(exc), status=exc.status)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            return Failure(repr(exc))

    @staticmethod
    async def _ws_send(ws: Any, frames: list[Frame]) -> Failure | None:
        try:
            for frame in frames:
                if isinstance(frame, str):
                    await ws.send_str(frame)
                else:
                    await ws.send_bytes(frame)
        except (aiohttp.ClientError, OSError, RuntimeError,
                asyncio.TimeoutError) as exc:
            return Failure(repr(exc))
        return None

    @staticmethod
    async def _ws_receive(ws: Any, timeout: float) -> Frame | Failure | None:
        try:
            msg = await ws.receive(timeout=timeout)
        except asyncio.TimeoutError as exc:
            return Failure(repr(exc), timed_out=True)
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            return Failure(repr(exc))
        if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            return msg.data  # type: ignore[no-any-return]
        return None  # CLOSE, CLOSING, CLOSED or ERROR: the WebSocket is gone

    async def _ws_close(self, ws: Any) -> None:
        # aiohttp's close() always sends a close frame, and waits for the
        # answer: bounded here.
        if not ws.closed:
            try:
                await self._wait_for(ws.close())
            except (aiohttp.ClientError, OSError,
                    RuntimeError):  # pragma: no cover
                pass

    # -- tasks and handlers ---------------------------------------------------
    def _spawn(self, conn: _Connection,
               program: Program[None]) -> asyncio.Task[None]:
        return asyncio.create_task(self._run(conn, program))

    def _new_dispatcher(self, conn: _Connection) -> None:
        """Start a dispatcher and make it the one that takes the next event
        (the previous one, if any, ends after its current handler)."""
        # The task runs only once this one yields: no race on the attribute.
        task = self._spawn(conn, conn.core.dispatching())
        conn.dispatcher = task
        conn.dispatchers.append(task)

    async def _run_handler(self, conn: _Connection,
                           command: cmd.RunHandler) -> Exception | None:
        handler, args = self._handler(command)
        if handler is None:
            return None
        # Tasks the handler creates (asyncio.wait_for() makes one on Python
        # 3.11) copy the context, and so see the invocation too.
        with invocation(conn, asyncio.current_task(), command,
                        lambda: self._new_dispatcher(conn)):
            try:
                result = handler(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                return self._handler_failed(command, exc)
        return None

    async def _ended(self, conn: _Connection) -> None:
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

    async def _join(self, task: asyncio.Task[None] | None) -> None:
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait([task], timeout=self.request_timeout)

    async def _wait_for(self, aw: Any) -> None:
        try:
            await asyncio.wait_for(aw, self.request_timeout)
        except asyncio.TimeoutError:
            pass
