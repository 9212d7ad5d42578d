"""The per-session state machine of an Engine.IO server.

A :class:`Session` holds everything the protocol needs to know about one
client: its transport, its outgoing buffer, its heartbeat deadline and the
progress of a transport upgrade.  Methods take the current time as an
argument and return what the driver must do; none of them performs I/O.
"""
from __future__ import annotations

import enum
from typing import Any, ClassVar

from .. import packet as pk
from ..exceptions import ProtocolError
from ..packet import Frame
from .events import Disconnected, MessageReceived, Reason, UpgradeCompleted

POLLING = 'polling'
WEBSOCKET = 'websocket'

CLOSE_FRAME = '1'
PING_FRAME = '2'
NOOP_FRAME = '6'
PROBE_PING = '2probe'
UPGRADE_EXPIRED = 'upgrade expired'
PROBE_PONG = '3probe'
UPGRADE_FRAME = '5'


class _NotAMessage:
    """The type of :data:`NOT_A_MESSAGE`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return 'NOT_A_MESSAGE'


#: What :meth:`Session.message_of` returns for a frame that is not a plain
#: message (a message may be any value, None included).
NOT_A_MESSAGE: Any = _NotAMessage()


class State(enum.Enum):
    OPEN = 'open'
    CLOSED = 'closed'


class Upgrade(enum.Enum):
    NONE = 'none'
    #: A WebSocket is attached; waiting for the ``2probe`` ping.
    PROBING = 'probing'
    #: ``3probe`` was answered; waiting for the ``5`` upgrade packet.
    PROBED = 'probed'
    #: The session runs on the WebSocket.
    DONE = 'done'


class Push(enum.IntEnum):
    """What the driver must do with a frame given to :meth:`Session.push`."""

    #: The session is closed: the frame was dropped.
    DROPPED = 0
    #: The frame was buffered: wake whoever delivers the buffer.
    BUFFERED = 1
    #: The driver must write the frame to the WebSocket itself, now.
    WRITE = 2
    #: The client does not collect its output and the buffer limit is
    #: reached: the frame was not queued; the driver closes the session.
    OVERFLOW = 3
    #: The session buffered output for its WebSocket in a form only it
    #: knows (protocol v3 binary frames, pongs): the driver writes what
    #: :meth:`Session.take` returns, now.  Never returned to v4 sessions
    #: by :meth:`Session.push`.
    FLUSH = 4


class Heartbeat:
    """Timing and limits shared by all sessions of a server (seconds, bytes)."""

    __slots__ = (
        'buffer_limit',
        'enforce',
        'interval',
        'linger',
        'timeout',
        'upgrade_timeout',
    )

    def __init__(self, interval: float, timeout: float,
                 upgrade_timeout: float = 10.0, linger: float | None = None,
                 enforce: bool = True, buffer_limit: int | None = None):
        self.interval = interval
        #: Close sessions whose pong is overdue (``monitor_clients``).
        self.enforce = enforce
        #: How long after a ping the pong may arrive (includes any grace).
        self.timeout = timeout
        self.upgrade_timeout = upgrade_timeout
        #: How long a session closed by the server waits for the client's
        #: next poll, to hand it the close packet.
        self.linger = timeout if linger is None else linger
        #: Most characters/bytes a session may hold for a client that does
        #: not collect them (None: no limit).
        self.buffer_limit = buffer_limit


class Session:
    """One client's protocol state.  Not thread-safe: drivers serialize.

    This is the protocol v4 session; a v3 session is one whose class has
    :class:`~engineio.sansio.v3.V3Session` mixed in at the handshake.
    """

    __slots__ = (
        '__weakref__',
        '_awaiting_pong',
        '_buffer',
        '_buffered',
        '_check',
        '_upgrade_deadline',
        'b64',
        'deadline',
        'direct',
        'heartbeat',
        'poll_active',
        'poll_deadline',
        'post_active',
        'reason',
        'sid',
        'state',
        'timer_at',
        'transport',
        'upgrade',
        'ws_b64',
    )

    #: The Engine.IO protocol revision the client speaks (``EIO``).
    protocol: ClassVar[int] = 4

    def __init__(self, sid: str, transport: str, heartbeat: Heartbeat,
                 now: float) -> None:
        self.sid = sid
        self.transport = transport
        self.state = State.OPEN
        self.upgrade = Upgrade.NONE
        self.reason: str | None = None
        self.heartbeat = heartbeat
        #: When the next ping is due, or, while a ping is unanswered, when
        #: the pong is overdue.
        self.deadline = now + heartbeat.interval
        #: A long-polling GET is waiting for output.
        self.poll_active = False
        #: When a held GET is released with a noop at the latest (0: none).
        self.poll_deadline = 0.0
        #: A long-polling POST is being read.
        self.post_active = False
        #: Frames are written straight to the WebSocket (nothing buffered).
        self.direct = False
        #: The time of this session's entry in the server's timer heap.
        self.timer_at = 0.0
        self._buffer: list[Frame] = []
        self._buffered = 0
        self._awaiting_pong = False
        self._upgrade_deadline = 0.0
        # While a ping is unanswered: when to look at the session again (the
        # next ping may be due before the pong deadline, if the interval is
        # the shorter of the two).
        self._check = 0.0
        #: Protocol v3 only: the client asked for binary messages as base64
        #: text (``b64=1``) on long-polling, and on its WebSocket.
        self.b64 = False
        self.ws_b64 = False

    # -- state -----------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def upgraded(self) -> bool:
        """Whether the session runs on a WebSocket (from the start, or
        upgraded from long-polling)."""
        return self.transport == WEBSOCKET

    @property
    def upgrading(self) -> bool:
        return self.upgrade is Upgrade.PROBING or self.upgrade is Upgrade.PROBED

    def has_output(self) -> bool:
        return bool(self._buffer)

    # -- output ----------------------------------------------------------
    def push(self, frame: Frame) -> Push:
        """Queue one encoded packet for the client."""
        if self.state is not State.OPEN:
            return Push.DROPPED
        if self.direct:
            return Push.WRITE
        limit = self.heartbeat.buffer_limit
        if limit is not None:
            size = self._buffered + len(frame)
            if size > limit:
                return Push.OVERFLOW
            self._buffered = size
        self._buffer.append(frame)
        return Push.BUFFERED

    def take(self) -> list[Frame]:
        """Remove and return everything buffered."""
        out = self._buffer
        if out:
            self._buffer = []
            self._buffered = 0
        return out

    def take_poll(self) -> list[Frame]:
        """The frames to answer a long-polling GET with.

        Once the probe succeeded, a poll is never held: the client pauses
        polling before it completes the upgrade and waits for its poll to
        return, so an empty poll is released at once with a noop.  After the
        upgrade everything goes to the WebSocket.
        """
        if self.upgrade is Upgrade.DONE:
            return [NOOP_FRAME]
        if self.upgrade is Upgrade.PROBED and not self._buffer:
            return [NOOP_FRAME]
        if self.state is State.CLOSED and not self._buffer:
            # Whatever closed it, the poll learns that it is over.
            return [CLOSE_FRAME]
        return self.take()

    def wire(self, frame: Frame) -> Frame:
        """``frame`` as this session's transport carries it, for frames
        written without passing through :meth:`push` (v4: unchanged)."""
        return frame

    def finish_flush(self) -> bool:
        """End a WebSocket flush: True if the buffer is empty and further
        frames can be written directly; False if more frames must be taken
        first."""
        if self._buffer:
            return False
        if self.state is State.OPEN:
            self.direct = True
        return True

    # -- input -----------------------------------------------------------
    def receive(self, packet_type: int, data: Any, now: float
                ) -> MessageReceived | Disconnected | Push | None:
        """Consume one decoded packet from the client.

        Besides an event, the result may be the :class:`Push` outcome of an
        answer the session queued (a v3 pong): ``BUFFERED`` (wake the poll)
        or ``FLUSH`` (write what :meth:`take` returns to the WebSocket).
        """
        if self.state is not State.OPEN:
            return None
        if packet_type == pk.MESSAGE:
            return MessageReceived(data)
        if packet_type == pk.PONG:
            if self._awaiting_pong:
                self._awaiting_pong = False
                self.deadline = now + self.heartbeat.interval
            return None
        if packet_type == pk.CLOSE:
            return self.close(Reason.CLIENT_DISCONNECT)
        if packet_type == pk.NOOP:
            return None
        if packet_type == pk.PING:
            # Protocol v4: the server pings, a v4 client never does.  Answer
            # anyway, as the official server does, to be lenient.
            self.push('3' + (data if isinstance(data, str) else ''))
            return None
        # OPEN or UPGRADE outside an upgrade: the client is confused.
        return self.close(Reason.TRANSPORT_ERROR)

    def receive_payload(self, packets: list[tuple[int, Any]], now: float
                        ) -> list[MessageReceived | Disconnected | Push]:
        """Consume the packets of one polling POST."""
        events = []
        for packet_type, data in packets:
            event = self.receive(packet_type, data, now)
            if event is not None:
                events.append(event)
                if type(event) is Disconnected:
                    break
        return events

    def message_of(self, frame: Frame) -> Any:
        """The data of ``frame`` if it is a message packet of this open
        session (text that looks like JSON decoded, as :meth:`receive_frame`
        does), else :data:`NOT_A_MESSAGE`, and then :meth:`receive_frame`
        says what the frame means.

        The hot path of a WebSocket session: a message changes no session
        state, so this needs no clock and builds no event object (a tuple
        per message is garbage collector work that grows with the number
        of sessions in flight).
        """
        if self.state is not State.OPEN:
            return NOT_A_MESSAGE
        if type(frame) is str:
            if frame[:1] != '4':
                return NOT_A_MESSAGE
            data: Any = frame[1:]
            if data[:1] in ('{', '['):
                try:
                    return pk.Packet.json.loads(data)
                except ValueError:
                    pass
            return data
        return frame

    def receive_frame(self, frame: Frame, now: float
                      ) -> MessageReceived | Disconnected | Push | None:
        """Consume one WebSocket frame of an open WebSocket session.

        The result is as :meth:`receive` gives it.
        """
        data = self.message_of(frame)
        if data is not NOT_A_MESSAGE:
            return MessageReceived(data)
        if type(frame) is not str or self.state is not State.OPEN:
            return None
        try:
            packet_type, data = pk.decode_text(frame)
        except ProtocolError:
            return self.close(Reason.TRANSPORT_ERROR)
        return self.receive(packet_type, data, now)

    # -- heartbeat -------------------------------------------------------
    def start_heartbeat(self, now: float) -> None:
        """The session was accepted: start its heartbeat clock."""
        # v4 heartbeat: the server sends the first ping one interval later.
        self.deadline = now + self.heartbeat.interval

    def next_deadline(self) -> float:
        """The next time :meth:`on_deadline` has work to do."""
        when = self._check if self._awaiting_pong else self.deadline
        if self.upgrading and self._upgrade_deadline < when:
            when = self._upgrade_deadline
        if self.poll_deadline and self.poll_deadline < when:
            return self.poll_deadline
        return when

    def on_deadline(self, now: float) -> list[Any]:
        """Called when ``now`` reached :meth:`next_deadline`.

        Returns what happened, in order: :data:`UPGRADE_EXPIRED` when an
        upgrade took too long (close the upgrading WebSocket; the session
        stays on polling), the :class:`Push` result of queueing a ping (v4
        heartbeat: the server pings), or a :class:`Disconnected` event when
        the pong is overdue (v3: when the client's ping is).
        """
        out: list[Any] = []
        if self.state is not State.OPEN:
            return out
        if self.poll_deadline and now >= self.poll_deadline:
            self.poll_deadline = 0.0
            if self.poll_active and not self._buffer:
                self._buffer.append(NOOP_FRAME)
                out.append(Push.BUFFERED)
        if self.upgrading and now >= self._upgrade_deadline:
            self.upgrade = Upgrade.NONE
            out.append(UPGRADE_EXPIRED)
        if now >= self.deadline:
            self._heartbeat_due(now, out)
        elif self._awaiting_pong:
            # No pong yet: nothing to do before the pong deadline.
            self._check = self.deadline
        return out

    def _heartbeat_due(self, now: float, out: list[Any]) -> None:
        """The heartbeat deadline passed: ping, or give up on the client."""
        # v4 heartbeat: the server pings and the client answers.
        if self._awaiting_pong and self.heartbeat.enforce:
            out.append(self.close(Reason.PING_TIMEOUT))
            return
        self._awaiting_pong = True
        self.deadline = now + self.heartbeat.timeout
        # A pong resets the next ping to one interval after it arrives,
        # possibly before the pong deadline: look again then.
        self._check = min(self.deadline, now + self.heartbeat.interval)
        if self.direct:
            out.append(Push.WRITE)
        else:
            # Control frames never count against the buffer limit.
            self._buffer.append(PING_FRAME)
            out.append(Push.BUFFERED)

    # -- upgrade ---------------------------------------------------------
    def can_upgrade(self) -> bool:
        return (self.state is State.OPEN and self.transport == POLLING
                and self.upgrade is Upgrade.NONE)

    def begin_upgrade(self, now: float) -> None:
        """A WebSocket was opened for this polling session."""
        self.upgrade = Upgrade.PROBING
        self._upgrade_deadline = now + self.heartbeat.upgrade_timeout

    def probe_frame(self, frame: Frame, now: float) -> tuple[str | None, Any]:
        """Consume one frame received on a WebSocket during the upgrade.

        Returns ``(reply, outcome)``: ``reply`` is a frame to write on the
        WebSocket (``3probe``) or None; ``outcome`` is None while the probe
        goes on, an :class:`UpgradeCompleted` event, ``False`` when the
        upgrade failed (close the WebSocket, the session stays on polling),
        or a :class:`Disconnected` event.
        """
        if self.state is not State.OPEN:
            return None, False
        if self.upgrade is Upgrade.PROBING and frame == PROBE_PING:
            self.upgrade = Upgrade.PROBED
            # The driver wakes a pending poll, which take_poll() releases.
            return PROBE_PONG, None
        if self.upgrade is Upgrade.PROBED and frame == UPGRADE_FRAME:
            self.upgrade = Upgrade.DONE
            self.transport = WEBSOCKET
            return None, UpgradeCompleted()
        if self.upgrade is Upgrade.PROBED and frame == '6':
            return None, None
        self.upgrade = Upgrade.NONE
        return None, False

    def keeps_probe_open(self) -> bool:
        """Whether a closed session's upgrading WebSocket must stay open.

        After ``3probe`` the client pauses polling and waits for its pending
        poll; closing the probe then would leave it waiting forever (the
        official client does not resume polling after a failed probe).  The
        close packet reaches it through that poll, or, once it sends ``5``,
        the driver closes the WebSocket.  Drivers close it after
        :attr:`Heartbeat.upgrade_timeout` at the latest.
        """
        return self.upgrade is Upgrade.PROBED

    def abort_upgrade(self) -> None:
        """The upgrading WebSocket went away before the upgrade completed."""
        if self.upgrading:
            self.upgrade = Upgrade.NONE

    # -- close -----------------------------------------------------------
    def close(self, reason: str) -> Disconnected | None:
        """Close the session; returns the event exactly once.

        A server-initiated close leaves a close packet in the buffer so the
        client learns the close was deliberate.
        """
        if self.state is not State.OPEN:
            return None
        if reason == Reason.SERVER_DISCONNECT:
            self._buffer.append(CLOSE_FRAME)
        else:
            # Nobody will collect output of a session the client left or
            # lost.  A pending poll is released: with a noop when the client
            # itself sent the close packet (it knows; the official server
            # answers so), else with the close packet.
            if self.transport == POLLING and self.poll_active:
                self._buffer = [NOOP_FRAME if reason == Reason.CLIENT_DISCONNECT
                                else CLOSE_FRAME]
            else:
                self._buffer = []
            self._buffered = 0
        self.state = State.CLOSED
        self.reason = reason
        self.direct = False
        return Disconnected(reason)
