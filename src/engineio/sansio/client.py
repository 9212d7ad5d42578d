"""The protocol core of an Engine.IO (v4) client.

A :class:`ClientCore` holds everything the protocol needs to know about one
connection attempt and the connection that follows it: the URLs to request,
the handshake the server answered, the outgoing buffer, the heartbeat
deadline and the progress of the upgrade from long-polling to WebSocket.

Methods take the current time as an argument and return what the driver
must do (frames to write, events to dispatch); none of them performs I/O,
reads a clock or starts a thread.  A driver creates one core per call to
``connect()``, so threads or tasks left over from an earlier connection can
only ever touch the core they were started for.

The life of a connection, as the driver sees it::

    core = ClientCore(url, transports, engineio_path)
    core.request_url(core.first_transport, stamp)   # handshake request
    core.open_polling(body, now)                    # or open_websocket()
    if core.can_upgrade():                          # polling -> WebSocket
        core.begin_probe(), core.probe_answered(frame), core.complete_upgrade()
    ... core.begin_poll() + receive_payload() or receive_frame(),
        core.send(), core.begin_post() + end_post() or take_frames(),
        core.on_deadline() / time_left() ...
    the end: core.close(), a Disconnected event from a receive or from
        on_deadline(), or transport_lost()
    ... the driver dispatches the disconnect handler ...
    core.finish()

Exactly one :class:`~engineio.sansio.events.Disconnected` event is returned
per connection, whichever way it ends.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from .. import packet as pk
from ..exceptions import ProtocolError
from ..packet import Frame
from ..payload import SEPARATOR, decode_body
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

ClientEvent = MessageReceived | Disconnected


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
    """

    def __init__(self, url: str, transports: Any = None,
                 engineio_path: str = 'engine.io',
                 timestamp_requests: bool = True) -> None:
        self.transports = validate_transports(transports)
        # Build one URL now so a bad URL fails before any I/O.
        engineio_url(url, engineio_path, self.transports[0])
        self.url = url
        self.engineio_path = engineio_path
        self.timestamp_requests = timestamp_requests
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
        self._deadline = 0.0
        self._buffer: list[Frame] = []
        self._stamps = 0

    # -- properties --------------------------------------------------------
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

    # -- URLs --------------------------------------------------------------
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

    # -- handshake ---------------------------------------------------------
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

    # -- input -------------------------------------------------------------
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

    # -- output ------------------------------------------------------------
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

    # -- long-polling reads ------------------------------------------------
    def begin_poll(self) -> bool:
        """Whether the driver may issue the next long-polling GET now."""
        if not self.active or self.transport != POLLING or \
                self.poll_active or self.upgrade is Upgrade.PAUSING:
            return False
        self.poll_active = True
        return True

    # -- heartbeat ---------------------------------------------------------
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

    # -- upgrade -----------------------------------------------------------
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

    # -- closing -----------------------------------------------------------
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
