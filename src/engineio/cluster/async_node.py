"""The cluster driver of :class:`~engineio.AsyncServer`.

A forwarded request is served on the owner through the server's own ASGI
entry point, with a scope, ``receive`` and ``send`` that read the request
from the bus and write the reply to it: the owner serves it exactly as if
the client had sent it there, so the protocol rules are the core's, once.
"""
from __future__ import annotations

import asyncio
import os
import pickle
from collections.abc import Awaitable
from typing import Any

from ..sansio import cluster as proto
from ..sansio.cluster import Failure
from ..sansio.models import Response
from .bus import AsyncBus
from .node_base import NodeBase, OwnerGone
from .redis_bus import AsyncRedisBus, BusError

#: How often a forwarder checks that the owners it waits on still listen.
WATCH_INTERVAL = 1.0
#: How long the first subscription may take before the server goes on
#: without the bus (it keeps trying in the background).
START_TIMEOUT = 3.0


class _Pending:
    """A future the owner's answer settles."""

    __slots__ = ('future', 'owner')

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.future: asyncio.Future[proto.Message] = \
            asyncio.get_running_loop().create_future()

    def settle(self, message: proto.Message | None = None,
               error: BaseException | None = None) -> None:
        if not self.future.done():
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(message)  # type: ignore[arg-type]


class AsyncNode(NodeBase):
    """One :class:`~engineio.AsyncServer` as a node of a cluster."""

    bus: AsyncBus

    def __init__(self, server: Any, url: str | AsyncBus,
                 prefix: str = 'engineio') -> None:
        super().__init__(server, url, prefix)
        self._start_lock: asyncio.Lock | None = None
        self._ops: asyncio.Queue[proto.Message] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.Task[None] | None = None

    def _make_bus(self, url: str) -> AsyncBus:
        return AsyncRedisBus(url, self.logger)

    def _serve_soon(self, msg: proto.Message) -> None:
        self._spawn(self._serve(msg))

    def _op_soon(self, msg: proto.Message) -> None:
        if self._ops is not None:
            self._ops.put_nowait(msg)

    async def start(self) -> None:
        """Subscribe to this node's channel (once, on the first request)."""
        if self.forked:
            self._new_identity()
            self._start_lock = None
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self.started:
                return
            self._ops = asyncio.Queue()
            self._spawn(self._run_ops())
            try:
                await asyncio.wait_for(asyncio.shield(self.bus.start(
                    self.state.channel, self._on_message, self._on_lost)),
                    START_TIMEOUT)
                self.logger.info('cluster: node %s on %s', self.tag,
                                 self.bus.url)
            except (asyncio.TimeoutError, BusError) as exc:
                self.logger.error('cluster: bus %s not reachable (%s); serving '
                                  'local sessions, retrying', self.bus.url,
                                  exc or 'timeout')
            self._started_pid = os.getpid()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.bus.close()
        self._started_pid = None
        self._reopen_bus()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- forwarding (this node got a request for another's session) -------
    async def _ask(self, owner: str, msg: proto.Message, timeout: float
                   ) -> proto.Message | tuple[Failure, str]:
        """Publish ``msg`` to ``owner`` and wait for its answer, or say
        why there is none."""
        pending = self._waiting[msg.id] = _Pending(owner)
        try:
            if await self.bus.publish(self.state.channel_of(owner),
                                      msg.encode()) == 0:
                return Failure.OWNER_GONE, ''
            self._ensure_watch()
            return await asyncio.wait_for(pending.future, timeout)
        except OwnerGone:
            return Failure.OWNER_GONE, ''
        except BusError as exc:
            return Failure.BUS_DOWN, str(exc)
        except asyncio.TimeoutError:
            return Failure.TIMEOUT, f'{timeout:.0f} s'
        finally:
            self._waiting.pop(msg.id, None)

    async def forward(self, route: Any, exchange: Any) -> Any:
        """Serve a request for a session of another node."""
        environ = exchange.environ
        req = exchange.request
        body = b''
        if req.method == 'POST':
            limit = self.server.max_http_buffer_size
            try:
                body = await environ['wsgi.input'].read(limit + 1)
            except OSError:
                body = b''
        msg, timeout = self._forwarded(req, environ, body)
        reply = await self._ask(route.owner, msg, timeout)
        response = self._answer_of(reply, route, msg)
        if response is not None:
            return await exchange.respond(response)
        return await self._relay(route.owner, msg.id, exchange)

    async def _relay(self, owner: str, relay_id: int, exchange: Any) -> Any:
        """Carry a WebSocket's frames between the client and the owner."""
        owner_channel = self.state.channel_of(owner)
        ws = None
        try:
            ws = await exchange.accept_websocket(
                self.server.max_http_buffer_size,
                self.server.config.websocket_compression)
        except (OSError, ValueError) as exc:
            self.logger.info('relay %d: WebSocket handshake failed: %s',
                             relay_id, exc)
        if ws is None:
            self.bus.publish_nowait(owner_channel,
                                    self.state.close(relay_id, True))
            return await exchange.respond(proto.owner_gone([]))
        side = _ClientSide(owner, ws)
        self._relays_out[relay_id] = side
        writer = self._spawn(side.write_loop())
        self._ensure_watch()
        publish = self.bus.publish_nowait
        encode = self.state.frame_encoder(relay_id, True)

        def sent(future: asyncio.Future[int]) -> None:
            # Checked after the fact: waiting for each PUBLISH's answer
            # would hold the next frame back for a Redis round trip.
            if future.cancelled() or future.exception() is not None \
                    or future.result() == 0:
                side.push(None)

        try:
            while not writer.done():
                frame = await ws.wait()
                if frame is None:
                    break
                publish(owner_channel, encode(frame)).add_done_callback(sent)
        except (OSError, BusError) as exc:
            self.logger.info('relay %d ended: %s', relay_id, exc)
        finally:
            self._relays_out.pop(relay_id, None)
            if not writer.done():
                self.bus.publish_nowait(owner_channel,
                                        self.state.close(relay_id, True))
                side.push(None)
            await writer
        return await exchange.finish_websocket()

    def _ensure_watch(self) -> None:
        if self._watch is None or self._watch.done():
            self._watch = self._spawn(self._watch_owners())

    async def _watch_owners(self) -> None:
        """Fail what waits on an owner that stopped listening."""
        while self._waiting or self._relays_out:
            await asyncio.sleep(WATCH_INTERVAL)
            for owner in self._watched_owners():
                try:
                    alive = await self.bus.receivers(
                        self.state.channel_of(owner))
                except BusError:
                    continue  # the read loop reports the bus itself
                if not alive:
                    self._owner_gone(owner)

    # -- owning (another node forwarded a request for a session here) -----
    async def _serve(self, msg: proto.Message) -> None:
        sender = msg.sender
        reply_channel = self.state.channel_of(sender)
        try:
            req = proto.forwarded_request(msg)
        except ValueError as exc:
            self.logger.warning('cluster: %s', exc)
            return
        exchange = _ForwardedExchange(self, msg.id, sender, reply_channel, req)
        if req.websocket:
            self._relays_in[(sender, msg.id)] = exchange.inbox.put_nowait
        try:
            await self.server.handle_request(proto.forwarded_scope(req),
                                              exchange.receive, exchange.send)
        except Exception:
            self.logger.exception('cluster: forwarded request failed')
            if not exchange.answered:
                await exchange.reply(Response(500, [], b''))
        finally:
            self._relays_in.pop((sender, msg.id), None)
        if exchange.lost and req.method == 'GET' and not req.websocket:
            # The forwarder took a poll's packets and vanished: they are
            # lost, so the session must end rather than skip them.
            sid = msg.header.get('sid', '')
            socket = self.server.sockets.get(sid)
            if socket is not None:
                self.logger.warning('%s: poll answer not delivered (node %s '
                                    'gone)', sid, sender)
                await self.server._close(socket,
                                         self.server.reason.TRANSPORT_ERROR)

    async def _run_ops(self) -> None:
        """Server methods called on other nodes, one at a time in bus
        order (two ``send`` calls arrive in the order they were made)."""
        assert self._ops is not None
        while True:
            msg = await self._ops.get()
            try:
                await self._run_op(msg)
            except Exception:
                self.logger.exception('cluster: op failed')

    async def _run_op(self, msg: proto.Message) -> None:
        op = msg.header.get('op')
        sid = str(msg.header.get('sid', ''))
        server = self.server
        error = None
        body = b''
        try:
            if op == 'send':
                frame = proto.frame_of(msg)
                await server._send_frame(sid, frame)
                return  # sent without waiting for an answer
            if op == 'disconnect':
                await server.disconnect(sid)
                return
            if op == 'get_session':
                body = pickle.dumps(await server.get_session(sid))
            elif op == 'save_session':
                await server.save_session(sid, pickle.loads(msg.body))
            elif op == 'transport':
                body = server.transport(sid).encode()
            else:
                error = f'unknown operation {op!r}'
        except KeyError as exc:
            error = str(exc.args[0]) if exc.args else 'Session is disconnected'
        await self.bus.publish(self.state.channel_of(msg.sender),
                               proto.result_message(msg.id, error, body).encode())

    # -- server methods on sessions of other nodes ------------------------
    async def send(self, owner: str, sid: str, frame: str | bytes) -> None:
        """``send``/``send_packet`` for a session of another node: in
        order, without waiting for the owner."""
        await self._tell(owner, sid, self.state.op('send', sid, frame))

    async def disconnect(self, owner: str, sid: str) -> None:
        await self._tell(owner, sid, self.state.op('disconnect', sid))

    async def _tell(self, owner: str, sid: str, msg: proto.Message) -> None:
        try:
            receivers = await self.bus.publish(self.state.channel_of(owner),
                                               msg.encode())
        except BusError as exc:
            self._not_told(sid, msg, str(exc))
            return
        if receivers == 0:
            self._not_told(sid, msg, f'node {owner} is gone')

    async def call(self, owner: str, sid: str, op: str,
                   body: bytes = b'') -> bytes:
        """Run ``op`` on the owner and return its result; KeyError when the
        session is gone."""
        reply = await self._ask(owner, self.state.op(op, sid, body), 10.0)
        return self._result_of(reply, sid, owner)


class _ClientSide:
    """The forwarder's end of a relayed WebSocket: what the owner sends is
    written to the client in order by one task."""

    def __init__(self, owner: str, ws: Any) -> None:
        self.owner = owner
        self.ws = ws
        self.out: asyncio.Queue[str | bytes | None] = asyncio.Queue()

    def push(self, frame: str | bytes | None) -> None:
        self.out.put_nowait(frame)

    async def write_loop(self) -> None:
        ws, out = self.ws, self.out
        try:
            while True:
                frame = await out.get()
                if frame is None:
                    break
                await ws.send(frame)
        except OSError:
            pass
        await ws.close()


class _ForwardedExchange:
    """``receive`` and ``send`` of the ASGI call that serves a forwarded
    request on its owner."""

    def __init__(self, node: AsyncNode, request_id: int, sender: str,
                 reply_channel: str, req: proto.ForwardedRequest) -> None:
        self.node = node
        self.id = request_id
        self.sender = sender
        self.reply_channel = reply_channel
        self.req = req
        self.inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._encode = node.state.frame_encoder(request_id, False)
        self.answered = False
        self.lost = False
        self._connected = False
        self._body_sent = False
        self._start: dict[str, Any] | None = None
        self._chunks: list[bytes] = []
        self._gone = asyncio.Event()

    async def reply(self, response: Response) -> None:
        self.answered = True
        receivers = await self.node.bus.publish(
            self.reply_channel,
            proto.response_message(self.id, response).encode())
        if receivers == 0:
            self.lost = True

    async def receive(self) -> dict[str, Any]:
        if not self.req.websocket:
            if not self._body_sent:
                self._body_sent = True
                return {'type': 'http.request', 'body': self.req.body,
                        'more_body': False}
            await self._gone.wait()
            return {'type': 'http.disconnect'}
        if not self._connected:
            self._connected = True
            return {'type': 'websocket.connect'}
        frame = await self.inbox.get()
        if frame is None:
            return {'type': 'websocket.disconnect', 'code': 1000}
        if isinstance(frame, str):
            return {'type': 'websocket.receive', 'text': frame}
        return {'type': 'websocket.receive', 'bytes': frame}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message['type']
        node = self.node
        if kind == 'websocket.send':
            frame = message.get('text')
            if frame is None:
                frame = message.get('bytes') or b''
            future = node.bus.publish_nowait(self.reply_channel,
                                             self._encode(frame))
            future.add_done_callback(self._frame_sent)
        elif kind == 'websocket.accept':
            self.answered = True
            receivers = await node.bus.publish(
                self.reply_channel, proto.Message(proto.ACCEPT, self.id).encode())
            if receivers == 0:
                self.inbox.put_nowait(None)
        elif kind == 'websocket.close':
            node.bus.publish_nowait(self.reply_channel,
                                    node.state.close(self.id, False))
            self.inbox.put_nowait(None)
        elif kind in ('http.response.start', 'websocket.http.response.start'):
            self._start = message
        elif kind in ('http.response.body', 'websocket.http.response.body'):
            self._chunks.append(message.get('body') or b'')
            if not message.get('more_body'):
                start = self._start or {'status': 500, 'headers': []}
                headers = [(k.decode('latin-1'), v.decode('latin-1'))
                           for k, v in start.get('headers') or ()
                           if k.lower() != b'content-length']
                await self.reply(Response(int(start['status']), headers,
                                          b''.join(self._chunks)))
                self._gone.set()

    def _frame_sent(self, future: asyncio.Future[int]) -> None:
        if future.cancelled() or future.exception() is not None \
                or future.result() == 0:
            # The forwarder (or the bus) is gone: so is the WebSocket.
            self.inbox.put_nowait(None)


__all__ = ['AsyncNode', 'OwnerGone']
