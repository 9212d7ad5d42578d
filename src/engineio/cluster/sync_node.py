"""The cluster driver of the blocking :class:`~engineio.Server`.

The twin of :mod:`.async_node` on the server's runtime (threads, eventlet
or gevent): a forwarded request is served on the owner through the
server's own WSGI entry point with an environ made from the bus message,
and a relayed WebSocket is a :class:`RelayWebSocket` the server accepts in
place of a real one.
"""
from __future__ import annotations

import io
import os
import pickle
from typing import Any

from ..sansio import cluster as proto
from ..sansio.cluster import Failure
from ..sansio.models import Response
from .bus import Bus
from .node_base import NodeBase, OwnerGone
from .redis_bus import BusError, RedisBus

WATCH_INTERVAL = 1.0
START_TIMEOUT = 3.0


class _Waiter:
    """One answer awaited from another node."""

    __slots__ = ('error', 'event', 'message', 'owner')

    def __init__(self, runtime: Any, owner: str) -> None:
        self.event = runtime.Event()
        self.owner = owner
        self.message: proto.Message | None = None
        self.error: BaseException | None = None

    def settle(self, message: proto.Message | None = None,
               error: BaseException | None = None) -> None:
        if not self.event.is_set():
            self.message, self.error = message, error
            self.event.set()


class Node(NodeBase):
    """One blocking :class:`~engineio.Server` as a node of a cluster."""

    bus: Bus

    def __init__(self, server: Any, url: str | Bus,
                 prefix: str = 'engineio') -> None:
        self.runtime = runtime = server._async
        super().__init__(server, url, prefix)
        self._lock = runtime.Lock()
        self._ops: Any = runtime.Queue()
        self._watching = False

    def _make_bus(self, url: str) -> Bus:
        return RedisBus(url, self.logger, self.runtime)

    def _serve_soon(self, msg: proto.Message) -> None:
        self.runtime.spawn(self._serve, msg)

    def _op_soon(self, msg: proto.Message) -> None:
        self._ops.put(msg)

    # -- life ------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.started:
                return
            if not self.runtime.socket_is_green():
                raise RuntimeError(
                    f'cluster= under async_mode {self.server.async_mode!r} '
                    'needs the process to be monkey patched (the redis '
                    'package uses the standard socket module)')
            if self.forked:
                self._new_identity()
            self.runtime.spawn(self._run_ops)
            try:
                self.bus.start(self.state.channel, self._on_message,
                               self._on_lost)
                self.logger.info('cluster: node %s on %s', self.tag,
                                 self.bus.url)
            except BusError as exc:
                self.logger.error('cluster: bus %s not reachable (%s); serving '
                                  'local sessions, retrying', self.bus.url, exc)
            # Only now: a request that finds the node started may hand out
            # a session id, which other nodes can reach once subscribed.
            self._started_pid = os.getpid()

    def stop(self) -> None:
        self.bus.close()
        self._ops.put(None)
        self._started_pid = None
        self._reopen_bus()

    # -- forwarding -------------------------------------------------------
    def _ask(self, owner: str, msg: proto.Message, timeout: float
             ) -> proto.Message | tuple[Failure, str]:
        """Publish ``msg`` to ``owner`` and wait for its answer, or say
        why there is none."""
        waiter = self._waiting[msg.id] = _Waiter(self.runtime, owner)
        try:
            if self.bus.publish(self.state.channel_of(owner),
                                msg.encode()) == 0:
                return Failure.OWNER_GONE, ''
            self._ensure_watch()
            if not waiter.event.wait(timeout):
                return Failure.TIMEOUT, f'{timeout:.0f} s'
        except BusError as exc:
            return Failure.BUS_DOWN, str(exc)
        finally:
            self._waiting.pop(msg.id, None)
        if isinstance(waiter.error, OwnerGone):
            return Failure.OWNER_GONE, ''
        if waiter.error is not None:
            return Failure.BUS_DOWN, str(waiter.error)
        assert waiter.message is not None
        return waiter.message

    def forward(self, route: Any, environ: dict[str, Any],
                start_response: Any) -> Any:
        """Serve a request for a session of another node."""
        from ..adapters import wsgi
        req = environ['engineio.request']
        body = b''
        if req.method == 'POST':
            try:
                body = wsgi.read_body(
                    environ, self.server.max_http_buffer_size) or b''
            except OSError:
                body = b''
        msg, timeout = self._forwarded(req, environ, body)
        response = self._answer_of(self._ask(route.owner, msg, timeout),
                                   route, msg)
        if response is not None:
            return wsgi.respond(start_response, response, req.method == 'HEAD')
        return self._relay(route.owner, msg.id, environ, start_response)

    def _relay(self, owner: str, relay_id: int, environ: dict[str, Any],
               start_response: Any) -> Any:
        from ..adapters import wsgi
        owner_channel = self.state.channel_of(owner)
        ws = self.server._accept_websocket(environ)
        if ws is None:
            self._publish(owner_channel, self.state.close(relay_id, True))
            return wsgi.respond(start_response, proto.owner_gone([]))
        side = _ClientSide(self.runtime, owner, ws)
        self._relays_out[relay_id] = side
        writer = self.runtime.spawn(side.write_loop)
        self._ensure_watch()
        encode = self.state.frame_encoder(relay_id, True)
        try:
            while not side.done:
                frame = ws.wait()
                if frame is None:
                    break
                if self.bus.publish(owner_channel, encode(frame)) == 0:
                    break
        except (OSError, BusError) as exc:
            self.logger.info('relay %d ended: %s', relay_id, exc)
        except Exception as exc:  # the WebSocket library's own errors
            self.logger.info('relay %d ended: %s', relay_id, exc)
        finally:
            self._relays_out.pop(relay_id, None)
            if not side.done:
                self._publish(owner_channel, self.state.close(relay_id, True))
                side.push(None)
            writer.join()
        return ws.finish_request()

    def _publish(self, channel: str, msg: proto.Message | bytes) -> int:
        try:
            return self.bus.publish(
                channel, msg if isinstance(msg, bytes) else msg.encode())
        except BusError as exc:
            self.logger.warning('cluster: cannot publish to %s (%s)',
                                channel, exc)
            return 0

    def _ensure_watch(self) -> None:
        with self._lock:
            if self._watching:
                return
            self._watching = True
        self.runtime.spawn(self._watch_owners)

    def _watch_owners(self) -> None:
        """Fail what waits on an owner that stopped listening."""
        try:
            while self._waiting or self._relays_out:
                self.runtime.sleep(WATCH_INTERVAL)
                for owner in self._watched_owners():
                    try:
                        alive = self.bus.receivers(
                            self.state.channel_of(owner))
                    except BusError:
                        continue
                    if not alive:
                        self._owner_gone(owner)
        finally:
            with self._lock:
                self._watching = False

    # -- owning -----------------------------------------------------------
    def _serve(self, msg: proto.Message) -> None:
        sender = msg.sender
        reply_channel = self.state.channel_of(sender)
        try:
            req = proto.forwarded_request(msg)
        except ValueError as exc:
            self.logger.warning('cluster: %s', exc)
            return
        environ = proto.forwarded_environ(req)
        environ['wsgi.input'] = io.BytesIO(req.body)
        if req.body:
            environ['CONTENT_LENGTH'] = str(len(req.body))
        relay = None
        if req.websocket:
            relay = RelayWebSocket(self, msg.id, reply_channel)
            environ['engineio.relay'] = relay
            self._relays_in[(sender, msg.id)] = relay.inbox.put
        status: list[Any] = []

        def start_response(line: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Any:
            status[:] = [int(line.split(' ', 1)[0]), headers]
            return lambda data: None

        lost = False
        try:
            result = self.server.handle_request(environ, start_response)
            body = b''.join(result)
            if relay is None or not relay.accepted:
                code, headers = status or (500, [])
                headers = [(k, v) for k, v in headers
                           if k.lower() != 'content-length']
                lost = self._publish(reply_channel, proto.response_message(
                    msg.id, Response(code, headers, body))) == 0
        except Exception:
            self.logger.exception('cluster: forwarded request failed')
        finally:
            self._relays_in.pop((sender, msg.id), None)
        if lost and req.method == 'GET' and relay is None:
            sid = msg.header.get('sid', '')
            socket = self.server.sockets.get(sid)
            if socket is not None:
                self.logger.warning('%s: poll answer not delivered (node %s '
                                    'gone)', sid, sender)
                self.server._close(socket, self.server.reason.TRANSPORT_ERROR)

    def _run_ops(self) -> None:
        while True:
            msg = self._ops.get()
            if msg is None:
                return
            try:
                self._run_op(msg)
            except Exception:
                self.logger.exception('cluster: op failed')

    def _run_op(self, msg: proto.Message) -> None:
        op = msg.header.get('op')
        sid = str(msg.header.get('sid', ''))
        server = self.server
        error = None
        body = b''
        try:
            if op == 'send':
                server._send_frame(sid, proto.frame_of(msg))
                return
            if op == 'disconnect':
                server.disconnect(sid)
                return
            if op == 'get_session':
                body = pickle.dumps(server.get_session(sid))
            elif op == 'save_session':
                server.save_session(sid, pickle.loads(msg.body))
            elif op == 'transport':
                body = server.transport(sid).encode()
            else:
                error = f'unknown operation {op!r}'
        except KeyError as exc:
            error = str(exc.args[0]) if exc.args else 'Session is disconnected'
        self._publish(self.state.channel_of(msg.sender),
                      proto.result_message(msg.id, error, body))

    # -- server methods on sessions of other nodes ------------------------
    def send(self, owner: str, sid: str, frame: str | bytes) -> None:
        """``send``/``send_packet`` for a session of another node: in
        order, without waiting for the owner."""
        self._tell(owner, sid, self.state.op('send', sid, frame))

    def disconnect(self, owner: str, sid: str) -> None:
        self._tell(owner, sid, self.state.op('disconnect', sid))

    def _tell(self, owner: str, sid: str, msg: proto.Message) -> None:
        try:
            receivers = self.bus.publish(self.state.channel_of(owner),
                                         msg.encode())
        except BusError as exc:
            self._not_told(sid, msg, str(exc))
            return
        if receivers == 0:
            self._not_told(sid, msg, f'node {owner} is gone')

    def call(self, owner: str, sid: str, op: str, body: bytes = b'') -> bytes:
        """Run ``op`` on the owner and return its result; KeyError when the
        session is gone."""
        return self._result_of(self._ask(owner, self.state.op(op, sid, body),
                                         10.0), sid, owner)


class _ClientSide:
    """The forwarder's end of a relayed WebSocket."""

    def __init__(self, runtime: Any, owner: str, ws: Any) -> None:
        self.owner = owner
        self.ws = ws
        self.out: Any = runtime.Queue()
        self.done = False

    def push(self, frame: str | bytes | None) -> None:
        self.out.put(frame)

    def write_loop(self) -> None:
        try:
            while True:
                frame = self.out.get()
                if frame is None:
                    break
                self.ws.send(frame)
        except Exception:  # the client's connection is gone
            pass
        self.done = True
        self.ws.close()


class RelayWebSocket:
    """The owner's end of a relayed WebSocket: a WebSocket as the blocking
    server uses it (:class:`~engineio.adapters.protocols.BlockingWebSocket`)
    whose frames travel over the bus."""

    def __init__(self, node: Node, relay_id: int, reply_channel: str) -> None:
        self.node = node
        self.id = relay_id
        self.reply_channel = reply_channel
        self.inbox: Any = node.runtime.Queue()
        self._encode = node.state.frame_encoder(relay_id, False)
        self.accepted = False
        self.closed = False

    def accept(self) -> RelayWebSocket:
        self.accepted = True
        if self.node._publish(self.reply_channel,
                              proto.Message(proto.ACCEPT, self.id)) == 0:
            self.inbox.put(None)
        return self

    def send(self, frame: str | bytes) -> None:
        if self.closed:
            raise ConnectionError('relayed WebSocket is closed')
        node = self.node
        if node._publish(self.reply_channel, self._encode(frame)) == 0:
            self.closed = True
            self.inbox.put(None)
            raise ConnectionError('the relaying node is gone')

    def wait(self) -> str | bytes | None:
        if self.closed:
            return None
        frame: str | bytes | None = self.inbox.get()
        if frame is None:
            self.closed = True
        return frame

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            node = self.node
            node._publish(self.reply_channel, node.state.close(self.id, False))
            self.inbox.put(None)

    def finish_request(self) -> list[bytes]:
        return []


__all__ = ['Node', 'OwnerGone', 'RelayWebSocket']
