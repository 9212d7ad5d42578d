"""The protocol core of an Engine.IO (v4) client.

A :class:`ClientCore` holds everything the protocol needs to know about one
connection attempt and the connection that follows it: the URLs to request,
the handshake the server answered, the outgoing buffer, the heartbeat
deadline and the progress of the upgrade from long-polling to WebSocket.

Its methods take the current time as an argument and return what the
driver must do (frames to write, events to dispatch); none of them performs
I/O, reads a clock of its own or starts a thread.  A driver creates one core
per call to ``connect()``, so threads or tasks left over from an earlier
connection can only ever touch the core they were started for.

On top of these methods sit the core's *programs*, one per thing a driver
does: ``connecting()`` (the handshake, the ``connect`` handler, the upgrade,
then the connection's three loops), ``reading()``, ``writing()``,
``dispatching()`` and ``disconnecting()``.  Each is a generator that yields
the commands of :mod:`engineio.sansio.client_commands` (send this request,
run this handler, deliver these events...) and is resumed with their
results; the blocking and the asyncio client only carry the commands out.
The order of things, the log lines, the ``reason`` strings and every
state transition are decided here, once::

    connecting():  handshake -> Connected -> RunHandler('connect')
                   -> the upgrade probe -> Deliver -> StartLoops
    reading():     GET / receive (bounded by the heartbeat) -> Deliver ...
    writing():     POST batches / WebSocket sends, until nothing is left
    dispatching(): NextEvent -> RunHandler('message') ...
                   -> RunHandler('disconnect') -> Ended
    disconnecting(): close -> RunHandler('disconnect') -> Join -> Ended

Exactly one :class:`~engineio.sansio.events.Disconnected` event is returned
per connection, whichever way it ends.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from logging import INFO, WARNING
from typing import Any
from urllib.parse import quote, urlsplit

from .. import packet as pk
from ..exceptions import ConnectionError, ProtocolError
from ..packet import Frame
from ..payload import SEPARATOR, decode_body, encode_frames
from .client_commands import (
    AwaitEnd,
    AwaitOutput,
    ClientEvent,
    CloseWebSocket,
    Connected,
    Deliver,
    Ended,
    Failure,
    HttpReply,
    HttpRequest,
    Join,
    Log,
    Loop,
    NextEvent,
    OpenWebSocket,
    Program,
    ReceiveFrame,
    RunHandler,
    SendFrames,
    StartLoops,
    StopDispatcher,
    WakeWriter,
)
from .events import Disconnected, MessageReceived, Reason

POLLING = 'polling'
WEBSOCKET = 'websocket'
VALID_TRANSPORTS = (POLLING, WEBSOCKET)
PROTOCOL_VERSION = '4'

PROBE_PING = '2probe'
PROBE_PONG = '3probe'
UPGRADE_FRAME = '5'
CLOSE_FRAME = '1'

#: Query parameters the client sets itself; copies of them in the URL given
#: by the application are dropped so the server never sees two values.
RESERVED_QUERY_KEYS = frozenset({'EIO', 'transport', 'sid', 't'})

#: The content type of long-polling POST bodies, as the official client.
POST_CONTENT_TYPE = 'text/plain;charset=UTF-8'

#: The shortest timeout handed to a read: 0 would make a blocking socket
#: non-blocking.
MIN_READ_TIMEOUT = 0.01


class ClientReason:
    """The reasons a client reports to its ``disconnect`` handler."""

    #: The application called ``disconnect()``.
    CLIENT_DISCONNECT = Reason.CLIENT_DISCONNECT
    #: The server closed the session (it sent a close packet).
    SERVER_DISCONNECT = Reason.SERVER_DISCONNECT
    #: The connection broke, or the server stopped sending pings.
    TRANSPORT_ERROR = Reason.TRANSPORT_ERROR


class State(enum.Enum):
    """The connection state, with the strings ``Client.state`` reports."""

    DISCONNECTED = 'disconnected'
    CONNECTED = 'connected'
    DISCONNECTING = 'disconnecting'


class Upgrade(enum.Enum):
    """Progress of the polling -> WebSocket upgrade."""

    NONE = 'none'
    #: ``2probe`` was sent on the new WebSocket; waiting for ``3probe``.
    PROBING = 'probing'
    #: The probe was answered: polling is paused until no GET or POST is in
    #: flight, then ``5`` is sent on the WebSocket.
    PAUSING = 'pausing'
    #: The connection runs on the WebSocket.
    DONE = 'done'


@dataclass(frozen=True, slots=True)
class Handshake:
    """What the server announced in its open packet (times in seconds)."""

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: float
    ping_timeout: float
    #: The largest HTTP long-polling body the server accepts, in bytes, or
    #: None when the server did not say.
    max_payload: int | None


def parse_handshake(data: Any) -> Handshake:
    """Validate the data of an open packet.

    Raises :class:`ProtocolError` saying what is wrong with it.
    """
    if not isinstance(data, dict):
        raise ProtocolError('open packet data is not a JSON object')
    sid = data.get('sid')
    if not isinstance(sid, str) or not sid:
        raise ProtocolError('open packet has no session id')
    upgrades = data.get('upgrades', [])
    if not isinstance(upgrades, list) or \
            not all(isinstance(u, str) for u in upgrades):
        raise ProtocolError('open packet "upgrades" is not a list of strings')
    times = []
    for key in ('pingInterval', 'pingTimeout'):
        value = data.get(key)
        # bool is an int subclass: exclude it explicitly
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or value < 0:
            raise ProtocolError(f'open packet "{key}" is not a valid time')
        times.append(value / 1000.0)
    max_payload = data.get('maxPayload')
    if max_payload is not None and (
            isinstance(max_payload, bool) or not isinstance(max_payload, int)
            or max_payload <= 0):
        raise ProtocolError('open packet "maxPayload" is not a positive integer')
    return Handshake(sid, tuple(upgrades), times[0], times[1], max_payload)


def handshake_error(status: int, body: bytes | str | None
                    ) -> ConnectionError:
    """The exception for an HTTP error answer to the handshake.

    The server's JSON error document, if it sent one, is the second
    argument (python-socketio hands it to its ``connect_error`` handler).
    """
    message = f'Unexpected status code {status} in server response'
    data = None
    if body:
        try:
            data = pk.Packet.json.loads(body)
        except (ValueError, TypeError):
            pass
    if data is None:
        return ConnectionError(message)
    return ConnectionError(message, data)


def _no_clock() -> float:
    raise RuntimeError('this ClientCore was made without clocks: pass '
                       'clock and wall_clock to run its programs')


def validate_transports(transports: str | list[str] | tuple[str, ...] | None
                        ) -> list[str]:
    """The allowed transports, in the order given; ValueError if invalid."""
    if transports is None:
        return list(VALID_TRANSPORTS)
    if isinstance(transports, str):
        transports = [transports]
    allowed = [t for t in VALID_TRANSPORTS if t in transports]
    if not allowed or any(t not in VALID_TRANSPORTS for t in transports):
        raise ValueError('Invalid transports: valid transports are '
                         "'polling' and 'websocket'")
    return allowed


def engineio_url(url: str, engineio_path: str, transport: str,
                 sid: str | None = None, stamp: str | None = None) -> str:
    """Build the URL of an Engine.IO request.

    The scheme follows the transport (``http``/``ws``, or ``https``/``wss``
    when ``url`` is secure), the path is ``engineio_path`` (as in the other
    clients, the path of ``url`` itself is not used) and the query string of
    ``url`` is kept as it was written, ahead of the protocol's parameters.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https', 'ws', 'wss'):
        raise ValueError(f'Unsupported URL scheme {parts.scheme!r}: use '
                         'http, https, ws or wss')
    if not parts.netloc:
        raise ValueError(f'URL {url!r} has no host')
    secure = scheme in ('https', 'wss')
    if transport == WEBSOCKET:
        scheme = 'wss' if secure else 'ws'
    else:
        scheme = 'https' if secure else 'http'
    path = engineio_path.strip('/')
    path = f'/{path}/' if path else '/'
    # Keep the application's parameters byte for byte (re-encoding them
    # could change what the server reads); only drop the reserved ones.
    query = [p for p in parts.query.split('&')
             if p and p.split('=', 1)[0] not in RESERVED_QUERY_KEYS]
    query.append(f'transport={transport}')
    query.append(f'EIO={PROTOCOL_VERSION}')
    if sid is not None:
        query.append('sid=' + quote(sid, safe=''))
    if stamp is not None:
        query.append('t=' + stamp)
    return f'{scheme}://{parts.netloc}{path}?{"&".join(query)}'


_B36 = '0123456789abcdefghijklmnopqrstuvwxyz'


def _base36(n: int) -> str:
    out = ''
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if not n:
            return out


def _frame_size(frame: Frame) -> int:
    """The bytes a frame takes inside a long-polling payload."""
    if isinstance(frame, (bytes, bytearray)):
        # "b" + base64
        return 1 + 4 * ((len(frame) + 2) // 3)
    if frame.isascii():
        return len(frame)
    return len(frame.encode('utf-8'))


class ClientCore:
    """The protocol state of one client connection.  Not thread-safe:
    drivers serialize calls (a lock, or a single event loop).

    :param url: the server URL given to ``connect()``, optionally with
                query string parameters for the server.
    :param transports: the allowed transports (None for both).
    :param engineio_path: the endpoint of the server.
    :param timestamp_requests: add a cache-busting ``t`` parameter to every
                               long-polling request.
    :param clock: a monotonic clock (seconds), read by the programs.
    :param wall_clock: the wall clock (seconds since the epoch), read by the
                       programs for the cache-busting parameter.
    """

    def __init__(self, url: str, transports: Any = None,
                 engineio_path: str = 'engine.io',
                 timestamp_requests: bool = True,
                 clock: Callable[[], float] | None = None,
                 wall_clock: Callable[[], float] | None = None) -> None:
        self.transports = validate_transports(transports)
        # Build one URL now so a bad URL fails before any I/O.
        engineio_url(url, engineio_path, self.transports[0])
        self.url = url
        self.engineio_path = engineio_path
        self.timestamp_requests = timestamp_requests
        self._clock = clock or _no_clock
        self._wall_clock = wall_clock or _no_clock
        self.state = State.DISCONNECTED
        self.handshake: Handshake | None = None
        #: The transport in use, once connected.
        self.transport: str | None = None
        self.upgrade = Upgrade.NONE
        #: A transport error was reported; the driver still has to dispatch
        #: it (the state stays CONNECTED until :meth:`finish`, which lets a
        #: Socket.IO client tell this apart from a deliberate close).
        self.lost = False
        #: A long-polling GET or POST is in flight.
        self.poll_active = False
        self.post_active = False
        #: The driver's WebSocket that carries the connection, once on
        #: WebSocket (opaque to the core).
        self.websocket: Any = None
        #: The connection's loops were started.
        self.started = False
        #: The application closed the connection: the messages not yet
        #: dispatched are dropped.
        self.closed_by_client = False
        self._deadline = 0.0
        self._buffer: list[Frame] = []
        self._stamps = 0

    # -- properties -----------------------------------------------------------
    @property
    def first_transport(self) -> str:
        """The transport of the handshake: polling when it is allowed."""
        return self.transports[0]

    @property
    def active(self) -> bool:
        """Connected, and no transport error reported."""
        return self.state is State.CONNECTED and not self.lost

    @property
    def sid(self) -> str | None:
        return self.handshake.sid if self.handshake else None

    # -- URLs -----------------------------------------------------------------
    def request_url(self, transport: str, stamp: float | None = None) -> str:
        """The URL of the next request on ``transport``.

        :param stamp: the current wall-clock time (seconds), from which the
                      cache-busting ``t`` parameter of long-polling requests
                      is made; ignored for WebSocket requests or when
                      ``timestamp_requests`` is off.
        """
        t = None
        if transport == POLLING and self.timestamp_requests and \
                stamp is not None:
            # Milliseconds plus a counter: unique even within one millisecond.
            self._stamps += 1
            t = f'{_base36(int(stamp * 1000))}.{_base36(self._stamps)}'
        return engineio_url(self.url, self.engineio_path, transport,
                            self.sid, t)

    # -- handshake ------------------------------------------------------------
    def open_polling(self, body: bytes | str, now: float) -> list[ClientEvent]:
        """Consume the body of the long-polling handshake response.

        Raises :class:`ProtocolError` when it is not a valid open packet
        (packets after the open packet are handled as usual).
        """
        return self._open(decode_body(body), POLLING, now)

    def open_websocket(self, frame: Frame, now: float) -> list[ClientEvent]:
        """Consume the first frame of a WebSocket-only connection."""
        if not isinstance(frame, str):
            raise ProtocolError('expected an open packet, got binary data')
        return self._open([pk.decode_text(frame)], WEBSOCKET, now)

    def _open(self, packets: list[tuple[int, Any]], transport: str,
              now: float) -> list[ClientEvent]:
        if self.state is not State.DISCONNECTED or self.handshake is not None:
            raise ProtocolError('connection already opened')
        if not packets or packets[0][0] != pk.OPEN:
            raise ProtocolError('expected an open packet')
        self.handshake = parse_handshake(packets[0][1])
        self.state = State.CONNECTED
        self.transport = transport
        self._refresh_deadline(now)
        return self._receive_packets(packets[1:], now)

    # -- input ----------------------------------------------------------------
    def receive_payload(self, body: bytes | str,
                        now: float) -> list[ClientEvent]:
        """Consume the body of a long-polling GET response (ends the poll)."""
        self.poll_active = False
        if not self.active:
            return []
        try:
            packets = decode_body(body)
        except ProtocolError:
            return self._lose()
        return self._receive_packets(packets, now)

    def receive_frame(self, frame: Frame, now: float) -> list[ClientEvent]:
        """Consume one frame received on the WebSocket."""
        if not self.active:
            return []
        if not isinstance(frame, str):
            return [MessageReceived(bytes(frame))]
        try:
            packet = pk.decode_text(frame)
        except ProtocolError:
            return self._lose()
        return self._receive_packets([packet], now)

    def _receive_packets(self, packets: list[tuple[int, Any]],
                         now: float) -> list[ClientEvent]:
        events: list[ClientEvent] = []
        for packet_type, data in packets:
            if packet_type == pk.MESSAGE:
                events.append(MessageReceived(data))
            elif packet_type == pk.PING:
                # v4 heartbeat: the server pings, the client answers and
                # expects the next ping within pingInterval + pingTimeout.
                self._buffer.append(
                    '3' + data if isinstance(data, str) else '3')
                self._refresh_deadline(now)
            elif packet_type == pk.CLOSE:
                self.state = State.DISCONNECTING
                self._buffer.clear()
                events.append(Disconnected(ClientReason.SERVER_DISCONNECT))
                break
            # NOOP releases a poll; PONG, OPEN and UPGRADE have no meaning
            # for a v4 client once connected: ignore them, as the official
            # client does.
        return events

    # -- output ---------------------------------------------------------------
    def send(self, data: Any) -> bool:
        """Queue a message; False (and dropped) when not connected."""
        if not self.active:
            return False
        self._buffer.append(pk.encode_data(pk.MESSAGE, data))
        return True

    def has_output(self) -> bool:
        return bool(self._buffer)

    @property
    def writer_done(self) -> bool:
        """Nothing left to write, and nothing more will be queued."""
        return not self._buffer and not self.active

    def take_frames(self) -> list[Frame]:
        """Everything queued, for the WebSocket (one frame per packet)."""
        out = self._buffer
        self._buffer = []
        return out

    def begin_post(self) -> list[Frame]:
        """The frames of the next long-polling POST, or nothing to send now.

        Only one POST is in flight at a time (servers reject overlapping
        ones), none while the upgrade pauses polling, and the body stays
        within the server's ``maxPayload`` (a single larger packet still goes
        out alone, the server decides what to do with it).  The driver joins
        the frames with :func:`engineio.payload.encode_frames` and calls
        :meth:`end_post` when the request is over.
        """
        if not self._buffer or self.post_active or \
                self.upgrade is Upgrade.PAUSING or self.transport != POLLING:
            return []
        limit = self.handshake.max_payload if self.handshake else None
        count = len(self._buffer)
        if limit is not None and count > 1:
            size = -len(SEPARATOR)
            for i, frame in enumerate(self._buffer):
                size += _frame_size(frame) + len(SEPARATOR)
                if i > 0 and size > limit:
                    count = i
                    break
        out = self._buffer[:count]
        del self._buffer[:count]
        self.post_active = True
        return out

    def end_post(self) -> None:
        self.post_active = False

    # -- long-polling reads ---------------------------------------------------
    def begin_poll(self) -> bool:
        """Whether the driver may issue the next long-polling GET now."""
        if not self.active or self.transport != POLLING or \
                self.poll_active or self.upgrade is Upgrade.PAUSING:
            return False
        self.poll_active = True
        return True

    # -- heartbeat ------------------------------------------------------------
    def _refresh_deadline(self, now: float) -> None:
        hs = self.handshake
        assert hs is not None
        self._deadline = now + hs.ping_interval + hs.ping_timeout

    def time_left(self, now: float) -> float:
        """Seconds until the server is declared dead if no ping arrives."""
        if not self.active:
            return 0.0
        return max(self._deadline - now, 0.0)

    def on_deadline(self, now: float) -> list[ClientEvent]:
        """Check the heartbeat deadline.

        Returns a transport-error :class:`Disconnected` event when no ping
        arrived within pingInterval + pingTimeout of the previous one (or of
        the handshake), as a dead server or a broken network look the same.
        """
        if self.active and now >= self._deadline:
            return self._lose()
        return []

    # -- upgrade --------------------------------------------------------------
    def can_upgrade(self) -> bool:
        """Whether to try the WebSocket upgrade: on polling, the server
        offers it, and the application allows it."""
        return (self.active and self.transport == POLLING
                and self.upgrade is Upgrade.NONE
                and WEBSOCKET in self.transports
                and self.handshake is not None
                and WEBSOCKET in self.handshake.upgrades)

    def begin_probe(self) -> str:
        """A WebSocket to the session is open: the frame to send on it."""
        self.upgrade = Upgrade.PROBING
        return PROBE_PING

    def probe_answered(self, frame: Frame) -> bool:
        """Consume the server's answer to the probe.

        True when the probe succeeded: polling is now paused, and the driver
        completes the upgrade once :attr:`upgrade_ready`.  False when the
        upgrade failed (the driver closes the WebSocket and stays on polling).
        """
        if self.active and self.upgrade is Upgrade.PROBING and \
                frame == PROBE_PONG:
            self.upgrade = Upgrade.PAUSING
            return True
        self.abort_upgrade()
        return False

    @property
    def upgrade_ready(self) -> bool:
        """Polling is paused and drained: the upgrade can complete."""
        return (self.upgrade is Upgrade.PAUSING and not self.poll_active
                and not self.post_active)

    def complete_upgrade(self) -> str:
        """Switch to the WebSocket: returns the frame to send on it.

        Whatever is still queued goes out on the WebSocket afterwards.
        """
        if not self.upgrade_ready:
            raise ProtocolError('upgrade is not ready to complete')
        self.upgrade = Upgrade.DONE
        self.transport = WEBSOCKET
        return UPGRADE_FRAME

    def abort_upgrade(self) -> None:
        """The upgrade failed: carry on with long-polling."""
        if self.upgrade is not Upgrade.DONE:
            self.upgrade = Upgrade.NONE

    # -- closing --------------------------------------------------------------
    def close(self, reason: str = ClientReason.CLIENT_DISCONNECT
              ) -> Disconnected | None:
        """A deliberate close by the application.

        Queues a close packet (the writer sends it last) and returns the
        event to dispatch, or None when the end of the connection was already
        reported.
        """
        if self.state is not State.CONNECTED:
            return None
        self.state = State.DISCONNECTING
        if self.lost:
            return None
        self._buffer.append(CLOSE_FRAME)
        self.closed_by_client = True
        return Disconnected(reason)

    def transport_lost(self) -> list[ClientEvent]:
        """A request failed or the WebSocket closed.

        Returns the transport-error event, unless the connection is already
        ending (a closing connection is expected to lose its transport).
        """
        if not self.active:
            return []
        return self._lose()

    def _lose(self) -> list[ClientEvent]:
        self.lost = True
        self._buffer.clear()
        return [Disconnected(ClientReason.TRANSPORT_ERROR)]

    def finish(self) -> None:
        """The driver dispatched the end of the connection.

        A close packet still queued stays queued: the writer may still be
        delivering it after an aborted disconnect.
        """
        self.state = State.DISCONNECTED
        self.lost = False
        self.upgrade = Upgrade.NONE

    # -- programs -------------------------------------------------------------
    def connecting(self) -> Program[None]:
        """What ``connect()`` does, to the start of the connection's loops.

        Raises :class:`~engineio.exceptions.ConnectionError` when the server
        cannot be reached, refuses the connection or answers something that
        is not Engine.IO, and when the ``connect`` handler raises.
        """
        events = yield from self._handshake()
        yield Log(INFO, 'Connected to %s as %s (%s)',
                  (self.url, self.sid, self.transport))
        yield Connected()
        error = yield RunHandler('connect', fatal=True)
        if error is not None:
            self.close()
            yield from self._flush()
            yield from self._end()
            raise ConnectionError(f'connect handler failed: {error!r}'
                                  ) from error
        yield from self._upgrade()
        if self.state is State.DISCONNECTED:
            return  # the connect handler disconnected
        yield from self._deliver(events)
        self.started = True
        yield StartLoops()

    def reading(self) -> Program[None]:
        """The reader: long-polling GETs or WebSocket receives, each bounded
        by the heartbeat deadline, until the connection ends."""
        while self.active:
            events = yield from self._read()
            if self.has_output():
                yield WakeWriter()
            yield from self._deliver(events)
        yield WakeWriter()  # the writer may be done now
        if self.websocket is not None:
            # Also releases a writer blocked on a dead connection.
            yield CloseWebSocket(self.websocket)

    def writing(self) -> Program[None]:
        """The writer: batched long-polling POSTs or WebSocket sends, until
        the connection is over and nothing is left to write."""
        while True:
            frames = self.begin_post() if self.transport == POLLING \
                else self.take_frames()
            if frames:
                sent = yield from self._write(frames)
                if not sent:
                    yield from self._deliver(self.transport_lost())
                    break
            elif self.writer_done:
                break
            else:
                yield AwaitOutput()
        if self.websocket is not None:
            # A deliberate close ends the WebSocket with a close frame; the
            # reader sees the server's answer and ends.
            yield CloseWebSocket(self.websocket,
                                 graceful=self.state is State.DISCONNECTING)

    def dispatching(self) -> Program[None]:
        """The dispatcher: runs the handlers of what the reader received,
        one at a time and in order, to the end of the connection."""
        while True:
            event = yield NextEvent()
            if event is None:
                return
            if type(event) is MessageReceived:
                if not self.closed_by_client:
                    yield RunHandler('message', (event.data,), queued=True)
                continue
            # The end of the connection: the state is still 'connected' for
            # a transport error while the handler runs (python-socketio
            # reconnects on that), 'disconnecting' for a server close.
            yield RunHandler('disconnect', (event.reason,), queued=True)
            yield from self._end()
            return

    def disconnecting(self, reason: str, abort: bool) -> Program[None]:
        """What ``disconnect()`` does: close with ``reason``; ``abort``: do
        not wait for the loops to end."""
        event = self.close(reason)
        yield WakeWriter()
        if event is None:
            # Already over, or ending: the dispatcher reports it.
            if self.state is not State.DISCONNECTED and not abort:
                yield AwaitEnd()
            return
        yield Log(INFO, 'Disconnecting: %s', (event.reason,))
        yield StopDispatcher()
        yield RunHandler('disconnect', (event.reason,))
        if not self.started:
            # The loops have not started (this is the connect handler):
            # deliver the close packet from here.
            yield from self._flush()
        elif not abort:
            yield Join(Loop.WRITER)
            if self.websocket is not None:
                yield CloseWebSocket(self.websocket)
            yield Join(Loop.READER)
        yield from self._end()

    # -- the programs' steps --------------------------------------------------
    def _handshake(self) -> Program[list[ClientEvent]]:
        if self.first_transport == POLLING:
            url = self.request_url(POLLING, self._wall_clock())
            yield Log(INFO, 'Attempting polling connection to %s', (url,))
            reply = yield HttpRequest('GET', url)
            if isinstance(reply, Failure):
                raise ConnectionError(f'Connection failed: {reply.error}')
            if not reply.ok:
                raise handshake_error(reply.status, reply.body)
            try:
                return self.open_polling(reply.body, self._clock())
            except ProtocolError as exc:
                raise ConnectionError('Unexpected response from server: '
                                      f'{exc}') from exc
        url = self.request_url(WEBSOCKET)
        yield Log(INFO, 'Attempting WebSocket connection to %s', (url,))
        ws = yield OpenWebSocket(url)
        if isinstance(ws, Failure):
            raise self._refusal(ws)
        frame = yield ReceiveFrame(ws)
        if isinstance(frame, Failure):
            yield CloseWebSocket(ws)
            raise ConnectionError(f'Connection failed: {frame.error}')
        try:
            events = self.open_websocket('' if frame is None else frame,
                                         self._clock())
        except ProtocolError as exc:
            yield CloseWebSocket(ws)
            raise ConnectionError('Unexpected response from server: '
                                  f'{exc}') from exc
        self.websocket = ws
        return events

    @staticmethod
    def _refusal(failure: Failure) -> ConnectionError:
        if failure.status is not None:
            return handshake_error(failure.status, failure.body)
        return ConnectionError(f'Connection failed: {failure.error}')

    def _upgrade(self) -> Program[None]:
        """Probe a WebSocket and move the connection onto it.

        Done before the loops start, so polling is already paused when the
        probe is answered and the upgrade completes at once.
        """
        if not self.can_upgrade():
            return
        url = self.request_url(WEBSOCKET)
        yield Log(INFO, 'Attempting WebSocket upgrade to %s', (url,))
        ws = yield OpenWebSocket(url)
        if isinstance(ws, Failure):
            yield Log(INFO, 'WebSocket upgrade failed: %s', (ws.error,))
            return
        sent = yield SendFrames(ws, [self.begin_probe()])
        answer = sent if sent is not None else (yield ReceiveFrame(ws))
        if isinstance(answer, Failure):
            yield Log(INFO, 'WebSocket upgrade failed: %s', (answer.error,))
        elif answer is not None and self.probe_answered(answer) and \
                self.upgrade_ready:
            self.websocket = ws
            # Should this write fail, the reader's first receive fails too.
            yield SendFrames(ws, [self.complete_upgrade()])
            yield Log(INFO, 'WebSocket upgrade was successful')
            return
        self.abort_upgrade()
        yield CloseWebSocket(ws)

    def _read(self) -> Program[list[ClientEvent]]:
        """One long-polling GET or WebSocket receive: what it brought."""
        now = self._clock()
        events = self.on_deadline(now)
        if events:
            yield Log(WARNING, 'Server has stopped sending pings')
            return events
        timeout = max(self.time_left(now), MIN_READ_TIMEOUT)
        if self.transport == POLLING:
            return (yield from self._poll(timeout))
        # The receive timeout is the heartbeat timer.
        frame = yield ReceiveFrame(self.websocket, timeout)
        if isinstance(frame, Failure):
            if frame.timed_out:
                return []  # the deadline is checked on the next round
            if self.active:
                yield Log(WARNING, 'WebSocket failed: %s', (frame.error,))
            return self.transport_lost()
        if frame is None:
            return self.transport_lost()
        return self.receive_frame(frame, self._clock())

    def _poll(self, timeout: float) -> Program[list[ClientEvent]]:
        polling = self.begin_poll()
        assert polling, 'only the reader polls, and after the upgrade'
        # The GET is the heartbeat timer: the server answers it at the
        # latest with its next ping.
        reply = yield HttpRequest(
            'GET', self.request_url(POLLING, self._wall_clock()),
            timeout=timeout)
        if isinstance(reply, HttpReply) and reply.ok:
            return self.receive_payload(reply.body, self._clock())
        self.poll_active = False
        if isinstance(reply, HttpReply):
            yield Log(WARNING, 'Unexpected status code %s in polling response',
                      (reply.status,))
        elif reply.timed_out:
            yield Log(WARNING, 'Server has stopped sending pings')
        elif self.active:
            yield Log(WARNING, 'Polling request failed: %s', (reply.error,))
        return self.transport_lost()

    def _write(self, frames: list[Frame]) -> Program[bool]:
        """One POST, or the frames on the WebSocket: whether it went
        through."""
        if self.transport == WEBSOCKET:
            result = yield SendFrames(self.websocket, frames)
        else:
            result = yield self._post(frames)
            self.end_post()
            if isinstance(result, HttpReply):
                if not result.ok:
                    yield Log(WARNING, 'Unexpected status code %s in POST '
                              'response', (result.status,))
                return result.ok
        if isinstance(result, Failure):
            yield Log(WARNING, 'Write failed: %s', (result.error,))
            return False
        return True

    def _post(self, frames: list[Frame]) -> HttpRequest:
        url = self.request_url(POLLING, self._wall_clock())
        return HttpRequest('POST', url, encode_frames(frames),
                           POST_CONTENT_TYPE)

    def _flush(self) -> Program[None]:
        """Deliver what a connection closed before its loops started still
        has queued (its close packet), then close the WebSocket."""
        frames = self.take_frames()
        result = None
        if frames and self.websocket is not None:
            result = yield SendFrames(self.websocket, frames)
        elif frames:
            result = yield self._post(frames)
        if isinstance(result, Failure):
            yield Log(INFO, 'Could not deliver the close packet: %s',
                      (result.error,))
        if self.websocket is not None:
            yield CloseWebSocket(self.websocket)

    def _deliver(self, events: list[ClientEvent]) -> Program[None]:
        if not events:
            return
        last = events[-1]
        if type(last) is Disconnected:
            yield Log(INFO, 'Connection ended: %s', (last.reason,))
        yield Deliver(events)

    def _end(self) -> Program[None]:
        self.finish()
        yield Ended()
