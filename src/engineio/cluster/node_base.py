"""What the blocking and the asyncio node share that does no I/O: their
identity (tag, bus, the process they belong to), where each message that
arrives goes, and what a lost subscription or a vanished owner ends."""
from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from typing import Any, Protocol

from ..sansio import cluster as proto
from ..sansio.cluster import Delivery, Failure
from ..sansio.models import Response
from .redis_bus import BusError


class OwnerGone(Exception):
    """The node that owns a session stopped listening."""


class Pending(Protocol):
    """A request or op that waits for the owner's answer."""

    owner: str

    def settle(self, message: proto.Message | None = None,
               error: BaseException | None = None) -> None: ...


class ClientSide(Protocol):
    """The forwarder's end of a relayed WebSocket."""

    owner: str

    def push(self, frame: str | bytes | None) -> None:
        """Write a frame from the owner to the client (None: close)."""


class NodeBase:
    """A server as a node of a cluster, without its I/O."""

    def __init__(self, server: Any, url: Any, prefix: str = 'engineio') -> None:
        self.server = server
        self.logger: logging.Logger = server.logger
        self._url = url
        self._prefix = prefix
        self._new_identity()
        self._started_pid: int | None = None
        #: Forwarded requests and ops waiting for the owner's answer.
        self._waiting: dict[int, Pending] = {}
        #: Relayed WebSockets: here as forwarder (relay id -> client side)
        #: and as owner ((forwarder tag, relay id) -> the put of the owned
        #: WebSocket's inbox).
        self._relays_out: dict[int, ClientSide] = {}
        self._relays_in: dict[tuple[str, int],
                              Callable[[str | bytes | None], None]] = {}

    def _make_bus(self, url: str) -> Any:
        raise NotImplementedError

    def _serve_soon(self, msg: proto.Message) -> None:
        """Serve a forwarded request, concurrently with the others."""
        raise NotImplementedError

    def _op_soon(self, msg: proto.Message) -> None:
        """Run a server method for another node, after those before it."""
        raise NotImplementedError

    # -- identity ----------------------------------------------------------
    def _new_identity(self) -> None:
        """A tag and a bus of this process's own.  Called again in a worker
        forked after the server was made (gunicorn --preload, uWSGI without
        lazy-apps): workers sharing a tag could not tell their sessions
        apart."""
        self._pid = os.getpid()
        self.state = proto.NodeState(
            secrets.token_urlsafe(6)[:proto.TAG_LENGTH], self._prefix)
        self.tag = self.state.tag
        self.owner_of = self.state.owner_of
        self.server.core.node = self.tag
        url = self._url
        self.bus = self._make_bus(url) if isinstance(url, str) else url

    def _reopen_bus(self) -> None:
        """A new bus in place of one closed by a shutdown, so the server
        can start again (same tag: its sessions keep their ids)."""
        if isinstance(self._url, str):
            self.bus = self._make_bus(self._url)

    @property
    def forked(self) -> bool:
        """This object was made in another process (before a fork)."""
        return os.getpid() != self._pid

    @property
    def started(self) -> bool:
        return self._started_pid == os.getpid()

    def make_sid(self) -> str:
        return self.state.make_sid(secrets.token_urlsafe(12))

    # -- incoming messages, in bus order ------------------------------------
    def _on_message(self, data: bytes) -> None:
        try:
            where, key, payload = proto.deliver(proto.decode(data))
        except ValueError as exc:
            self.logger.warning('cluster: dropped a bad bus message (%s)', exc)
            return
        if where is Delivery.TO_OWNED_RELAY:
            put = self._relays_in.get(key)
            if put is not None:
                put(payload)
        elif where is Delivery.TO_CLIENT_RELAY:
            side = self._relays_out.get(key)
            if side is not None:
                side.push(payload)
        elif where is Delivery.ANSWER:
            pending = self._waiting.pop(key, None)
            if pending is not None:
                pending.settle(payload)
        elif where is Delivery.SERVE:
            self._serve_soon(payload)
        else:
            self._op_soon(payload)

    def _on_lost(self) -> None:
        """The subscription broke: what was in flight may be lost, so every
        forwarded exchange and relay ends now (the clients retry)."""
        for pending in list(self._waiting.values()):
            pending.settle(error=BusError('bus connection lost'))
        self._waiting.clear()
        for side in list(self._relays_out.values()):
            side.push(None)
        for put in list(self._relays_in.values()):
            put(None)

    # -- forwarding: what to send, what the answer means --------------------
    def _forwarded(self, req: Any, environ: dict[str, Any],
                   body: bytes) -> tuple[proto.Message, float]:
        """The bus message of a request for another node's session, and
        how long to wait for its answer."""
        msg = self.state.request(req.query.get('sid', ''),
                                 proto.environ_request(environ, body,
                                                       req.websocket))
        config = self.server.config
        return msg, proto.forward_timeout(req.method, req.websocket,
                                          config.ping_interval,
                                          config.ping_timeout)

    def _answer_of(self, reply: proto.Message | tuple[Failure, str],
                   route: Any, msg: proto.Message) -> Response | None:
        """What the client gets for a forwarded request; None when the
        owner accepted its WebSocket (relay it)."""
        if isinstance(reply, tuple):
            self.logger.warning(proto.describe_failure(
                reply[0], msg.header['sid'], route.owner, reply[1]))
            return proto.failure_response(reply[0], route.headers)
        if reply.kind == proto.RESPONSE:
            return proto.response_of(reply)
        return None

    @staticmethod
    def _result_of(reply: proto.Message | tuple[Failure, str], sid: str,
                   owner: str) -> bytes:
        """The result of an op run on another node; KeyError (as for a
        local session) when there is none."""
        if isinstance(reply, tuple):
            raise KeyError(proto.op_error(
                proto.describe_failure(reply[0], sid, owner, reply[1])))
        error = reply.header.get('e')
        if error is not None:
            raise KeyError(error)
        return reply.body

    def _not_told(self, sid: str, msg: proto.Message, detail: str) -> None:
        """An op sent without waiting (send, disconnect) reached no one."""
        self.logger.warning('%s: cannot %s (%s)', sid, msg.header['op'],
                            detail)

    # -- owners that vanish ---------------------------------------------------
    def _watched_owners(self) -> set[str]:
        """The owners something here waits on."""
        owners = {p.owner for p in list(self._waiting.values())}
        owners.update(s.owner for s in list(self._relays_out.values()))
        return owners

    def _owner_gone(self, owner: str) -> None:
        """Fail what waits on ``owner``, which no longer listens (a killed
        process answers nothing, ever)."""
        self.logger.warning('cluster: node %s is gone', owner)
        for key, pending in list(self._waiting.items()):
            if pending.owner == owner:
                self._waiting.pop(key, None)
                pending.settle(error=OwnerGone(owner))
        for side in list(self._relays_out.values()):
            if side.owner == owner:
                side.push(None)
