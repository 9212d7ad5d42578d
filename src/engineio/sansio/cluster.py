"""Sessions shared by several server processes: the protocol of the bus.

With the ``cluster`` option every server process is a *node* with a short
random tag, and every session id it makes starts with that tag.  A session
lives on the node that made it (its *owner*): its handlers and heartbeat
run there.  A request for a session that lands on another node is
*forwarded*: the node publishes it on the owner's channel, the owner serves
it as if the client had sent it there and publishes the reply on the
forwarder's channel, and the forwarder answers the client with it.  A
WebSocket that lands on another node is *relayed*: the owner accepts it as
a WebSocket of its own whose frames travel over the bus.

This module decides what goes on the bus and what a forwarder answers in
each outcome; it does no I/O (see :mod:`engineio.cluster` for the drivers).

A bus message is a JSON header, a newline and a body (a request or response
body, or one WebSocket frame)::

    {"t":"req","id":7,"from":"Ab3dE_","m":"GET","q":"EIO=4&...","h":[...]}
    <body>

Kinds: ``req`` (a forwarded request), ``res`` (its response), ``acc`` (the
owner accepted the request's WebSocket), ``f`` and ``g`` (a frame of a
relayed WebSocket to the owner and back; ``b`` says binary), ``x`` and
``y`` (a relayed WebSocket closed, by the forwarder or the owner), ``op``
(a server method called on another node: ``send``, ``disconnect``,
``get_session``, ``save_session``, ``transport``) and ``ret`` (its
result).
"""
from __future__ import annotations

import enum
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .models import Headers, Response

#: Length of the node tag at the start of a clustered session id.
TAG_LENGTH = 6
#: Length of a session id the cluster makes (the same as without it).
SID_LENGTH = 20
#: What a forwarded request carries of the client's headers: those the
#: core reads, and the ones the application's hooks may look at.
FORWARDED_HEADERS = (
    'origin', 'host', 'x-forwarded-proto', 'x-forwarded-host',
    'x-forwarded-for', 'accept-encoding', 'access-control-request-headers',
    'content-type', 'content-length', 'cookie', 'user-agent', 'referer',
)

REQUEST = 'req'
RESPONSE = 'res'
ACCEPT = 'acc'
FRAME = 'f'
FRAME_BACK = 'g'
CLOSE = 'x'
CLOSE_BACK = 'y'
OP = 'op'
RESULT = 'ret'

#: The server methods a node may call on another node's session.
OPS = ('send', 'disconnect', 'get_session', 'save_session', 'transport')

_dumps = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False).encode


def channel(prefix: str, tag: str) -> str:
    """The bus channel of the node with ``tag``."""
    return f'{prefix}#{tag}'


def owner_tag(sid: str) -> str | None:
    """The tag of the node that owns ``sid``; None for an id no node of a
    cluster made (wrong length)."""
    if len(sid) != SID_LENGTH:
        return None
    return sid[:TAG_LENGTH]


def make_sid(tag: str, random_part: str) -> str:
    """A session id owned by the node ``tag`` (``random_part``: at least
    14 URL-safe characters from a CSPRNG)."""
    return (tag + random_part)[:SID_LENGTH]


@dataclass(slots=True)
class Message:
    """One bus message: its header fields and its body."""

    kind: str
    id: int
    header: dict[str, Any] = field(default_factory=dict)
    body: bytes = b''

    @property
    def sender(self) -> str:
        """The tag of the node that sent it (requests, frames to the owner,
        ops)."""
        return self.header.get('from', '')  # type: ignore[no-any-return]

    def encode(self) -> bytes:
        head = dict(self.header)
        head['t'] = self.kind
        head['id'] = self.id
        return _dumps(head).encode() + b'\n' + self.body


def decode(data: bytes) -> Message:
    """Parse a bus message; ValueError for one that is not."""
    head, sep, body = data.partition(b'\n')
    if not sep:
        raise ValueError('bus message without a header line')
    header = json.loads(head)
    if not isinstance(header, dict) or not isinstance(header.get('t'), str) \
            or not isinstance(header.get('id'), int):
        raise ValueError('bus message with a bad header')
    kind = header.pop('t')
    return Message(kind, header.pop('id'), header, body)


# -- forwarded requests ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class ForwardedRequest:
    """What the owner needs to serve a request another node received."""

    method: str
    query_string: str
    #: (lowercase name, value) of the :data:`FORWARDED_HEADERS` present.
    headers: list[tuple[str, str]]
    scheme: str
    websocket: bool
    remote_addr: str
    body: bytes = b''

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def environ_request(environ: dict[str, Any], body: bytes = b'',
                    websocket: bool = False) -> ForwardedRequest:
    """What to forward of a request, from its WSGI(-style) environ."""
    headers = []
    for name in FORWARDED_HEADERS:
        key = name.upper().replace('-', '_')
        if key not in ('CONTENT_TYPE', 'CONTENT_LENGTH'):
            key = 'HTTP_' + key
        value = environ.get(key)
        if value is not None:
            headers.append((name, str(value)))
    return ForwardedRequest(
        str(environ.get('REQUEST_METHOD', 'GET')),
        str(environ.get('QUERY_STRING', '')), headers,
        str(environ.get('wsgi.url_scheme') or 'http'), websocket,
        str(environ.get('REMOTE_ADDR') or ''), body)


def forwarded_environ(req: ForwardedRequest) -> dict[str, Any]:
    """A WSGI environ for serving a forwarded request (without
    ``wsgi.input``, which the driver adds)."""
    environ: dict[str, Any] = {
        'REQUEST_METHOD': req.method, 'SCRIPT_NAME': '',
        'PATH_INFO': '/engine.io/', 'QUERY_STRING': req.query_string,
        'SERVER_PROTOCOL': 'HTTP/1.1', 'SERVER_NAME': 'cluster',
        'SERVER_PORT': '0', 'REMOTE_ADDR': req.remote_addr,
        'wsgi.url_scheme': req.scheme, 'engineio.forwarded': True}
    for name, value in req.headers:
        key = name.upper().replace('-', '_')
        if key not in ('CONTENT_TYPE', 'CONTENT_LENGTH'):
            key = 'HTTP_' + key
        environ[key] = value
    return environ


def forwarded_scope(req: ForwardedRequest) -> dict[str, Any]:
    """An ASGI scope for serving a forwarded request."""
    scope: dict[str, Any] = {
        'type': 'websocket' if req.websocket else 'http',
        'asgi': {'version': '3.0'}, 'http_version': '1.1',
        'method': req.method, 'scheme': req.scheme, 'path': '/engine.io/',
        'raw_path': b'/engine.io/', 'root_path': '',
        'query_string': req.query_string.encode('latin-1'),
        'headers': [(k.encode('latin-1'), v.encode('latin-1'))
                    for k, v in req.headers],
        'client': (req.remote_addr, 0), 'server': None,
        'extensions': {'engineio.forwarded': {}}}
    if req.websocket:
        # Refusals go back to the forwarder as HTTP responses.
        scope['extensions']['websocket.http.response'] = {}
    return scope


def request_message(request_id: int, sender: str, sid: str,
                    req: ForwardedRequest) -> Message:
    return Message(REQUEST, request_id, {
        'from': sender, 'sid': sid, 'm': req.method, 'q': req.query_string,
        'h': req.headers, 's': req.scheme, 'ws': int(req.websocket),
        'a': req.remote_addr}, req.body)


def forwarded_request(message: Message) -> ForwardedRequest:
    """The request a ``req`` message carries; ValueError if malformed."""
    h = message.header
    try:
        headers = [(str(k), str(v)) for k, v in h['h']]
        return ForwardedRequest(str(h['m']), str(h['q']), headers,
                                str(h.get('s') or 'http'), bool(h.get('ws')),
                                str(h.get('a') or ''), message.body)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f'malformed forwarded request: {exc}') from exc


def response_message(request_id: int, response: Response) -> Message:
    return Message(RESPONSE, request_id,
                   {'st': response.status, 'h': response.headers},
                   response.body)


def response_of(message: Message) -> Response:
    """The response a ``res`` message carries."""
    h = message.header
    return Response(int(h['st']), [(str(k), str(v)) for k, v in h['h']],
                    message.body)


def frame_message(relay_id: int, sender: str, frame: str | bytes,
                  to_owner: bool) -> Message:
    kind = FRAME if to_owner else FRAME_BACK
    if isinstance(frame, str):
        return Message(kind, relay_id, {'from': sender}, frame.encode())
    return Message(kind, relay_id, {'from': sender, 'b': 1}, frame)


def frame_encoder(relay_id: int, sender: str,
                  to_owner: bool) -> Callable[[str | bytes], bytes]:
    """``frame -> bytes`` of :func:`frame_message` for one relay: the
    header of every frame of a relay is the same, so it is encoded once and
    each frame costs a concatenation (the relay's hot path)."""
    text_head = frame_message(relay_id, sender, '', to_owner).encode()
    binary_head = frame_message(relay_id, sender, b'', to_owner).encode()

    def encode(frame: str | bytes) -> bytes:
        if type(frame) is str:
            return text_head + frame.encode()
        return binary_head + frame  # type: ignore[operator]
    return encode


def close_message(relay_id: int, sender: str, to_owner: bool) -> Message:
    return Message(CLOSE if to_owner else CLOSE_BACK, relay_id,
                   {'from': sender})


def frame_of(message: Message) -> str | bytes:
    if message.header.get('b'):
        return message.body
    return message.body.decode()


def op_message(op_id: int, sender: str, op: str, sid: str,
               body: bytes = b'', binary: bool = False) -> Message:
    header: dict[str, Any] = {'from': sender, 'op': op, 'sid': sid}
    if binary:
        header['b'] = 1
    return Message(OP, op_id, header, body)


def result_message(op_id: int, error: str | None = None,
                   body: bytes = b'') -> Message:
    return Message(RESULT, op_id, {} if error is None else {'e': error}, body)


# -- what a forwarder answers ----------------------------------------------
def _error(status: int, code: int, message: str,
           headers: Iterable[tuple[str, str]]) -> Response:
    body = _dumps({'code': code, 'message': message}).encode()
    return Response(status, [('Content-Type', 'application/json'), *headers],
                    body)


def owner_gone(cors: Headers) -> Response:
    """No node listens on the owner's channel: the session cannot exist
    (its owner stopped or never was); the official answer to an unknown
    session id."""
    return _error(400, 1, 'Session ID unknown', cors)


def bus_unavailable(cors: Headers) -> Response:
    """The bus cannot be reached, so the owner cannot: the request fails
    at once rather than after a timeout."""
    return _error(503, 3, 'Bad request', cors)


def owner_silent(cors: Headers) -> Response:
    """The owner took the request but did not answer within the bound."""
    return _error(504, 3, 'Bad request', cors)


def forward_timeout(method: str, websocket: bool, ping_interval: float,
                    ping_timeout: float) -> float:
    """How long a forwarder waits for the owner's answer.

    A long-polling GET is held until the owner has output; the owner pings
    at least every ``ping_interval`` and ends a silent session after
    ``ping_timeout`` more, so an answer is due by their sum.  Anything else
    is answered at once by a live owner.
    """
    if method == 'GET' and not websocket:
        return ping_interval + ping_timeout + 5.0
    return 10.0


# -- what a node does with what arrives ------------------------------------
class Delivery(enum.Enum):
    """Where a message that arrived on this node's channel goes."""

    #: A frame (None: the close) for a WebSocket this node owns and another
    #: node relays; key: (forwarder tag, relay id).
    TO_OWNED_RELAY = 'owned relay'
    #: A frame (None: the close) for a client WebSocket this node relays;
    #: key: relay id.
    TO_CLIENT_RELAY = 'client relay'
    #: The answer to a request or op this node sent; key: its id.
    ANSWER = 'answer'
    #: A request to serve for a session this node owns (concurrently).
    SERVE = 'serve'
    #: A server method to run for a session this node owns (in order).
    OP = 'op'


def deliver(msg: Message) -> tuple[Delivery, Any, Any]:
    """``(where, key, payload)`` for a message; ValueError for a kind no
    node sends."""
    kind = msg.kind
    if kind in (FRAME, CLOSE):
        return (Delivery.TO_OWNED_RELAY, (msg.sender, msg.id),
                frame_of(msg) if kind == FRAME else None)
    if kind in (FRAME_BACK, CLOSE_BACK):
        return (Delivery.TO_CLIENT_RELAY, msg.id,
                frame_of(msg) if kind == FRAME_BACK else None)
    if kind in (RESPONSE, ACCEPT, RESULT):
        return Delivery.ANSWER, msg.id, msg
    if kind == REQUEST:
        return Delivery.SERVE, msg.id, msg
    if kind == OP:
        return Delivery.OP, msg.id, msg
    raise ValueError(f'unknown bus message kind {kind!r}')


class Failure(enum.Enum):
    """Why a forwarded request got no answer from the owner."""

    #: No node listens on the owner's channel (PUBLISH reached no one, or
    #: the owner stopped listening while the request waited).
    OWNER_GONE = 'owner gone'
    #: The bus cannot be reached.
    BUS_DOWN = 'bus down'
    #: The owner took the request and did not answer in time.
    TIMEOUT = 'timeout'


def failure_response(failure: Failure, cors: Headers) -> Response:
    """What the client gets for a forwarded request that failed."""
    if failure is Failure.OWNER_GONE:
        return owner_gone(cors)
    if failure is Failure.BUS_DOWN:
        return bus_unavailable(cors)
    return owner_silent(cors)


def describe_failure(failure: Failure, sid: str, owner: str,
                     detail: str = '') -> str:
    """The log line of a failed forwarded request."""
    if failure is Failure.OWNER_GONE:
        return f'{sid}: owner node {owner} is gone'
    if failure is Failure.BUS_DOWN:
        return f'{sid}: cannot forward to node {owner} ({detail})'
    return f'{sid}: node {owner} did not answer ({detail})'


def op_error(detail: str) -> str:
    """The error an op for a session of another node raises (KeyError),
    worded as the local one."""
    return f'Session is disconnected ({detail})'


class NodeState:
    """What both nodes (blocking and asyncio) know of themselves: the tag,
    the channels, the ids of what they send."""

    def __init__(self, tag: str, prefix: str = 'engineio') -> None:
        self.tag = tag
        self.prefix = prefix
        self.channel = channel(prefix, tag)
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def channel_of(self, tag: str) -> str:
        return channel(self.prefix, tag)

    def make_sid(self, random_part: str) -> str:
        return make_sid(self.tag, random_part)

    def owner_of(self, sid: str) -> str | None:
        """The tag of the other node that owns ``sid``; None when it is
        this node's (or no node's)."""
        owner = owner_tag(sid)
        return None if owner is None or owner == self.tag else owner

    def request(self, sid: str, req: ForwardedRequest) -> Message:
        return request_message(self.next_id(), self.tag, sid, req)

    def op(self, op: str, sid: str, payload: str | bytes = b'') -> Message:
        """An ``op`` message; ``send`` carries a frame (text or binary)."""
        if isinstance(payload, str):
            return op_message(self.next_id(), self.tag, op, sid,
                              payload.encode())
        return op_message(self.next_id(), self.tag, op, sid, payload,
                          binary=op == 'send')

    def frame_encoder(self, relay_id: int,
                      to_owner: bool) -> Callable[[str | bytes], bytes]:
        return frame_encoder(relay_id, self.tag, to_owner)

    def close(self, relay_id: int, to_owner: bool) -> bytes:
        return close_message(relay_id, self.tag, to_owner).encode()
