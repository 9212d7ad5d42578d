"""One table of wire exchanges, run against every server driver.

Each scenario is a list of steps.  A step sends one HTTP request (``sid``
in the query is replaced by the session id of the last handshake) and
checks the answer: the status, the JSON error code, or the body.  The
drivers under test run the echo application of ``tests/servers/echo_app.py``
with ``async_handlers`` off, so an echo is queued before a POST returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    method: str = 'GET'
    query: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    #: Expected JSON ``code`` of an error body.
    code: int | None = None
    #: The body must equal this.
    body_is: bytes | None = None
    #: The body must start with this.
    body_starts: bytes | None = None
    #: Response headers that must be present with these values.
    has_headers: dict[str, str] = field(default_factory=dict)
    #: Response headers that must be absent.
    no_headers: tuple[str, ...] = ()


def q(**kw: str) -> dict[str, str]:
    base = {'EIO': '4', 'transport': 'polling'}
    base.update(kw)
    return base


HANDSHAKE = Step(query=q(), body_starts=b'0{"sid":"')
SID = '{sid}'

SCENARIOS: dict[str, list[Step]] = {
    'handshake': [HANDSHAKE],
    'missing EIO': [Step(query={'transport': 'polling'}, status=400, code=5)],
    'EIO 3': [Step(query=q(EIO='3'), status=400, code=5)],
    'EIO 5': [Step(query=q(EIO='5'), status=400, code=5)],
    'missing transport': [Step(query={'EIO': '4'}, status=400, code=0)],
    'unknown transport': [Step(query=q(transport='foo'), status=400, code=0)],
    'unknown sid': [Step(query=q(sid='nope'), status=400, code=1)],
    'handshake by POST': [Step('POST', q(), b'4x', status=400, code=2)],
    'websocket without upgrade': [
        Step(query=q(transport='websocket'), status=400, code=3)],
    'PUT on a session': [HANDSHAKE, Step('PUT', q(sid=SID), b'4x',
                                         status=400)],
    'echo text': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'4hello', body_is=b'ok',
             has_headers={'Content-Type': 'text/html'}),
        Step(query=q(sid=SID), body_is=b'4hello',
             has_headers={'Content-Type': 'text/plain; charset=UTF-8'}),
    ],
    'echo binary': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'bAQID', body_is=b'ok'),
        Step(query=q(sid=SID), body_is=b'bAQID'),
    ],
    'batched post': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'4a\x1e4b\x1ebAA==', body_is=b'ok'),
        Step(query=q(sid=SID), body_is=b'4a\x1e4b\x1ebAA=='),
    ],
    'burst of 200 packets in one post': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'\x1e'.join(b'4m%d' % i for i in range(200)),
             body_is=b'ok'),
        Step(query=q(sid=SID),
             body_is=b'\x1e'.join(b'4m%d' % i for i in range(200))),
    ],
    'client close': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'1', body_is=b'ok'),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'malformed packet closes': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'9oops', status=400),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'invalid base64 closes': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'b!!!', status=400),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'non-utf8 body closes': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'4\xff\xfe', status=400),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'empty body closes': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'', status=400),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'too large post': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'4' + b'x' * 6000, status=413),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'server close then poll gets the close packet': [
        HANDSHAKE,
        Step('POST', q(sid=SID), b'4__close__', body_is=b'ok'),
        Step(query=q(sid=SID), body_is=b'1'),
        Step(query=q(sid=SID), status=400, code=1),
    ],
    'foreign origin refused': [
        Step(query=q(), headers={'Origin': 'http://evil.example'},
             status=400),
    ],
    'same origin accepted': [
        Step(query=q(), headers={'Origin': 'http://{host}'},
             body_starts=b'0{', has_headers={
                 'Access-Control-Allow-Origin': 'http://{host}',
                 'Access-Control-Allow-Credentials': 'true'}),
    ],
    'no origin, no CORS headers': [
        Step(query=q(), body_starts=b'0{',
             no_headers=('Access-Control-Allow-Origin',)),
    ],
}

#: Options every driver under the table runs with.
OPTIONS: dict[str, Any] = {'async_handlers': False,
                           'max_http_buffer_size': 5000}
