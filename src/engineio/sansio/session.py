"""The per-session state machine of an Engine.IO server.

A :class:`Session` holds everything the protocol needs to know about one
client: its transport, its outgoing buffer, its heartbeat deadline and the
progress of a transport upgrade.  Methods take the current time as an
argument and return what the driver must do; none of them performs I/O.
"""
from __future__ import annotations

import enum
from typing import Any

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
    """One client's protocol state.  Not thread-safe: drivers serialize."""

    __slots__ = (
        '__weakref__',
        '_awaiting_pong',
        '_buffer',
        '_buffered',
        '_upgrade_deadline',
        'deadline',
        'direct',
        'heartbeat',
        'poll_active',
        'post_active',
        'reason',
        'sid',
        'state',
        'timer_at',
        'transport',
        'upgrade',
    )

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

    # -- state -----------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def upgraded(self) -> bool:
        return self.upgrade is Upgrade.DONE

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
        return self.take()

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
    def receive(self, packet_type: int, data: Any,
                now: float) -> MessageReceived | Disconnected | None:
        """Consume one decoded packet from the client."""
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

    def receive_payload(self, packets: list[tuple[int, Any]],
                        now: float) -> list[MessageReceived | Disconnected]:
        """Consume the packets of one polling POST."""
        events = []
        for packet_type, data in packets:
            event = self.receive(packet_type, data, now)
            if event is not None:
                events.append(event)
                if type(event) is Disconnected:
                    break
        return events

    def receive_frame(self, frame: Frame,
                      now: float) -> MessageReceived | Disconnected | None:
        """Consume one WebSocket frame of an open WebSocket session."""
        if type(frame) is str:
            if frame[:1] == '4':
                # The hot path: a text message needs no further dispatch.
                if self.state is not State.OPEN:
                    return None
                data: Any = frame[1:]
                if data[:1] in ('{', '['):
                    try:
                        data = pk.Packet.json.loads(data)
                    except ValueError:
                        pass
                return MessageReceived(data)
            try:
                packet_type, data = pk.decode_text(frame)
            except ProtocolError:
                return self.close(Reason.TRANSPORT_ERROR)
            return self.receive(packet_type, data, now)
        if self.state is not State.OPEN:
            return None
        return MessageReceived(frame)

    # -- heartbeat -------------------------------------------------------
    def next_deadline(self) -> float:
        """The next time :meth:`on_deadline` has work to do."""
        if self.upgrading and self._upgrade_deadline < self.deadline:
            return self._upgrade_deadline
        return self.deadline

    def on_deadline(self, now: float) -> list[Any]:
        """Called when ``now`` reached :meth:`next_deadline`.

        Returns what happened, in order: :data:`UPGRADE_EXPIRED` when an
        upgrade took too long (close the upgrading WebSocket; the session
        stays on polling), the :class:`Push` result of queueing a ping (v4
        heartbeat: the server pings), or a :class:`Disconnected` event when
        the pong is overdue.
        """
        out: list[Any] = []
        if self.state is not State.OPEN:
            return out
        if self.upgrading and now >= self._upgrade_deadline:
            self.upgrade = Upgrade.NONE
            out.append(UPGRADE_EXPIRED)
        if now >= self.deadline:
            if self._awaiting_pong and self.heartbeat.enforce:
                out.append(self.close(Reason.PING_TIMEOUT))
                return out
            self._awaiting_pong = True
            self.deadline = now + self.heartbeat.timeout
            if self.direct:
                out.append(Push.WRITE)
            else:
                # Control frames never count against the buffer limit.
                self._buffer.append(PING_FRAME)
                out.append(Push.BUFFERED)
        return out

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
            # lost; a pending poll is released with the close packet.
            self._buffer = [CLOSE_FRAME] \
                if self.transport == POLLING and self.poll_active else []
            self._buffered = 0
        self.state = State.CLOSED
        self.reason = reason
        self.direct = False
        return Disconnected(reason)
