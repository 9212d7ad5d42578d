"""The server side of the protocol core: request validation, routing to
sessions, handshakes, payloads, CORS, cookies, compression and timers.

:class:`ServerCore` decides everything the wire shows (every status code and
body) and drivers carry it out.  No I/O, no clock, no threads.
"""
from __future__ import annotations

import enum
import gzip
import heapq
import itertools
import re
import zlib
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from .. import packet as pk
from ..exceptions import ProtocolError
from ..packet import Frame
from ..payload import decode_body, encode_frames
from . import v3
from .cluster import owner_tag
from .commands import (
    Opening,
    PostResult,
    ProbeStep,
    Teardown,
    Timer,
    TimerCommand,
    WebSocketEnd,
    describe,
)
from .events import Disconnected, MessageReceived, Reason, UpgradeCompleted
from .handshake import BadOpening, check_websocket_opening
from .models import Headers, Request, Response
from .session import POLLING, UPGRADE_EXPIRED, WEBSOCKET, Heartbeat, Push, Session

PROTOCOL_VERSION = '4'
VALID_TRANSPORTS = (POLLING, WEBSOCKET)
COMPRESSION_METHODS = ('gzip', 'deflate')
# A sid that needs no JSON escaping (what generate_id() makes).
_PLAIN_SID = re.compile(r'[A-Za-z0-9_\-.~]*')

TEXT_CONTENT_TYPE = ('Content-Type', 'text/plain; charset=UTF-8')
# Polling responses are live data: no proxy or browser may cache them.
NO_STORE = ('Cache-Control', 'no-store')
JSON_CONTENT_TYPE = ('Content-Type', 'application/json')


class ErrorCode(enum.IntEnum):
    """Why a request was refused: the codes the official server uses."""

    UNKNOWN_TRANSPORT = 0
    UNKNOWN_SID = 1
    BAD_HANDSHAKE_METHOD = 2
    BAD_REQUEST = 3
    FORBIDDEN = 4
    UNSUPPORTED_PROTOCOL_VERSION = 5


ERROR_MESSAGES = {
    ErrorCode.UNKNOWN_TRANSPORT: 'Transport unknown',
    ErrorCode.UNKNOWN_SID: 'Session ID unknown',
    ErrorCode.BAD_HANDSHAKE_METHOD: 'Bad handshake method',
    ErrorCode.BAD_REQUEST: 'Bad request',
    ErrorCode.FORBIDDEN: 'Forbidden',
    ErrorCode.UNSUPPORTED_PROTOCOL_VERSION: 'Unsupported protocol version',
}


class Action(enum.Enum):
    """What a driver must do with a request (see :meth:`ServerCore.route`)."""

    #: Send :attr:`Route.response` and stop.
    REPLY = 'reply'
    #: Create a session (:meth:`ServerCore.open_session`), run ``connect``.
    HANDSHAKE = 'handshake'
    #: A long-polling GET: wait for output of :attr:`Route.session`.
    POLL = 'poll'
    #: A long-polling POST: read the body and call :meth:`ServerCore.post`.
    POST = 'post'
    #: Accept a WebSocket and upgrade :attr:`Route.session` to it.
    UPGRADE = 'upgrade'
    #: Accept the WebSocket and close it at once (:attr:`Route.error` says
    #: why, for the log); :attr:`Route.session` is not touched.
    DISCARD = 'discard'
    #: The session lives on another node of the cluster
    #: (:attr:`Route.owner`): hand the request to it (:mod:`engineio.cluster`).
    FORWARD = 'forward'


class Route(NamedTuple):
    action: Action
    transport: str = POLLING
    session: Session | None = None
    response: Response | None = None
    #: CORS headers to add to every response to this request.
    headers: Headers = []
    #: A session this request closed (overlapping polls...): the driver must
    #: dispatch the event and wake the session's waiters.
    closed: tuple[Session, Disconnected] | None = None
    #: Why the request was refused, for logging.
    error: str | None = None
    #: The refusal itself, for the application's ``connection_error``
    #: handler.
    refusal: Refusal | None = None
    #: The protocol revision of the request (``EIO``): 4, or 3 when
    #: ``allow_eio3`` is on.  Pass it to :meth:`ServerCore.open_session`.
    protocol: int = 4
    #: A v3 handshake asked for binary data as base64 (``b64=1``).  Pass it
    #: to :meth:`ServerCore.open_session`.
    b64: bool = False
    #: The tag of the node that owns the session (:data:`Action.FORWARD`).
    owner: str | None = None


class Refusal(NamedTuple):
    """A refused request: its error code and the detail for the log."""

    code: ErrorCode
    detail: str

    @property
    def message(self) -> str:
        """The message of the code, as the official server words it."""
        return ERROR_MESSAGES[self.code]


#: Smallest WebSocket message compressed when ``websocket_compression`` is
#: on without a threshold: the default of the official server's
#: ``perMessageDeflate``, below which deflate's overhead outweighs its gain.
WEBSOCKET_COMPRESSION_THRESHOLD = 1024


def websocket_compression_threshold(option: bool | dict[str, Any] | None
                                    ) -> int | None:
    """The ``websocket_compression`` option as a threshold in bytes, or
    None when compression is off.

    ``False``/``None``: off; ``True``: on with the default threshold; a dict
    ``{'threshold': n}``: on, messages shorter than ``n`` bytes sent as is.
    """
    if option is None or option is False:
        return None
    if option is True:
        return WEBSOCKET_COMPRESSION_THRESHOLD
    if isinstance(option, dict):
        unknown = set(option) - {'threshold'}
        if unknown:
            raise ValueError('unknown websocket_compression setting(s): '
                             + ', '.join(sorted(map(str, unknown))))
        threshold = option.get('threshold', WEBSOCKET_COMPRESSION_THRESHOLD)
        if isinstance(threshold, bool) or not isinstance(threshold, int) \
                or threshold < 0:
            raise ValueError('websocket_compression threshold must be an '
                             'integer >= 0')
        return threshold
    raise ValueError('websocket_compression must be a bool or a dict like '
                     "{'threshold': 1024}")


def transports_option(transports: Iterable[str] | None) -> tuple[str, ...]:
    """The ``transports`` option as a tuple of valid transport names."""
    if transports is None:
        return VALID_TRANSPORTS
    if isinstance(transports, str):
        transports = [transports]
    names = tuple(transports)
    for t in names:
        if t not in VALID_TRANSPORTS:
            raise ValueError(f'invalid transport {t!r}')
    if not names:
        raise ValueError('at least one transport is required')
    return names


class ServerConfig:
    """The server options that shape the protocol, validated on the way in.

    :meth:`update` changes options later (a server's option attributes
    write through it).  Sessions keep the :class:`Heartbeat` they were
    opened with: their clients were told its timings in the open packet.
    """

    def __init__(self, ping_interval: float | tuple[float, float] = 25,
                 ping_timeout: float = 20,
                 max_http_buffer_size: int = 1_000_000,
                 allow_upgrades: bool = True,
                 http_compression: bool = True,
                 compression_threshold: int = 1024,
                 cookie: str | dict[str, Any] | None = None,
                 cors_allowed_origins: Any = None,
                 cors_credentials: bool = True,
                 transports: Iterable[str] | None = None,
                 upgrade_timeout: float = 10.0,
                 enforce_timeouts: bool = True,
                 max_outgoing_buffer_size: int | None = None,
                 initial_packet: Any = None,
                 allow_eio3: bool = False,
                 websocket_compression: bool | dict[str, Any] = False) -> None:
        self._options: dict[str, Any] = {}
        self.update(
            ping_interval=ping_interval, ping_timeout=ping_timeout,
            max_http_buffer_size=max_http_buffer_size,
            allow_upgrades=allow_upgrades, http_compression=http_compression,
            compression_threshold=compression_threshold, cookie=cookie,
            cors_allowed_origins=cors_allowed_origins,
            cors_credentials=cors_credentials, transports=transports,
            upgrade_timeout=upgrade_timeout, enforce_timeouts=enforce_timeouts,
            max_outgoing_buffer_size=max_outgoing_buffer_size,
            initial_packet=initial_packet, allow_eio3=allow_eio3,
            websocket_compression=websocket_compression)

    def update(self, **changes: Any) -> None:
        """Change options (the keyword arguments of the constructor).

        Everything is derived and checked before anything is assigned, so a
        refused change leaves the configuration as it was.
        """
        if self._options:
            unknown = set(changes) - set(self._options)
            if unknown:
                raise TypeError('unknown server option(s): '
                                + ', '.join(sorted(unknown)))
        o = {**self._options, **changes}
        ping_interval = o['ping_interval']
        if isinstance(ping_interval, (tuple, list)):
            interval, grace = float(ping_interval[0]), float(ping_interval[1])
        else:
            interval, grace = float(ping_interval), 0.0
        ping_timeout = float(o['ping_timeout'])
        initial_packet = o['initial_packet']
        initial_frame = None if initial_packet is None else \
            pk.encode_data(pk.MESSAGE, initial_packet)
        ws_compression = websocket_compression_threshold(
            o['websocket_compression'])
        transports = transports_option(o['transports'])
        max_http_buffer_size = int(o['max_http_buffer_size'])
        timings = (interval, ping_timeout + grace, float(o['upgrade_timeout']),
                   bool(o['enforce_timeouts']), o['max_outgoing_buffer_size'])
        old = self.__dict__.get('heartbeat')
        if old is None or timings != (old.interval, old.timeout,
                                      old.upgrade_timeout, old.enforce,
                                      old.buffer_limit):
            self.heartbeat = Heartbeat(timings[0], timings[1],
                                       upgrade_timeout=timings[2],
                                       enforce=timings[3],
                                       buffer_limit=timings[4])

        self._options = o
        self.ping_interval = interval
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        #: A message sent right after the open packet (already encoded).
        self.initial_frame = initial_frame
        self.allow_upgrades = o['allow_upgrades']
        #: Accept protocol v3 clients (Engine.IO 3.x, Socket.IO v2).
        self.allow_eio3 = o['allow_eio3']
        self.http_compression = o['http_compression']
        self.compression_threshold = o['compression_threshold']
        self.cookie = o['cookie']
        self.cors_allowed_origins = o['cors_allowed_origins']
        self.cors_credentials = o['cors_credentials']
        #: permessage-deflate (RFC 7692) for WebSocket messages: None when
        #: off, else the smallest message (in bytes) worth compressing.
        self.websocket_compression: int | None = ws_compression
        self.transports: tuple[str, ...] = transports

    def upgrades(self) -> list[str]:
        """The transports a polling session may upgrade to."""
        if self.allow_upgrades and WEBSOCKET in self.transports:
            return [WEBSOCKET]
        return []


def error_response(code: ErrorCode, headers: Headers = (),  # type: ignore[assignment]
                   status: int = 400) -> Response:
    body = f'{{"code":{int(code)},"message":"{ERROR_MESSAGES[code]}"}}'.encode()
    return Response(status, [JSON_CONTENT_TYPE, *headers], body)


class ServerCore:
    """Routing and session bookkeeping for one Engine.IO server."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        #: Open sessions by sid.
        self.sessions: dict[str, Session] = {}
        # Sessions closed by the server that wait for the client's next poll
        # to hand over the close packet.
        self._lingering: dict[str, tuple[Session, float]] = {}
        # Entries name their session by sid, not by reference: a closed
        # session must not stay alive (with all its driver hangs on it)
        # until its entry comes due, up to a ping interval later.
        self._timers: list[tuple[float, int, str]] = []
        self._open_tails: dict[tuple[Any, ...], str] = {}
        # Closed sessions whose timer entries are still in the heap.
        self._stale = 0
        self._seq = itertools.count()
        #: This node's tag when the server is part of a cluster
        #: (:mod:`engineio.sansio.cluster`): sessions of other tags are
        #: forwarded to their owners.
        self.node: str | None = None

    # -- routing ---------------------------------------------------------
    def route(self, req: Request, now: float) -> Route:
        """Decide what to do with an HTTP request for the Engine.IO path."""
        # Without an Origin there is nothing to check (most polling).
        cors = [] if req.origin is None else self.cors_headers(req)
        if cors is None:
            return self._refuse(Refusal(ErrorCode.FORBIDDEN,
                                        f'origin {req.origin} is not accepted'), [])
        if req.method == 'OPTIONS':
            return Route(Action.REPLY, response=Response(
                200, [TEXT_CONTENT_TYPE, *cors], b''), headers=cors)
        query = req.query
        protocol = 4
        if query.get('EIO') != PROTOCOL_VERSION:
            if not (self.config.allow_eio3
                    and query.get('EIO') == v3.PROTOCOL_VERSION):
                return self._refuse(Refusal(
                    ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
                    f'unsupported protocol version EIO={query.get("EIO")}'),
                    cors)
            protocol = 3
            if 'j' in query:
                return self._refuse(Refusal(
                    ErrorCode.BAD_REQUEST,
                    'JSONP polling (v3 "j" argument) is not supported'), cors)
        transport = query.get('transport')
        if transport not in self.config.transports:
            return self._refuse(Refusal(ErrorCode.UNKNOWN_TRANSPORT,
                                        f'transport {transport!r} not accepted'),
                                cors)
        sid = query.get('sid')
        if transport == WEBSOCKET and not req.websocket:
            return self._refuse(Refusal(ErrorCode.BAD_REQUEST,
                                        'websocket transport without an upgrade'),
                                cors)
        if transport == WEBSOCKET:
            bad = check_websocket_opening(req)
            if bad is not None:
                return self._refuse_opening(bad, sid is None, cors)
        if sid is None:
            if transport == POLLING and req.method != 'GET':
                return self._refuse(Refusal(
                    ErrorCode.BAD_HANDSHAKE_METHOD,
                    f'handshake with method {req.method}'), cors)
            if protocol == 3:
                return Route(Action.HANDSHAKE, transport, headers=cors,
                             protocol=3, b64=bool(query.get('b64')))
            return Route(Action.HANDSHAKE, transport, headers=cors)
        session = self.sessions.get(sid)
        if session is None:
            if self.node is not None:
                owner = owner_tag(sid)
                if owner is not None and owner != self.node:
                    return Route(Action.FORWARD, transport, headers=cors,
                                 protocol=protocol, owner=owner)
            # Only the client's next poll collects the close packet: a
            # WebSocket probe racing it must not take it away.
            lingering = self._lingering.get(sid)
            if (lingering is not None and transport == POLLING
                    and req.method == 'GET'
                    and lingering[0].protocol == protocol):
                del self._lingering[sid]
                return Route(Action.REPLY, POLLING, lingering[0], headers=cors,
                             response=self.payload_response(
                                 lingering[0].take(), req, cors, lingering[0]))
            return self._refuse(Refusal(ErrorCode.UNKNOWN_SID,
                                        f'unknown session {sid}'), cors)
        if session.protocol != protocol:
            return self._refuse(Refusal(
                ErrorCode.BAD_REQUEST,
                f'EIO={protocol} request for a v{session.protocol} session '
                f'{sid}'), cors)
        if transport == WEBSOCKET:
            if not (self.config.allow_upgrades and session.can_upgrade()):
                # As the official server does: complete the handshake, then
                # close.  A 400 here is an *error* to WebSocket clients
                # (Node's ws), which crashes those that only expect a close;
                # the session itself is left alone.
                return Route(Action.DISCARD, WEBSOCKET, session, headers=cors,
                             error=f'session {sid} cannot upgrade now '
                                   f'({session.transport}, upgrade '
                                   f'{session.upgrade.value})')
            if protocol == 3:
                # A v3 WebSocket says itself whether it takes binary frames.
                session.ws_b64 = bool(query.get('b64'))
            return Route(Action.UPGRADE, WEBSOCKET, session, headers=cors)
        if session.transport != POLLING:
            return self._refuse(Refusal(
                ErrorCode.BAD_REQUEST,
                f'polling request for session {sid} on {session.transport}'),
                cors)
        if req.method == 'GET':
            if session.poll_active:
                event = session.close(Reason.TRANSPORT_ERROR)
                route = self._refuse(Refusal(
                    ErrorCode.BAD_REQUEST,
                    f'overlapping poll for session {sid}'), cors)
                return route._replace(closed=self._closed(session, event, now))
            return Route(Action.POLL, POLLING, session, headers=cors)
        if req.method == 'POST':
            if session.post_active:
                event = session.close(Reason.TRANSPORT_ERROR)
                route = self._refuse(Refusal(
                    ErrorCode.BAD_REQUEST,
                    f'overlapping post for session {sid}'), cors)
                return route._replace(closed=self._closed(session, event, now))
            return Route(Action.POST, POLLING, session, headers=cors)
        return self._refuse(Refusal(ErrorCode.BAD_REQUEST,
                                    f'method {req.method} not allowed'), cors)

    @staticmethod
    def _refuse(refusal: Refusal, cors: Headers) -> Route:
        return Route(Action.REPLY, response=error_response(refusal.code, cors),
                     headers=cors, error=refusal.detail, refusal=refusal)

    @staticmethod
    def _refuse_opening(bad: BadOpening, handshake: bool,
                        cors: Headers) -> Route:
        # Refused before any session or handler is involved; a handshake
        # by another method than GET is a bad handshake method, as with
        # polling (and on the official server).
        code = ErrorCode.BAD_HANDSHAKE_METHOD \
            if bad.bad_method and handshake else ErrorCode.BAD_REQUEST
        refusal = Refusal(code, bad.detail)
        return Route(Action.REPLY,
                     response=error_response(code, [*cors, *bad.headers]),
                     headers=cors, error=bad.detail, refusal=refusal)

    @staticmethod
    def forbid(reason: Any, cors: Headers) -> tuple[Response, Refusal]:
        """Refuse a handshake the application's ``allow_request`` hook
        turned down: 403 with the hook's reason as the message."""
        message = reason if isinstance(reason, str) and reason \
            else ERROR_MESSAGES[ErrorCode.FORBIDDEN]
        body = pk.Packet.json.dumps(
            {'code': int(ErrorCode.FORBIDDEN), 'message': message}).encode()
        refusal = Refusal(ErrorCode.FORBIDDEN,
                          f'refused by allow_request: {message}')
        return Response(403, [JSON_CONTENT_TYPE, *cors], body), refusal

    def _closed(self, session: Session, event: Disconnected | None,
                now: float) -> tuple[Session, Disconnected] | None:
        if event is None:
            return None
        self.forget(session, now)
        return session, event

    # -- sessions --------------------------------------------------------
    def open_session(self, sid: str, transport: str, now: float,
                     session_factory: Callable[..., Session] = Session,
                     protocol: int = 4, b64: bool = False) -> Session:
        """Create and register a session (before ``connect`` runs).

        ``protocol`` and ``b64`` are the handshake route's
        (:attr:`Route.protocol`, :attr:`Route.b64`).
        """
        session = session_factory(sid, transport, self.config.heartbeat, now)
        if protocol == 3:
            v3.adopt(session, b64)
        self.sessions[sid] = session
        return session

    def open_frame(self, session: Session) -> str:
        """The open packet that starts a session."""
        c = self.config
        polling = session.transport == POLLING
        # Only the sid differs between sessions: the rest is encoded once
        # per set of settings (which an application may still change).
        key = (polling, session.protocol, c.ping_interval, c.ping_timeout,
               c.max_http_buffer_size, c.allow_upgrades, tuple(c.transports),
               pk.Packet.json)
        tail = self._open_tails.get(key)
        if tail is None:
            data = {
                'upgrades': c.upgrades() if polling else [],
                'pingInterval': int(c.ping_interval * 1000),
                'pingTimeout': int(c.ping_timeout * 1000),
                'maxPayload': c.max_http_buffer_size,
            }
            if session.protocol == 3:
                del data['maxPayload']  # v3 handshakes do not announce it
            encoded: str = pk.Packet.json.dumps(data, separators=(',', ':'))
            tail = self._open_tails[key] = ',' + encoded[1:]
        sid = session.sid
        if not _PLAIN_SID.fullmatch(sid):
            sid = pk.Packet.json.dumps(sid)[1:-1]
        return '0{"sid":"' + sid + '"' + tail

    def accept(self, session: Session, now: float) -> list[Frame]:
        """``connect`` accepted the session: start its heartbeat and return
        the first frames to send (the open packet, then anything the
        handler already sent)."""
        session.start_heartbeat(now)
        self.schedule(session)
        first: list[Frame] = [self.open_frame(session)]
        if self.config.initial_frame is not None:
            first.append(session.wire(self.config.initial_frame))
        return [*first, *session.take()]

    def reject(self, session: Session, value: Any, cors: Headers) -> Response:
        """``connect`` rejected the session: drop it, answer 401."""
        self.sessions.pop(session.sid, None)
        session.state = session.state.CLOSED
        if value is False or value is None:
            body = b'{"message":"Unauthorized"}'
        else:
            body = pk.Packet.json.dumps(value).encode('utf-8')
        return Response(401, [JSON_CONTENT_TYPE, *cors], body)

    def allowed(self, verdict: Any, cors: Headers
                ) -> tuple[Response, Refusal] | None:
        """The application's ``allow_request`` hook answered ``verdict``:
        None to go on, else the 403 answer and the refusal to report."""
        if verdict is True or verdict is None:
            return None
        return self.forbid(verdict, cors)

    def connected(self, session: Session, verdict: Any, route: Route,
                  req: Request, now: float) -> Opening:
        """The ``connect`` handler returned ``verdict``: reject the session
        (anything but None or True) or accept it."""
        if verdict is not None and verdict is not True:
            return Opening(True, self.reject(session, verdict, route.headers),
                           [])
        frames = self.accept(session, now)
        # accept() scheduled the session: its entry is the heap's top when
        # nothing is due before it.
        wake = self._timers[0][2] == session.sid
        if session.transport == WEBSOCKET:
            return Opening(False, None, frames, wake)
        response = self.payload_response(frames, req, route.headers, session)
        # The cookie rides on the polling handshake only, as the official
        # server sends it.
        cookie = self.cookie_header(session.sid)
        if cookie is not None:
            response.headers.append(cookie)
        return Opening(False, response, [], wake)

    def close(self, session: Session, reason: str,
              now: float) -> Disconnected | None:
        """Close a session; returns the event exactly once."""
        event = session.close(reason)
        if event is not None:
            self.forget(session, now)
        return event

    def forget(self, session: Session, now: float) -> None:
        """Unregister a closed session, keeping it briefly if the client
        still has to collect a close packet by polling."""
        if self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]
        if (session.transport == POLLING and not session.poll_active
                and session.has_output()):
            until = now + session.heartbeat.linger
            self._lingering[session.sid] = (session, until)
            self.schedule(session, until)
            return
        # Its timer entry is now dead weight until it comes due, up to a ping
        # interval later; under connection churn, sweep such entries out.
        self._stale += 1
        if self._stale > 64 and self._stale * 2 > len(self._timers):
            self._sweep()

    def _sweep(self) -> None:
        sessions, lingering = self.sessions, self._lingering
        # In place: expire() may be iterating over this very list.
        self._timers[:] = [entry for entry in self._timers
                           if entry[2] in sessions or entry[2] in lingering]
        heapq.heapify(self._timers)
        self._stale = 0

    # -- timers ----------------------------------------------------------
    def schedule(self, session: Session, when: float | None = None) -> bool:
        """Make sure the timer heap wakes this session in time.

        Returns True when the new entry is the earliest of all, so a driver
        sleeping until the previous earliest must be woken.
        """
        if when is None:
            when = session.next_deadline()
        if session.timer_at and session.timer_at <= when:
            return False
        session.timer_at = when
        earliest = not self._timers or when < self._timers[0][0]
        heapq.heappush(self._timers, (when, next(self._seq), session.sid))
        return earliest

    def next_deadline(self) -> float | None:
        """When the earliest timer is due (None: no timers)."""
        return self._timers[0][0] if self._timers else None

    def expire(self, now: float) -> list[tuple[Session, list[Any]]]:
        """Run every timer due at ``now``.

        Returns ``(session, outcomes)`` pairs, outcomes as
        :meth:`Session.on_deadline` gives them.  Closed sessions are
        unregistered here.
        """
        due = []
        timers = self._timers
        sessions, all_lingering = self.sessions, self._lingering
        while timers and timers[0][0] <= now:
            when, _, sid = heapq.heappop(timers)
            session = sessions.get(sid)
            lingering = None
            if session is None:
                lingering = all_lingering.get(sid)
                if lingering is None:
                    # The session is gone (closed and forgotten).
                    self._stale = max(0, self._stale - 1)
                    continue
                session = lingering[0]
            if when != session.timer_at:
                continue  # stale: the session was rescheduled earlier
            session.timer_at = 0.0
            if session.closed:
                if lingering is not None:
                    if now >= lingering[1]:
                        del all_lingering[sid]
                    else:
                        self.schedule(session, lingering[1])
                continue
            outcomes = session.on_deadline(now)
            if outcomes:
                due.append((session, outcomes))
            if session.closed:
                self.forget(session, now)
            else:
                self.schedule(session)
        return due

    def due(self, now: float) -> list[TimerCommand]:
        """Run every timer due at ``now`` (:meth:`expire`) and say what the
        driver must do about each outcome."""
        out = []
        for session, outcomes in self.expire(now):
            for outcome in outcomes:
                if outcome is Push.BUFFERED:
                    out.append(TimerCommand(Timer.WAKE_POLL, session))
                elif outcome is Push.WRITE:
                    out.append(TimerCommand(Timer.WRITE_PING, session))
                elif outcome is UPGRADE_EXPIRED:
                    out.append(TimerCommand(Timer.PROBE_EXPIRED, session))
                elif type(outcome) is Disconnected:
                    out.append(TimerCommand(Timer.CLOSED, session, outcome))
        return out

    # -- transports ------------------------------------------------------
    def start_poll(self, session: Session, now: float
                   ) -> tuple[list[Frame], bool]:
        """A long-polling GET begins: the frames to answer it with now, or
        none (wait until :meth:`Session.take_poll` has some: the session's
        pushes and timers say when).  The second value is
        :meth:`schedule`'s: wake the driver's timer."""
        session.poll_active = True
        frames = session.take_poll()
        if frames:
            return frames, False
        # The heartbeat puts output in the buffer within one ping interval;
        # this bound only protects against a stuck session.
        session.poll_deadline = now + self.config.ping_interval + \
            self.config.heartbeat.timeout
        return frames, self.schedule(session, session.poll_deadline)

    @staticmethod
    def end_poll(session: Session) -> None:
        """The long-polling GET was answered (or its client went away)."""
        session.poll_active = False
        session.poll_deadline = 0.0

    def post_result(self, session: Session, body: bytes | None,
                    cors: Headers, now: float) -> PostResult:
        """Consume a POST body read with the limit of
        ``max_http_buffer_size`` (None: it was larger)."""
        if body is None:
            event = self.close(session, Reason.TRANSPORT_ERROR, now)
            return PostResult(self.too_large_response(cors),
                              [event] if event else [],
                              'payload larger than max_http_buffer_size')
        events, error = self.post(session, body, now)
        if error is not None:
            return PostResult(error_response(ErrorCode.BAD_REQUEST, cors),
                              events, f'bad payload ({error})')
        return PostResult(self.ok_response(cors), events, None)

    def frame_event(self, session: Session,
                    event: Disconnected | Push | MessageReceived,
                    now: float) -> None:
        """Bookkeeping after :meth:`Session.receive_frame` returned
        something other than a message (the driver still acts on it)."""
        if type(event) is Disconnected:
            self.forget(session, now)

    def probe(self, session: Session, frame: Frame | None,
              now: float) -> ProbeStep:
        """One frame received on an upgrading WebSocket (None: it ended)."""
        if frame is None:
            session.abort_upgrade()
            return ProbeStep(None, True, False, None if session.closed else
                             'upgrade to websocket failed (the websocket '
                             'closed during the probe)')
        reply, outcome = session.probe_frame(frame, now)
        if outcome is None:
            return ProbeStep(reply, False, False, None)
        if type(outcome) is UpgradeCompleted:
            return ProbeStep(reply, True, True, None)
        return ProbeStep(reply, True, False, None if session.closed else
                         'upgrade to websocket failed (unexpected frame '
                         f'{describe(frame)} during the probe)')

    def websocket_ended(self, session: Session, end: WebSocketEnd,
                        now: float) -> tuple[Disconnected | None, str | None]:
        """A session's frame loop ended: close the session with the reason
        that says how; the second value is a warning to log, if any."""
        reason = Reason.TRANSPORT_CLOSE if end is WebSocketEnd.CLOSED \
            else Reason.TRANSPORT_ERROR
        problem = 'websocket message larger than max_http_buffer_size' \
            if end is WebSocketEnd.TOO_LARGE else None
        return self.close(session, reason, now), problem

    def overflow(self, session: Session, now: float
                 ) -> tuple[Disconnected | None, str]:
        """:meth:`Session.push` answered ``Push.OVERFLOW``: the client does
        not collect its output; close the session (and say why, to log)."""
        return (self.close(session, Reason.TRANSPORT_ERROR, now),
                'client does not collect its messages '
                '(max_outgoing_buffer_size reached); disconnecting')

    def teardown(self, session: Session, flush: bool) -> Teardown:
        """How to release the transport of a session that just closed;
        ``flush`` when the server closed it (what it sent before the
        close packet goes out first)."""
        frames = session.take() if flush and session.upgraded else []
        return Teardown(frames, session.heartbeat.upgrade_timeout
                        if session.keeps_probe_open() else 0.0)

    # -- long-polling ----------------------------------------------------
    def post(self, session: Session, body: bytes, now: float
             ) -> tuple[list[MessageReceived | Disconnected | Push], str | None]:
        """Consume the body of a long-polling POST.

        Returns the events and, for a malformed body, the reason the session
        was closed (the driver answers 400 then).  The events may include
        ``Push.BUFFERED``: the session queued an answer (a v3 pong), so the
        driver wakes the session's pending poll.
        """
        try:
            if session.protocol == 4:
                packets = decode_body(body)
            else:
                packets = v3.decode_payload(body)
        except ProtocolError as exc:
            event = self.close(session, Reason.TRANSPORT_ERROR, now)
            return ([event] if event else []), str(exc)
        events = session.receive_payload(packets, now)
        if events and type(events[-1]) is Disconnected:
            self.forget(session, now)
        return events, None

    def payload_response(self, frames: list[Frame], req: Request,
                         cors: Headers, session: Session | None = None
                         ) -> Response:
        """A 200 response carrying ``frames`` as one polling payload.

        The payload is encoded for the protocol of the request; for v3 it
        also depends on the session's ``b64`` choice, so pass ``session``
        when it is at hand (it is otherwise found by the request's sid).
        """
        if req.query.get('EIO') == v3.PROTOCOL_VERSION:
            return self._v3_payload_response(frames, req, cors, session)
        body = encode_frames(frames).encode('utf-8')
        headers = [TEXT_CONTENT_TYPE, NO_STORE, *cors]
        if len(body) < self.config.compression_threshold:
            return Response(200, headers, body)
        return Response(200, headers, self._compress(body, req, headers))

    def _v3_payload_response(self, frames: list[Frame], req: Request,
                             cors: Headers, session: Session | None
                             ) -> Response:
        if session is None:
            sid = req.query.get('sid')
            session = self.sessions.get(sid) if sid else None
        # The handshake request carries b64=1; later polls do not.
        b64 = session.b64 if session is not None else bool(req.query.get('b64'))
        body, content_type = v3.encode_payload(frames, b64)
        headers = [('Content-Type', content_type), NO_STORE, *cors]
        return Response(200, headers, self._compress(body, req, headers))

    def _compress(self, body: bytes, req: Request, headers: Headers) -> bytes:
        c = self.config
        if not c.http_compression or len(body) < c.compression_threshold:
            return body
        accepted = req.accept_encoding
        if not accepted:
            return body
        for method in [m.split(';')[0].strip() for m in accepted.split(',')]:
            if method == 'gzip':
                headers.append(('Content-Encoding', 'gzip'))
                return gzip.compress(body, compresslevel=6)
            if method == 'deflate':
                headers.append(('Content-Encoding', 'deflate'))
                return zlib.compress(body)
        return body

    @staticmethod
    def ok_response(cors: Headers) -> Response:
        """The answer to a successful POST."""
        return Response(200, [('Content-Type', 'text/html'), NO_STORE, *cors],
                        b'ok')

    def too_large_response(self, cors: Headers) -> Response:
        return Response(413, [TEXT_CONTENT_TYPE, *cors], b'Payload Too Large')

    # -- CORS and cookies ------------------------------------------------
    def cors_headers(self, req: Request) -> Headers | None:
        """The CORS headers for a request, or None if its origin is refused."""
        allowed = self.config.cors_allowed_origins
        if allowed == []:
            return []
        origin = req.origin
        if origin is None:
            return []
        if allowed is None:
            if not self._same_origin(req):
                return None
        elif allowed == '*' or allowed == ['*']:
            pass
        elif callable(allowed):
            try:
                verdict = allowed(origin, req.native)
            except TypeError:
                verdict = allowed(origin)
            if not verdict:
                return None
        elif isinstance(allowed, str):
            if origin != allowed:
                return None
        elif origin not in allowed:
            return None
        headers = [('Access-Control-Allow-Origin', origin)]
        if req.method == 'OPTIONS':
            headers.append(('Access-Control-Allow-Methods', 'OPTIONS, GET, POST'))
            if req.access_control_request_headers:
                headers.append(('Access-Control-Allow-Headers',
                                req.access_control_request_headers))
        if self.config.cors_credentials:
            headers.append(('Access-Control-Allow-Credentials', 'true'))
        return headers

    @staticmethod
    def _same_origin(req: Request) -> bool:
        if not req.host:
            return False
        origin = req.origin or ''
        return origin == f'{req.scheme}://{req.host}'

    def cookie_header(self, sid: str) -> tuple[str, str] | None:
        """The ``Set-Cookie`` header for a handshake, if cookies are on."""
        cookie = self.config.cookie
        if not cookie:
            return None
        if isinstance(cookie, str):
            cookie = {'name': cookie, 'path': '/', 'SameSite': 'Lax',
                      'HttpOnly': True}
        parts = [f'{cookie["name"]}={sid}']
        for attr, value in cookie.items():
            if attr == 'name':
                continue
            if callable(value):
                value = value()
            if value is True:
                parts.append(_cookie_attr(attr))
            elif value is not False and value is not None:
                parts.append(f'{_cookie_attr(attr)}={value}')
        return 'Set-Cookie', '; '.join(parts)


_COOKIE_ATTRS = {'path': 'Path', 'domain': 'Domain', 'expires': 'Expires',
                 'max-age': 'Max-Age', 'max_age': 'Max-Age',
                 'secure': 'Secure', 'httponly': 'HttpOnly',
                 'samesite': 'SameSite'}


def _cookie_attr(name: str) -> str:
    return _COOKIE_ATTRS.get(name.lower(), name)
