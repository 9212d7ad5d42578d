"""Stateful fuzzing of the session state machine and the server core: any
sequence of client input, timer ticks, sends and upgrades leaves every
session in a valid state, never duplicates a disconnect, and never loses or
reorders a message that was accepted for delivery."""
from __future__ import annotations

import os

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from engineio.sansio.events import Disconnected, UpgradeCompleted
from engineio.sansio.server import ServerConfig, ServerCore
from engineio.sansio.session import POLLING, WEBSOCKET, Push, State, Upgrade

EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES', '60'))

client_frames = st.sampled_from(
    ['4hi', '3', '2', '1', '5', '6', '2probe', 'x', '', '0{}', '4{"a":1}',
     'bAAE=', '4'])


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.core = ServerCore(ServerConfig(ping_interval=10, ping_timeout=5))
        self.now = 0.0
        self.session = self.core.open_session('s', POLLING, self.now)
        self.core.accept(self.session, self.now)
        self.disconnects = 0
        self.sent: list[str] = []
        self.delivered: list[str] = []
        self.written: list[str] = []

    def _events(self, events) -> None:
        for event in events:
            if type(event) is Disconnected:
                self.disconnects += 1

    @rule(dt=st.floats(0, 8))
    def tick(self, dt: float) -> None:
        self.now += dt
        for _, outcomes in self.core.expire(self.now):
            self._events(o for o in outcomes if type(o) is Disconnected)

    @rule(frame=client_frames)
    def post(self, frame: str) -> None:
        if self.session.transport != POLLING or self.session.closed:
            return
        events, _ = self.core.post(self.session, frame.encode(), self.now)
        self._events(events)

    @rule(frame=client_frames)
    def ws_frame(self, frame: str) -> None:
        s = self.session
        if s.closed:
            return
        if s.upgrading:
            _, outcome = s.probe_frame(frame, self.now)
            if type(outcome) is UpgradeCompleted:
                self.flush()
        elif s.transport == WEBSOCKET:
            event = s.receive_frame(frame, self.now)
            if type(event) is Disconnected:
                self.core.forget(s, self.now)
                self.disconnects += 1

    @rule(n=st.integers(0, 3))
    def app_send(self, n: int) -> None:
        for _ in range(n):
            msg = f'4m{len(self.sent)}'
            result = self.session.push(msg)
            if result is Push.DROPPED:
                return
            self.sent.append(msg)
            if result is Push.WRITE:
                self.written.append(msg)

    @rule()
    def poll(self) -> None:
        s = self.session
        if s.transport == POLLING:
            self.delivered += [f for f in s.take_poll() if f.startswith('4m')]

    @precondition(lambda self: self.session.can_upgrade())
    @rule()
    def begin_upgrade(self) -> None:
        self.session.begin_upgrade(self.now)
        self.core.schedule(self.session)

    @rule()
    def server_close(self) -> None:
        if self.core.close(self.session, 'server disconnect', self.now):
            self.disconnects += 1

    def flush(self) -> None:
        while True:
            frames = self.session.take()
            self.written += [f for f in frames if f.startswith('4m')]
            if self.session.finish_flush():
                return

    @invariant()
    def valid_state(self) -> None:
        s = self.session
        assert self.disconnects <= 1
        assert (self.disconnects == 1) == (s.state is State.CLOSED)
        if s.closed:
            assert 's' not in self.core.sessions
        else:
            assert self.core.sessions.get('s') is s
            # An open session always has a timer that will look at it.
            assert s.timer_at and s.timer_at <= s.next_deadline()
        if s.upgrade is Upgrade.DONE:
            assert s.transport == WEBSOCKET
        if s.direct:
            assert not s.has_output()

    @invariant()
    def no_loss_no_reorder(self) -> None:
        # What was delivered, by polls then over the WebSocket, is a prefix
        # of what was accepted, in order, without duplicates.
        out = [f for f in self.delivered + self.written]
        assert out == self.sent[:len(out)]


TestSessionMachine = SessionMachine.TestCase
TestSessionMachine.settings = settings(max_examples=EXAMPLES,
                                       stateful_step_count=40, deadline=None)
