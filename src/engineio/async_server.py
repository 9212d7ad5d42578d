"""The asyncio Engine.IO server: a thin driver over the protocol core.

Every protocol decision is the core's (:mod:`engineio.sansio`); this module
reads requests and WebSocket frames through a framework adapter, hands them
to the core, and performs what it returns: write output, dispatch events to
handlers, re-arm the timer.  It is the twin of :mod:`engineio.server`, with
the same methods in the same order.

All core calls happen on the event loop thread without an ``await`` in
between, which is what serializes them (the blocking server needs a lock).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import inspect
import logging
import pickle
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

from . import packet
from .adapters import asgi
from .adapters.protocols import Exchange, WebSocket
from .adapters.routing import normalize_engineio_path
from .async_socket import AsyncSocket
from .base_server import BaseServer, user_session
from .exceptions import ContentTooLongError
from .runners import TaskChain, first_step
from .sansio.commands import Timer, TimerCommand, WebSocketEnd
from .sansio.events import Disconnected, MessageReceived
from .sansio.models import Headers, Request, Response
from .sansio.server import Action, ErrorCode, error_response
from .sansio.session import NOT_A_MESSAGE, POLLING, WEBSOCKET, Push, State

monotonic = time.monotonic
isawaitable = inspect.isawaitable

#: The order in which ``AsyncServer(async_mode=None)`` tries frameworks.
ASYNC_MODES = ('aiohttp', 'sanic', 'tornado', 'asgi')

# Kinds of the items queued for a session's handler chain.
_MESSAGE = 0
_AWAIT = 1
_DISCONNECT = 2

# The long-polling hooks as this module defines them: when python-socketio's
# admin instrumentation has not wrapped them, handle_request skips them (and
# the environ they take).
_PLAIN_GET = AsyncSocket.handle_get_request
_PLAIN_POST = AsyncSocket.handle_post_request


class AsyncServer(BaseServer):
    """An Engine.IO server for asyncio.

    This class implements a fully compliant Engine.IO web server with support
    for websocket and long-polling transports, compatible with the asyncio
    framework.

    .. options: generated from engineio.options.SERVER_OPTIONS

    Handlers may be plain functions or coroutine functions. Besides
    ``connect``, ``message`` and ``disconnect``, a ``connection_error``
    handler receives every refused request as ``(error, environ)``, where
    ``error`` has the official ``code``, its ``message`` and a ``detail``
    that says what was wrong.

    The ``environ`` given to ``connect``, ``allow_request`` and
    ``connection_error`` is WSGI-style (``REQUEST_METHOD``, ``PATH_INFO``,
    ``QUERY_STRING``, ``HTTP_*`` headers...) with the framework's own objects
    added: ``'asgi.scope'``, ``'aiohttp.request'``, ``'tornado.handler'`` or
    ``'sanic.request'``.
    """

    def _init_driver(self) -> None:
        self._service_task: asyncio.Task[None] | None = None
        self._service_wake = asyncio.Event()
        self._stopping = False
        self._socket_factory = functools.partial(AsyncSocket, server=self)
        # Strong references to tasks started here: the event loop keeps
        # only weak ones, and a task must not vanish while it runs.
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner = TaskChain(self._run_item)

    def _select_async_mode(self, async_mode: str | None) -> str:
        if async_mode is not None and async_mode not in ASYNC_MODES:
            raise ValueError(f'Invalid async_mode {async_mode!r}; valid '
                             'modes: ' + ', '.join(ASYNC_MODES))
        modes = [async_mode] if async_mode else list(ASYNC_MODES)
        for mode in modes:
            adapter = importlib.import_module(f'.adapters.{mode}', __package__)
            try:
                adapter.require()
            except ImportError as exc:
                if async_mode:
                    raise ValueError(
                        f'Invalid async_mode specified: {mode!r} needs '
                        f'packages that are not installed ({exc})') from exc
                continue
            self._adapter: Any = adapter
            return mode
        raise ValueError('no usable async mode')  # pragma: no cover

    def is_asyncio_based(self) -> bool:
        return True

    def _make_node(self, url: Any) -> Any:
        from .cluster.async_node import AsyncNode
        return AsyncNode(self, url)

    # -- public API ------------------------------------------------------
    def attach(self, app: Any, engineio_path: str = 'engine.io') -> None:
        """Attach the Engine.IO server to an application.

        :param app: The application: an ``aiohttp.web.Application`` or a
                    ``sanic.Sanic`` instance, matching ``async_mode``.
        :param engineio_path: The endpoint where the Engine.IO server is
                              installed.

        With ``async_mode='asgi'`` wrap the server in :class:`ASGIApp`
        instead, and with tornado use :func:`get_tornado_handler`.
        """
        attach = getattr(self._adapter, 'attach', None)
        if attach is None:
            raise ValueError(
                f'attach() is not available with async_mode '
                f'{self.async_mode!r}: use engineio.ASGIApp for ASGI servers '
                'and engineio.get_tornado_handler for tornado')
        attach(self, app, normalize_engineio_path(engineio_path))

    async def send(self, sid: str, data: Any) -> None:
        """Send a message to a client.

        :param sid: The session id of the recipient client.
        :param data: The data to send to the client. Data can be of type
                     ``str``, ``bytes``, ``list`` or ``dict``. If a ``list``
                     or ``dict``, the data will be serialized as JSON.

        Note: this method is a coroutine.
        """
        await self._send_frame(sid, packet.encode_data(packet.MESSAGE, data))

    async def send_packet(self, sid: str, pkt: packet.Packet) -> None:
        """Send a raw packet to a client.

        :param sid: The session id of the recipient client.
        :param pkt: The packet to send to the client.

        Note: this method is a coroutine.
        """
        await self._send_frame(sid, pkt.encode())

    async def get_session(self, sid: str) -> dict[str, Any]:
        """Return the user session for a client.

        :param sid: The session id of the client.

        The return value is a dictionary. Modifications made to this
        dictionary are not guaranteed to be preserved. If you want to modify
        the user session, use the ``session`` context manager instead.
        """
        owner = self._owner(sid)
        if owner is not None:
            data = await self._node.call(owner, sid, 'get_session')
            return pickle.loads(data)  # type: ignore[no-any-return]
        return user_session(self._get_socket(sid))

    async def save_session(self, sid: str, session: dict[str, Any]) -> None:
        """Store the user session for a client.

        :param sid: The session id of the client.
        :param session: The session dictionary.
        """
        owner = self._owner(sid)
        if owner is not None:
            await self._node.call(owner, sid, 'save_session',
                                  pickle.dumps(session))
            return
        self._get_socket(sid).session = session

    @contextlib.asynccontextmanager
    async def session(self, sid: str) -> AsyncIterator[dict[str, Any]]:
        """Return the user session for a client with context manager syntax.

        :param sid: The session id of the client.

        This is a context manager that returns the user session dictionary
        for the client. Any changes that are made to this dictionary inside
        the context manager block are saved back to the session. Example
        usage::

            @eio.on('connect')
            async def on_connect(sid, environ):
                username = authenticate_user(environ)
                if not username:
                    return False
                async with eio.session(sid) as session:
                    session['username'] = username

            @eio.on('message')
            async def on_message(sid, msg):
                async with eio.session(sid) as session:
                    print('received message from ', session['username'])
        """
        data = await self.get_session(sid)
        yield data
        await self.save_session(sid, data)

    async def disconnect(self, sid: str | None = None) -> None:
        """Disconnect a client.

        :param sid: The session id of the client to close. If this parameter
                    is not given, then all clients are closed.

        Note: this method is a coroutine.
        """
        if sid is None:
            for s in list(self.sockets):
                await self.disconnect(s)
            return
        socket = self.sockets.get(sid)
        if socket is None:
            owner = self._owner(sid)
            if owner is not None:
                await self._node.disconnect(owner, sid)
            return
        event = self.core.close(socket, self.reason.SERVER_DISCONNECT,
                                monotonic())
        if event is not None:
            self.logger.info('%s: disconnected (%s)', sid, event.reason)
            await self._teardown(socket, flush=True)
            await self._call_disconnect(sid, event.reason)

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        """Handle an HTTP request from the client.

        This is the entry point of the Engine.IO application. This function
        returns the HTTP response to deliver to the client, in the form the
        framework of ``async_mode`` expects.

        The arguments are the framework's: ``(scope, receive, send)`` for
        ASGI (recognized whatever ``async_mode`` is), the request for aiohttp
        and sanic, the request handler for tornado.

        Note: this method is a coroutine.
        """
        if len(args) == 3:
            exchange: Exchange = asgi.translate_request(*args)
        else:
            exchange = self._adapter.translate_request(*args, **kwargs)
        req = exchange.request
        if self._node is not None and not self._node.started:
            await self._node.start()
        try:
            route = self.core.route(req, monotonic())
            exchange.set_cors(route.headers)
            if route.closed is not None:
                closed, event = route.closed
                await self._closed(closed, event)  # type: ignore[arg-type]
            action = route.action
            if action is Action.POLL:
                socket: Any = route.session
                if AsyncSocket.handle_get_request is _PLAIN_GET:
                    # No instrumentation wraps the hook: no environ for it.
                    return await exchange.respond(
                        await self._poll(socket, req, route.headers))
                return await exchange.respond(
                    await socket.handle_get_request(exchange.hook_environ()))
            if action is Action.POST:
                socket = route.session
                if AsyncSocket.handle_post_request is _PLAIN_POST:
                    return await exchange.respond(await self._post(
                        socket, req, route.headers, exchange.body_input()))
                return await exchange.respond(
                    await socket.handle_post_request(exchange.hook_environ()))
            if action is Action.HANDSHAKE:
                opened = await self._handshake(route, exchange)
            elif action is Action.UPGRADE:
                opened = await self._upgrade(route, exchange)
            elif action is Action.DISCARD:
                return await self._discard(route, exchange)
            elif action is Action.FORWARD:
                return await self._node.forward(route, exchange)
            else:
                if route.refusal is not None:
                    await self._refused(route.refusal, req.method,
                                        exchange.environ)
                return await exchange.respond(cast(Response, route.response))
            if not isinstance(opened, AsyncSocket):
                return opened  # answered (refused, polling, failed)
        finally:
            # An exchange that builds its environ on demand and its request
            # refer to each other: free them now, not in the cycle collector.
            req.native_factory = None
        # A WebSocket session runs here, in the web server's task, for as
        # long as it lives: no frame of the handshake stays suspended under
        # it, nor the request and route they held.
        del req, route, args, kwargs
        exchange.request = None  # type: ignore[assignment]
        if action is Action.UPGRADE:
            await opened._websocket_handler(opened.upgrade_ws)
        else:
            try:
                await opened._websocket_handler(opened.ws)
            except OSError:
                await self._close(opened, self.reason.TRANSPORT_ERROR)
        return await exchange.finish_websocket()

    async def shutdown(self) -> None:
        """Stop Engine.IO background tasks.

        This method stops background activity initiated by the Engine.IO
        server. It must be called before shutting down the web server.

        Note: this method is a coroutine.
        """
        self._stopping = True
        self._service_wake.set()
        task, self._service_task = self._service_task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._node is not None and self._node.started:
            await self._node.stop()
        self._stopping = False
        # A new event: the server may be started again on another loop.
        self._service_wake = asyncio.Event()

    def start_background_task(self, target: Callable[..., Any], *args: Any,
                              **kwargs: Any) -> asyncio.Task[Any]:
        """Start a background task using the appropriate async model.

        This is a utility function that applications can use to start a
        background task using the method that is compatible with the
        selected async mode.

        :param target: the target function to execute: a coroutine function
                       (a plain function runs on the event loop).
        :param args: arguments to pass to the function.
        :param kwargs: keyword arguments to pass to the function.

        The return value is a ``asyncio.Task`` object.
        """
        async def run() -> Any:
            ret = target(*args, **kwargs)
            if isawaitable(ret):
                ret = await ret
            return ret

        return self._spawn(run())

    async def sleep(self, seconds: float = 0) -> None:
        """Sleep for the requested amount of time using the appropriate async
        model.

        This is a utility function that applications can use to put a task to
        sleep without having to worry about using the correct call for the
        selected async mode.

        Note: this method is a coroutine.
        """
        await asyncio.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> asyncio.Queue[Any]:
        """Create a queue object using the appropriate async model.

        This is a utility function that applications can use to create a
        queue without having to worry about using the correct call for the
        selected async mode. For asyncio based async modes, this returns an
        instance of ``asyncio.Queue``.
        """
        return asyncio.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> type[BaseException]:
        """Return the queue empty exception for the appropriate async model.

        This is a utility function that applications can use to work with a
        queue without having to worry about using the correct call for the
        selected async mode. For asyncio based async modes, this returns an
        instance of ``asyncio.QueueEmpty``.
        """
        return asyncio.QueueEmpty

    def create_event(self, *args: Any, **kwargs: Any) -> asyncio.Event:
        """Create an event object using the appropriate async model.

        This is a utility function that applications can use to create an
        event without having to worry about using the correct call for the
        selected async mode. For asyncio based async modes, this returns an
        instance of ``asyncio.Event``.
        """
        return asyncio.Event(*args, **kwargs)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- output ----------------------------------------------------------
    async def _send_frame(self, sid: str, frame: packet.Frame) -> None:
        socket = self.sockets.get(sid)
        if socket is None:
            owner = self._owner(sid)
            if owner is not None:
                await self._node.send(owner, sid, frame)
                return
            self.logger.warning('%s: cannot send, no such session', sid)
            return
        result = socket.push(frame)
        if result is Push.WRITE:
            # The hot path of a WebSocket session: write in place, without
            # another coroutine layer.
            try:
                await socket.ws.send(frame)
            except (OSError, ValueError, RuntimeError) as exc:
                await self._write_failed(socket, exc)
        else:
            await self._pushed(socket, result)

    async def _pushed(self, socket: AsyncSocket, result: Push) -> None:
        """Act on what the session did with a frame it did not hand back
        for writing."""
        if result is Push.BUFFERED:
            socket.wake_poll()
        elif result is Push.FLUSH:
            await self._ws_write_buffered(socket)
        elif result is Push.OVERFLOW:
            event, problem = self.core.overflow(socket, monotonic())
            self.logger.warning('%s: %s', socket.sid, problem)
            if event is not None:
                await self._closed(socket, event)

    async def _ws_write(self, socket: AsyncSocket, frame: packet.Frame) -> None:
        ws = socket.ws
        if ws is None:
            return
        try:
            await ws.send(frame)
        except (OSError, ValueError, RuntimeError) as exc:
            await self._write_failed(socket, exc)

    async def _write_failed(self, socket: AsyncSocket,
                            exc: BaseException) -> None:
        self.logger.info('%s: websocket write failed (%s)', socket.sid,
                         str(exc) or type(exc).__name__)
        await self._close(socket, self.reason.TRANSPORT_ERROR)

    async def _ws_write_buffered(self, socket: AsyncSocket) -> None:
        """Write what the session buffered for its WebSocket (Push.FLUSH)."""
        for frame in socket.take():
            if socket.closed:
                break
            await self._ws_write(socket, frame)

    async def _flush_ws(self, socket: AsyncSocket, ws: WebSocket) -> None:
        """Write everything buffered, then switch the session to direct
        writes (frames pushed meanwhile are picked up by the loop)."""
        while True:
            frames = socket.take()
            if not frames and socket.finish_flush():
                return
            for frame in frames:
                await ws.send(frame)

    # -- events ----------------------------------------------------------
    async def _trigger_event(self, event: str, *args: Any) -> Any:
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            ret = handler(*args)
            if ret is not None and isawaitable(ret):
                ret = await ret
            return ret
        except Exception:
            self.logger.exception('%s: %s handler error', args[0] if args else '',
                                  event)
            return False if event == 'connect' else None

    async def _run_allow_request(self, environ: dict[str, Any]) -> Any:
        try:
            ret = self.allow_request(environ)  # type: ignore[misc]
            if ret is not None and isawaitable(ret):
                ret = await ret
            return ret
        except Exception:
            self.logger.exception('allow_request hook error')
            return False

    async def _dispatch(self, socket: AsyncSocket, events: list[Any]) -> None:
        for event in events:
            if type(event) is MessageReceived:
                await self._on_message(socket, event.data)
            elif type(event) is Disconnected:
                await self._teardown(socket)
                await self._on_disconnect(socket, event.reason)
            elif event is Push.BUFFERED:
                socket.wake_poll()  # the session answered (a v3 pong)

    async def _on_message(self, socket: AsyncSocket, data: Any) -> None:
        if socket.dispatching:
            # The session's chain is busy: queue behind it, keeping order.
            self._runner.enqueue(socket, (_MESSAGE, data))
            return
        handler = self.handlers.get('message')
        if handler is None:
            return
        # A plain handler runs right here.  A coroutine handler is awaited
        # here too without async_handlers; with them it goes to the
        # session's chain task, so the reader goes on while it runs.
        try:
            ret = handler(socket.sid, data)
            if ret is not None and isawaitable(ret):
                if self.async_handlers:
                    self._runner.enqueue(socket, (_AWAIT, ret))
                else:
                    await ret
        except Exception:
            self.logger.exception('%s: message handler error', socket.sid)

    async def _on_disconnect(self, socket: AsyncSocket, reason: str) -> None:
        self.logger.info('%s: disconnected (%s)', socket.sid, reason)
        if self.async_handlers and socket.dispatching:
            # After the messages still queued, never before them.
            self._runner.enqueue(socket, (_DISCONNECT, reason))
            return
        await self._call_disconnect(socket.sid, reason)

    async def _run_item(self, sid: str, item: tuple[int, Any]) -> bool:
        """Run the handler of one queued item; True for the disconnect."""
        kind, value = item
        if kind == _AWAIT:
            try:
                await value
            except Exception:
                self.logger.exception('%s: message handler error', sid)
        elif kind == _MESSAGE:
            await self._trigger_event('message', sid, value)
        else:
            await self._call_disconnect(sid, value)
            return True
        return False

    async def _call_disconnect(self, sid: str, reason: str) -> None:
        await self._trigger_event('disconnect',
                                  *self._disconnect_args(sid, reason))

    async def _close(self, socket: AsyncSocket, reason: str) -> None:
        event = self.core.close(socket, reason, monotonic())
        if event is not None:
            await self._teardown(socket)
            await self._on_disconnect(socket, event.reason)

    async def _closed(self, socket: AsyncSocket, event: Disconnected) -> None:
        await self._teardown(socket)
        await self._on_disconnect(socket, event.reason)

    async def _teardown(self, socket: AsyncSocket, flush: bool = False) -> None:
        """Release a closed session's transport."""
        plan = self.core.teardown(socket, flush)
        socket.wake_poll()
        ws, probe = socket.ws, socket.upgrade_ws
        if ws is not None:
            try:
                for frame in plan.flush:
                    await ws.send(frame)
            except (OSError, ValueError, RuntimeError):
                pass
            await ws.close()
        if probe is not None:
            if plan.probe_delay:
                self._spawn(self._close_later(probe, plan.probe_delay))
            else:
                await probe.close()

    async def _close_later(self, ws: WebSocket, delay: float) -> None:
        await asyncio.sleep(delay)
        await ws.close()

    # -- handshake -------------------------------------------------------
    async def _refused(self, refusal: Any, method: str, environ: Any) -> None:
        self._log_refusal(refusal, method)
        if 'connection_error' in self.handlers:
            await self._trigger_event('connection_error', refusal, environ)

    async def _handshake(self, route: Any, exchange: Exchange) -> Any:
        if self.allow_request is not None:
            refused = self.core.allowed(
                await self._run_allow_request(exchange.environ), route.headers)
            if refused is not None:
                await self._refused(refused[1], 'GET', exchange.environ)
                return await exchange.respond(refused[0])
        sid = self.generate_id()
        socket = cast(AsyncSocket, self.core.open_session(
            sid, route.transport, monotonic(), self._socket_factory,
            route.protocol, route.b64))
        verdict = None
        if 'connect' in self.handlers:  # (an ASGI environ is built on use)
            verdict = await self._trigger_event('connect', sid,
                                                exchange.environ)
        opening = self.core.connected(socket, verdict, route,
                                      exchange.request, monotonic())
        if opening.rejected:
            self.logger.info('%s: connection refused by the application', sid)
            return await exchange.respond(cast(Response, opening.response))
        self._start_service(opening.wake)
        if opening.response is not None:
            if self.logger.isEnabledFor(logging.INFO):  # (environ on use)
                self.logger.info('%s: connected (polling) from %s', sid,
                                 exchange.environ.get('REMOTE_ADDR') or '?')
            return await exchange.respond(opening.response)
        ws = await self._accept_websocket(exchange)
        if ws is None:
            # connect ran: disconnect must follow.
            await self._close(socket, self.reason.TRANSPORT_ERROR)
            return await exchange.respond(self._no_websocket(route))
        socket.ws = ws
        try:
            await self._open_websocket(socket, exchange, opening.frames)
        except OSError:
            await self._close(socket, self.reason.TRANSPORT_ERROR)
            return await exchange.finish_websocket()
        return socket  # handle_request runs it

    async def _open_websocket(self, socket: AsyncSocket, exchange: Exchange,
                              frames: list[packet.Frame]) -> None:
        """Start a WebSocket session: its first frames, then let go of the
        request (its environ, headers, query) for the session's whole life:
        only the application keeps it if it wants it."""
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info('%s: connected (websocket) from %s', socket.sid,
                             exchange.environ.get('REMOTE_ADDR') or '?')
        exchange.environ = None  # type: ignore[assignment]
        exchange.request.native = None
        ws = socket.ws
        for frame in frames:
            await ws.send(frame)

    def _no_websocket(self, route: Any) -> Response:
        self.logger.warning('WebSocket transport not available with this '
                            'request (async_mode=%s)', self.async_mode)
        return error_response(ErrorCode.BAD_REQUEST, route.headers)

    async def _accept_websocket(self, exchange: Exchange) -> WebSocket | None:
        try:
            return await exchange.accept_websocket(
                self.max_http_buffer_size, self.config.websocket_compression)
        except (OSError, ValueError) as exc:
            self.logger.warning('WebSocket handshake failed: %s', exc)
            return None

    # -- long-polling ----------------------------------------------------
    async def _handle_get(self, socket: AsyncSocket,
                          environ: dict[str, Any]) -> Response:
        req, cors = self._polling_context(environ)
        return await self._poll(socket, req, cors)

    async def _poll(self, socket: AsyncSocket, req: Request,
                    cors: Headers) -> Response:
        frames, wake = self.core.start_poll(socket, monotonic())
        if wake:
            self._start_service()
        try:
            while not frames:
                await socket.wait_poll()
                frames = socket.take_poll()
        finally:
            self.core.end_poll(socket)
        self._report_http(frames, cors)
        return self.core.payload_response(frames, req, cors, socket)

    async def _handle_post(self, socket: AsyncSocket,
                           environ: dict[str, Any]) -> Response:
        req, cors = self._polling_context(environ)
        return await self._post(socket, req, cors, environ['wsgi.input'])

    async def _post(self, socket: AsyncSocket, req: Request, cors: Headers,
                    body_input: Any) -> Response:
        socket.post_active = True
        try:
            limit = self.max_http_buffer_size
            if req.content_length is not None and req.content_length > limit:
                body = None
            else:
                body = await body_input.read(limit + 1)
                if len(body) > limit:
                    body = None
        except OSError:
            body = b''
        finally:
            socket.post_active = False
        result = self.core.post_result(socket, body, cors, monotonic())
        if result.problem is not None:
            self.logger.warning('%s: %s', socket.sid, result.problem)
        await self._dispatch(socket, result.events)
        if result.problem is None:
            self._report_http()
        return result.response

    # -- websocket -------------------------------------------------------
    async def _upgrade(self, route: Any, exchange: Exchange) -> Any:
        socket: AsyncSocket = route.session
        ws = await self._accept_websocket(exchange)
        if ws is None:
            return await exchange.respond(self._no_websocket(route))
        if not socket.can_upgrade():
            await ws.close()
            return await exchange.finish_websocket()
        socket.begin_upgrade(monotonic())
        socket.upgrade_ws = ws
        if self.core.schedule(socket):
            self._service_wake.set()
        return socket  # handle_request runs it

    async def _discard(self, route: Any, exchange: Exchange) -> Any:
        self.logger.info('WebSocket closed after its handshake: %s',
                         route.error)
        ws = await self._accept_websocket(exchange)
        if ws is None:
            return await exchange.respond(self._no_websocket(route))
        await ws.close()
        return await exchange.finish_websocket()

    async def _run_websocket(self, socket: AsyncSocket, ws: WebSocket,
                             takeover: bool = False) -> None:
        """Read the session's frames until its WebSocket ends.

        The hot path: one await for the frame, one core call, then the
        handler, with no task or queue in between.  A coroutine handler's
        first step runs right here (:func:`~engineio.runners.first_step`);
        most finish in it.  One that suspends goes on in this same task (so
        ``asyncio.timeout()`` and ``current_task()`` stay right), the
        messages arriving meanwhile queue behind it, and a new task
        (``takeover``) goes on reading.
        """
        if not takeover and socket.upgrade_ws is ws \
                and not await self._probe(socket, ws):
            return
        end = WebSocketEnd.CLOSED
        try:
            if not takeover:
                await self._flush_ws(socket, ws)
            wait = ws.wait
            message_of = socket.message_of
            inline = self.async_handlers
            while socket.state is State.OPEN:
                frame = await wait()
                if frame is None:
                    break
                # A message goes straight to its handler: no event object,
                # no clock (see Session.message_of); the core decides what
                # any other frame means.
                data = message_of(frame)
                if data is NOT_A_MESSAGE:
                    event = socket.receive_frame(frame, monotonic())
                    if type(event) is not MessageReceived:
                        if event is Push.FLUSH:
                            await self._ws_write_buffered(socket)  # a v3 pong
                        elif event is not None:
                            self.core.frame_event(socket, event, monotonic())
                            await self._dispatch(socket, [event])
                        continue
                    data = event.data  # a v3 binary message
                if not inline or socket.dispatching:
                    await self._on_message(socket, data)
                    continue
                rest = self._first_step(socket, data)
                if rest is not None:
                    await self._hand_over(socket, ws, rest, takeover)
                    return
        except ContentTooLongError:
            end = WebSocketEnd.TOO_LARGE
        except OSError:
            end = WebSocketEnd.FAILED
        except asyncio.CancelledError:
            # The web server is going away: the session ends with it, and
            # the handler it is running (the disconnect handler runs after).
            await self._runner.cancel(socket)
            await self._websocket_ended(socket, end)
            raise
        await self._websocket_ended(socket, end)
        await ws.close()

    def _first_step(self, socket: AsyncSocket, data: Any) -> Any:
        handler = self.handlers.get('message')
        if handler is None:
            return None
        try:
            return first_step(handler(socket.sid, data))
        except Exception:
            self.logger.exception('%s: message handler error', socket.sid)
            return None

    async def _hand_over(self, socket: AsyncSocket, ws: WebSocket,
                         rest: Any, takeover: bool) -> None:
        """Finish a suspended handler (and those queued behind it) in this
        task while a new one reads on."""
        socket.dispatching = True
        socket.reader = self._spawn(self._run_websocket(socket, ws, True))
        try:
            await self._runner.run(socket, (_AWAIT, rest))
            if takeover:
                return
            # The web server's task must outlive the session's readers.
            while (reader := socket.reader) is not None:
                await reader
                if socket.reader is reader:
                    break
        except asyncio.CancelledError:
            reader = socket.reader
            if reader is not None and reader is not asyncio.current_task():
                reader.cancel()
            await self._close(socket, self.reason.TRANSPORT_CLOSE)
            raise
        finally:
            if not takeover:
                socket.reader = None

    async def _websocket_ended(self, socket: AsyncSocket,
                               end: WebSocketEnd) -> None:
        event, problem = self.core.websocket_ended(socket, end, monotonic())
        if problem is not None:
            self.logger.warning('%s: %s', socket.sid, problem)
        if event is not None:
            await self._closed(socket, event)

    async def _probe(self, socket: AsyncSocket, ws: WebSocket) -> bool:
        """Run the upgrade probe; True once the session moved to ``ws``."""
        while True:
            try:
                frame = await ws.wait()
            except (OSError, ContentTooLongError):
                frame = None
            step = self.core.probe(socket, frame, monotonic())
            if step.reply is not None:
                await ws.send(step.reply)
                socket.wake_poll()
            if not step.done:
                continue
            socket.upgrade_ws = None
            if step.upgraded:
                socket.ws = ws
                socket.wake_poll()
                self.logger.info('%s: upgraded to websocket', socket.sid)
                return True
            if frame is not None:
                await ws.close()
            if step.problem is not None:
                self.logger.info('%s: %s', socket.sid, step.problem)
            return False

    # -- timers ----------------------------------------------------------
    def _start_service(self, wake: bool = True) -> None:
        """Start the timer loop, or wake it (``wake``: a deadline earlier
        than the one it sleeps until was scheduled)."""
        if self._service_task is None:
            self._service_task = asyncio.ensure_future(self._service())
        elif wake:
            self._service_wake.set()

    async def _service(self) -> None:
        """The one timer loop: sleeps until the earliest session deadline."""
        wake = self._service_wake
        loop = asyncio.get_running_loop()
        while not self._stopping:
            wake.clear()
            for command in self.core.due(monotonic()):
                if command.inline:
                    await self._on_timer(command)
                else:
                    self._spawn(self._on_timer(command))
            deadline = self.core.next_deadline()
            if deadline is None:
                await wake.wait()
                continue
            timer = loop.call_later(max(0.0, deadline - monotonic()), wake.set)
            try:
                await wake.wait()
            finally:
                timer.cancel()

    async def _on_timer(self, command: TimerCommand) -> None:
        socket = cast(AsyncSocket, command.session)
        try:
            if command.action is Timer.WAKE_POLL \
                    or command.action is Timer.WRITE_PING:
                await socket._send_ping()
            elif command.action is Timer.PROBE_EXPIRED:
                self.logger.info('%s: upgrade to websocket timed out; '
                                 'staying on polling', socket.sid)
                if socket.upgrade_ws is not None:
                    await socket.upgrade_ws.close()
            elif command.event is not None:
                await self._closed(socket, command.event)
        except Exception:  # a timer must not end its task silently
            self.logger.exception('%s: timer error', socket.sid)


__all__ = ['POLLING', 'WEBSOCKET', 'AsyncServer']
