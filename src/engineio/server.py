"""The blocking Engine.IO server: a thin driver over the protocol core.

Every protocol decision is the core's (:mod:`engineio.sansio`); this module
reads requests and WebSocket frames, hands them to the core, and performs
what it returns: write output, dispatch events to handlers, re-arm the timer.
"""
from __future__ import annotations

import contextlib
import functools
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from . import _runtime, packet
from .adapters import wsgi
from .base_server import BaseServer, user_session
from .exceptions import ContentTooLongError
from .runners import DrainJobs, GreenWorkers
from .sansio.commands import Timer, TimerCommand, WebSocketEnd
from .sansio.events import Disconnected, MessageReceived
from .sansio.models import Response
from .sansio.server import Action, ErrorCode, error_response
from .sansio.session import NOT_A_MESSAGE, POLLING, WEBSOCKET, Push
from .socket import Socket

monotonic = time.monotonic
_DISCONNECT = object()


class Server(BaseServer):
    """An Engine.IO server.

    This class implements a fully compliant Engine.IO web server with support
    for websocket and long-polling transports.

    .. options: generated from engineio.options.SERVER_OPTIONS

    Besides ``connect``, ``message`` and ``disconnect``, a
    ``connection_error`` handler receives every refused request as
    ``(error, environ)``, where ``error`` has the official ``code``, its
    ``message`` and a ``detail`` that says what was wrong.
    """

    def _init_driver(self) -> None:
        rt = self._async
        self._lock = rt.Lock()
        self._pool = rt.make_pool()
        signal = getattr(rt, 'Signal', None)
        self._runner = DrainJobs(self._pool, self._lock, self._run_item) \
            if signal is None else \
            GreenWorkers(self._pool, signal, self._run_item)
        self._service_task: Any = None
        self._service_wake = rt.Event()
        self._stopping = False
        self._socket_factory = functools.partial(Socket, server=self)

    def is_asyncio_based(self) -> bool:
        """Whether this server runs on asyncio (it does not)."""
        return False

    def _make_node(self, url: Any) -> Any:
        from .cluster.sync_node import Node
        # (Whether blocking sockets cooperate with the runtime is checked
        # when the node starts: uWSGI and gunicorn patch after the app is
        # made.)
        return Node(self, url)

    def _select_async_mode(self, async_mode: str | None) -> str:
        modes = [async_mode] if async_mode else list(_runtime.SYNC_MODES)
        for mode in modes:
            try:
                self._async = _runtime.load(mode)
            except ImportError as exc:
                if async_mode:
                    raise ValueError(
                        f'Invalid async_mode specified: {mode!r} needs '
                        f'packages that are not installed ({exc})') from exc
                continue
            return mode
        raise ValueError('no usable async mode')  # pragma: no cover

    # -- public API ------------------------------------------------------
    def send(self, sid: str, data: Any) -> None:
        """Send a message to a client.

        :param sid: The session id of the recipient client.
        :param data: The data to send to the client. Data can be of type
                     ``str``, ``bytes``, ``list`` or ``dict``. If a ``list``
                     or ``dict``, the data will be serialized as JSON.
        """
        self._send_frame(sid, packet.encode_data(packet.MESSAGE, data))

    def send_packet(self, sid: str, pkt: packet.Packet) -> None:
        """Send a raw packet to a client.

        :param sid: The session id of the recipient client.
        :param pkt: The packet to send to the client.
        """
        self._send_frame(sid, pkt.encode())

    def get_session(self, sid: str) -> dict[str, Any]:
        """Return the user session for a client.

        :param sid: The session id of the client.

        The return value is a dictionary. Modifications made to this
        dictionary are not guaranteed to be preserved unless
        ``save_session()`` is called, or when the ``session`` context manager
        is used.
        """
        owner = self._owner(sid)
        if owner is not None:
            data = self._node.call(owner, sid, 'get_session')
            return pickle.loads(data)  # type: ignore[no-any-return]
        return user_session(self._get_socket(sid))

    def save_session(self, sid: str, session: dict[str, Any]) -> None:
        """Store the user session for a client.

        :param sid: The session id of the client.
        :param session: The session dictionary.
        """
        owner = self._owner(sid)
        if owner is not None:
            self._node.call(owner, sid, 'save_session', pickle.dumps(session))
            return
        self._get_socket(sid).session = session

    @contextlib.contextmanager
    def session(self, sid: str) -> Iterator[dict[str, Any]]:
        """Return the user session for a client with context manager syntax.

        :param sid: The session id of the client.

        This is a context manager that returns the user session dictionary
        for the client. Any changes that are made to this dictionary inside
        the context manager block are saved back to the session. Example
        usage::

            @eio.on('connect')
            def on_connect(sid, environ):
                username = authenticate_user(environ)
                if not username:
                    return False
                with eio.session(sid) as session:
                    session['username'] = username

            @eio.on('message')
            def on_message(sid, msg):
                with eio.session(sid) as session:
                    print('received message from ', session['username'])
        """
        data = self.get_session(sid)
        yield data
        self.save_session(sid, data)

    def disconnect(self, sid: str | None = None) -> None:
        """Disconnect a client.

        :param sid: The session id of the client to close. If this parameter
                    is not given, then all clients are closed.
        """
        if sid is None:
            for s in list(self.sockets):
                self.disconnect(s)
            return
        socket = self.sockets.get(sid)
        if socket is None:
            owner = self._owner(sid)
            if owner is not None:
                self._node.disconnect(owner, sid)
            return
        with self._lock:
            event = self.core.close(socket, self.reason.SERVER_DISCONNECT,
                                    monotonic())
        if event is not None:
            self.logger.info('%s: disconnected (%s)', sid, event.reason)
            self._teardown(socket, flush=True)
            self._call_disconnect(sid, event.reason)

    def handle_request(self, environ: dict[str, Any],
                       start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Handle an HTTP request from the client.

        This is the entry point of the Engine.IO application, using the same
        interface as a WSGI application. For the typical usage, this function
        is invoked by the :class:`WSGIApp` instance, but it can be invoked
        directly when the middleware is not used.

        :param environ: The WSGI environment.
        :param start_response: The WSGI ``start_response`` function.

        This function returns the HTTP response body to deliver to the
        client as a byte sequence.
        """
        req = environ['engineio.request'] = wsgi.request_from_environ(environ)
        if self._node is not None and not self._node.started:
            self._node.start()
        with self._lock:
            route = self.core.route(req, monotonic())
        environ['engineio.cors'] = route.headers
        if route.closed is not None:
            self._closed(cast(Socket, route.closed[0]), route.closed[1])
        action = route.action
        if action is Action.POLL:
            response = route.session.handle_get_request(environ)  # type: ignore[union-attr]
        elif action is Action.POST:
            response = route.session.handle_post_request(environ)  # type: ignore[union-attr]
        elif action is Action.HANDSHAKE:
            return self._handshake(route, environ, start_response)
        elif action is Action.UPGRADE:
            return self._upgrade(route, environ, start_response)
        elif action is Action.DISCARD:
            return self._discard(route, environ, start_response)
        elif action is Action.FORWARD:
            return self._node.forward(route, environ, start_response)  # type: ignore[no-any-return]
        else:
            if route.refusal is not None:
                self._refused(route.refusal, req.method, environ)
            response = cast(Response, route.response)
        return wsgi.respond(start_response, response, req.method == 'HEAD')

    def shutdown(self) -> None:
        """Stop Engine.IO background tasks.

        This method stops background activity initiated by the Engine.IO
        server. It must be called before shutting down the web server.
        """
        self._stopping = True
        self._service_wake.set()
        task, self._service_task = self._service_task, None
        if task is not None:
            task.join()
        if self._node is not None and self._node.started:
            self._node.stop()
        self._stopping = False

    def start_background_task(self, target: Callable[..., Any], *args: Any,
                              **kwargs: Any) -> Any:
        """Start a background task using the appropriate async model.

        This is a utility function that applications can use to start a
        background task using the method that is compatible with the
        selected async mode.

        :param target: the target function to execute.
        :param args: arguments to pass to the function.
        :param kwargs: keyword arguments to pass to the function.

        This function returns an object that represents the background task,
        on which the ``join()`` method can be invoked to wait for the task to
        complete.
        """
        return self._async.spawn(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """Sleep for the requested amount of time using the appropriate async
        model.

        This is a utility function that applications can use to put a task to
        sleep without having to worry about using the correct call for the
        selected async mode.
        """
        self._async.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """Create a queue object using the appropriate async model.

        This is a utility function that applications can use to create a
        queue without having to worry about using the correct call for the
        selected async mode.
        """
        return self._async.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> type[BaseException]:
        """Return the queue empty exception for the appropriate async model.

        This is a utility function that applications can use to work with a
        queue without having to worry about using the correct call for the
        selected async mode.
        """
        return self._async.QueueEmpty  # type: ignore[no-any-return]

    def create_event(self, *args: Any, **kwargs: Any) -> Any:
        """Create an event object using the appropriate async model.

        This is a utility function that applications can use to create an
        event without having to worry about using the correct call for the
        selected async mode.
        """
        return self._async.Event(*args, **kwargs)

    # -- output ----------------------------------------------------------
    def _send_frame(self, sid: str, frame: packet.Frame) -> None:
        socket = self.sockets.get(sid)
        if socket is None:
            owner = self._owner(sid)
            if owner is not None:
                self._node.send(owner, sid, frame)
                return
            self.logger.warning('%s: cannot send, no such session', sid)
            return
        with self._lock:
            result = socket.push(frame)
        if result is Push.BUFFERED:
            socket.wake_poll()
        elif result is Push.WRITE:
            self._ws_write(socket, frame)
        elif result is Push.FLUSH:
            self._ws_write_buffered(socket)
        elif result is Push.OVERFLOW:
            with self._lock:
                event, problem = self.core.overflow(socket, monotonic())
            self.logger.warning('%s: %s', sid, problem)
            if event is not None:
                self._closed(socket, event)

    def _ws_write(self, socket: Socket, frame: packet.Frame) -> None:
        ws = socket.ws
        if ws is None:
            return
        try:
            ws.send(frame)
        except (OSError, ValueError, RuntimeError) as exc:
            self.logger.info('%s: websocket write failed (%s)', socket.sid,
                             str(exc) or type(exc).__name__)
            self._close(socket, self.reason.TRANSPORT_ERROR)

    def _ws_write_buffered(self, socket: Socket) -> None:
        """Write what the session buffered for its WebSocket (Push.FLUSH)."""
        with self._lock:
            frames = socket.take()
        for frame in frames:
            if socket.closed:
                break
            self._ws_write(socket, frame)

    def _flush_ws(self, socket: Socket, ws: Any) -> None:
        """Write everything buffered, then switch the session to direct
        writes (frames pushed meanwhile are picked up by the loop)."""
        while True:
            with self._lock:
                frames = socket.take()
                if not frames and socket.finish_flush():
                    return
            for frame in frames:
                ws.send(frame)

    # -- events ----------------------------------------------------------
    def _trigger_event(self, event: str, *args: Any) -> Any:
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            return handler(*args)
        except Exception:
            self.logger.exception('%s: %s handler error', args[0] if args else '',
                                  event)
            return False if event == 'connect' else None

    def _run_allow_request(self, environ: dict[str, Any]) -> Any:
        try:
            return self.allow_request(environ)  # type: ignore[misc]
        except Exception:
            self.logger.exception('allow_request hook error')
            return False

    def _dispatch(self, socket: Socket, events: list[Any]) -> None:
        for event in events:
            if type(event) is MessageReceived:
                self._on_message(socket, event.data)
            elif type(event) is Disconnected:
                self._teardown(socket)
                self._on_disconnect(socket, event.reason)
            elif event is Push.BUFFERED:
                socket.wake_poll()  # the session answered (a v3 pong)

    def _on_message(self, socket: Socket, data: Any) -> None:
        if not self.async_handlers:
            self._trigger_event('message', socket.sid, data)
            return
        self._runner.enqueue(socket, data)

    def _on_disconnect(self, socket: Socket, reason: str) -> None:
        self.logger.info('%s: disconnected (%s)', socket.sid, reason)
        if not self.async_handlers:
            self._call_disconnect(socket.sid, reason)
            return
        self._runner.enqueue(socket, (_DISCONNECT, reason))

    def _run_item(self, sid: str, item: Any) -> bool:
        """Run the handler of one queued item; True for the disconnect."""
        if type(item) is tuple and item and item[0] is _DISCONNECT:
            self._call_disconnect(sid, item[1])
            return True
        self._trigger_event('message', sid, item)
        return False

    def _call_disconnect(self, sid: str, reason: str) -> None:
        self._trigger_event('disconnect', *self._disconnect_args(sid, reason))

    def _close(self, socket: Socket, reason: str) -> None:
        with self._lock:
            event = self.core.close(socket, reason, monotonic())
        if event is not None:
            self._teardown(socket)
            self._on_disconnect(socket, event.reason)

    def _closed(self, socket: Socket, event: Disconnected) -> None:
        self._teardown(socket)
        self._on_disconnect(socket, event.reason)

    def _teardown(self, socket: Socket, flush: bool = False) -> None:
        """Release a closed session's transport."""
        with self._lock:
            plan = self.core.teardown(socket, flush)
        socket.wake_poll()
        ws, probe = socket.ws, socket.upgrade_ws
        if ws is not None:
            try:
                for frame in plan.flush:
                    ws.send(frame)
            except (OSError, ValueError, RuntimeError):
                pass
            ws.close()
        if probe is not None:
            if plan.probe_delay:
                self._async.spawn(self._close_later, probe, plan.probe_delay)
            else:
                probe.close()

    def _close_later(self, ws: Any, delay: float) -> None:
        self._async.sleep(delay)
        ws.close()

    # -- handshake -------------------------------------------------------
    def _refused(self, refusal: Any, method: str, environ: Any) -> None:
        self._log_refusal(refusal, method)
        if 'connection_error' in self.handlers:
            self._trigger_event('connection_error', refusal, environ)

    def _handshake(self, route: Any, environ: dict[str, Any],
                   start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.allow_request is not None:
            refused = self.core.allowed(self._run_allow_request(environ),
                                        route.headers)
            if refused is not None:
                self._refused(refused[1], 'GET', environ)
                return wsgi.respond(start_response, refused[0])
        sid = self.generate_id()
        with self._lock:
            socket = cast(Socket, self.core.open_session(
                sid, route.transport, monotonic(), self._socket_factory,
                route.protocol, route.b64))
        verdict = self._trigger_event('connect', sid, environ)
        with self._lock:
            opening = self.core.connected(socket, verdict, route,
                                          environ['engineio.request'],
                                          monotonic())
        if opening.rejected:
            self.logger.info('%s: connection refused by the application', sid)
            return wsgi.respond(start_response, cast(Response, opening.response))
        self._start_service(opening.wake)
        if opening.response is not None:
            self.logger.info('%s: connected (polling) from %s', sid,
                             environ.get('REMOTE_ADDR') or '?')
            return wsgi.respond(start_response, opening.response)
        ws = self._accept_websocket(environ)
        if ws is None:
            self._close(socket, self.reason.TRANSPORT_ERROR)
            return wsgi.respond(start_response, self._no_websocket(route))
        socket.ws = ws
        self.logger.info('%s: connected (websocket) from %s', sid,
                         environ.get('REMOTE_ADDR') or '?')
        try:
            for frame in opening.frames:
                ws.send(frame)
            del opening  # this frame lives as long as the session
            socket._websocket_handler(ws)
        except OSError:
            self._close(socket, self.reason.TRANSPORT_ERROR)
        return ws.finish_request()  # type: ignore[no-any-return]

    def _no_websocket(self, route: Any) -> Response:
        self.logger.warning('WebSocket transport not available with this '
                            'web server (async_mode=%s)', self.async_mode)
        return error_response(ErrorCode.BAD_REQUEST, route.headers)

    def _accept_websocket(self, environ: dict[str, Any]) -> Any:
        relay = environ.get('engineio.relay')
        if relay is not None:  # a WebSocket another node of a cluster holds
            return relay.accept()
        try:
            return self._async.websocket(environ, self.max_http_buffer_size,
                                         self.config.ping_timeout,
                                         self.config.websocket_compression)
        except (OSError, ValueError) as exc:
            self.logger.warning('WebSocket handshake failed: %s', exc)
            return None

    # -- long-polling ----------------------------------------------------
    def _handle_get(self, socket: Socket, environ: dict[str, Any]) -> Response:
        req, cors = self._polling_context(environ)
        with self._lock:
            frames, wake = self.core.start_poll(socket, monotonic())
        if wake:
            self._start_service()
        try:
            if not frames:
                event = socket.poll_event()
                while not frames:
                    event.wait()
                    with self._lock:
                        event.clear()
                        frames = socket.take_poll()
        finally:
            with self._lock:
                self.core.end_poll(socket)
        self._report_http(frames, cors)
        return self.core.payload_response(frames, req, cors, socket)

    def _handle_post(self, socket: Socket, environ: dict[str, Any]) -> Response:
        _, cors = self._polling_context(environ)
        with self._lock:
            socket.post_active = True
        try:
            body = wsgi.read_body(environ, self.max_http_buffer_size)
        except OSError:
            body = b''
        with self._lock:
            socket.post_active = False
            result = self.core.post_result(socket, body, cors, monotonic())
        if result.problem is not None:
            self.logger.warning('%s: %s', socket.sid, result.problem)
        self._dispatch(socket, result.events)
        if result.problem is None:
            self._report_http()
        return result.response

    # -- websocket -------------------------------------------------------
    def _upgrade(self, route: Any, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        socket: Socket = route.session
        self.logger.debug('%s: upgrade requested', socket.sid)
        ws = self._accept_websocket(environ)
        if ws is None:
            return wsgi.respond(start_response, self._no_websocket(route))
        with self._lock:
            if not socket.can_upgrade():
                ws.close()
                return ws.finish_request()  # type: ignore[no-any-return]
            socket.begin_upgrade(monotonic())
            socket.upgrade_ws = ws
            wake = self.core.schedule(socket)
        if wake:
            self._service_wake.set()
        socket._websocket_handler(ws)
        return ws.finish_request()  # type: ignore[no-any-return]

    def _discard(self, route: Any, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.logger.info('WebSocket closed after its handshake: %s',
                         route.error)
        ws = self._accept_websocket(environ)
        if ws is None:
            return wsgi.respond(start_response, self._no_websocket(route))
        ws.close()
        return ws.finish_request()  # type: ignore[no-any-return]

    def _run_websocket(self, socket: Socket, ws: Any) -> None:
        if socket.upgrade_ws is ws and not self._probe(socket, ws):
            return
        end = WebSocketEnd.CLOSED
        try:
            self._flush_ws(socket, ws)
            while not socket.closed:
                frame = ws.wait()
                if frame is None:
                    break
                with self._lock:
                    # A message goes straight to its handler (see
                    # Session.message_of); the core decides the rest.
                    data = socket.message_of(frame)
                    event = None if data is not NOT_A_MESSAGE \
                        else socket.receive_frame(frame, monotonic())
                if event is None:
                    if data is not NOT_A_MESSAGE:
                        self._on_message(socket, data)
                elif type(event) is MessageReceived:
                    self._on_message(socket, event.data)  # a v3 binary message
                elif event is Push.FLUSH:
                    self._ws_write_buffered(socket)  # a v3 pong
                else:
                    with self._lock:
                        self.core.frame_event(socket, event, monotonic())
                    self._dispatch(socket, [event])
        except ContentTooLongError:
            end = WebSocketEnd.TOO_LARGE
        except OSError:
            end = WebSocketEnd.FAILED
        with self._lock:
            event, problem = self.core.websocket_ended(socket, end, monotonic())
        if problem is not None:
            self.logger.warning('%s: %s', socket.sid, problem)
        if event is not None:
            self._closed(socket, event)
        ws.close()

    def _probe(self, socket: Socket, ws: Any) -> bool:
        """Run the upgrade probe; True once the session moved to ``ws``."""
        while True:
            try:
                frame = ws.wait()
            except (OSError, ContentTooLongError):
                frame = None
            with self._lock:
                step = self.core.probe(socket, frame, monotonic())
            if step.reply is not None:
                ws.send(step.reply)
                socket.wake_poll()
            if not step.done:
                continue
            with self._lock:
                socket.upgrade_ws = None
                if step.upgraded:
                    socket.ws = ws
            if step.upgraded:
                socket.wake_poll()
                self.logger.info('%s: upgraded to websocket', socket.sid)
                return True
            if frame is not None:
                ws.close()
            if step.problem is not None:
                self.logger.info('%s: %s', socket.sid, step.problem)
            return False

    # -- timers ----------------------------------------------------------
    def _start_service(self, wake: bool = True) -> None:
        """Start the timer loop, or wake it (``wake``: a deadline earlier
        than the one it sleeps until was scheduled)."""
        if self._service_task is None:
            with self._lock:
                if self._service_task is not None:
                    return
                self._service_task = True
            self._service_task = self._async.spawn(self._service)
        elif wake:
            self._service_wake.set()

    def _service(self) -> None:
        """The one timer loop: sleeps until the earliest session deadline."""
        wake = self._service_wake
        while not self._stopping:
            wake.clear()
            with self._lock:
                due = self.core.due(monotonic())
                deadline = self.core.next_deadline()
            for command in due:
                if command.inline:
                    self._on_timer(command)
                else:
                    self._pool.submit(self._on_timer, command)
            timeout = None if deadline is None else \
                max(0.0, deadline - monotonic())
            wake.wait(timeout)

    def _on_timer(self, command: TimerCommand) -> None:
        socket = cast(Socket, command.session)
        try:
            if command.action is Timer.WAKE_POLL \
                    or command.action is Timer.WRITE_PING:
                socket._send_ping()
            elif command.action is Timer.PROBE_EXPIRED:
                self.logger.info('%s: upgrade to websocket timed out; '
                                 'staying on polling', socket.sid)
                if socket.upgrade_ws is not None:
                    socket.upgrade_ws.close()
            elif command.event is not None:
                self._closed(socket, command.event)
        except Exception:  # a timer must not take its worker down silently
            self.logger.exception('%s: timer error', socket.sid)


__all__ = ['POLLING', 'WEBSOCKET', 'Server']
