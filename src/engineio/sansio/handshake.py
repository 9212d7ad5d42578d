"""The WebSocket opening request (RFC 6455 section 4.2.1), checked before
the request gets anywhere.

Most servers complete the WebSocket handshake only after the core routed the
request: by then a session exists and ``connect`` has run, and a request the
handshake then refuses (or, on a lenient server, accepts) leaves that
session behind.  So the core decides on the opening headers first.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .models import Headers, Request

#: The only WebSocket protocol version there is (RFC 6455 section 4.1).
WEBSOCKET_VERSION = '13'

# A nonce of exactly 16 bytes in base64: 22 characters for its first 15
# bytes and 2 of its 16th bits, then the two padding characters.
_KEY = re.compile(r'[A-Za-z0-9+/]{22}==')


class BadOpening(NamedTuple):
    """Why a WebSocket opening request is refused."""

    #: The reason, for the log.
    detail: str
    #: Headers the refusal carries.
    headers: Headers = []
    #: The method is not GET: a handshake refuses that as a bad method.
    bad_method: bool = False


#: RFC 6455 section 4.4: a refused version is answered with the versions the
#: server speaks, so that a client may retry with one of them.
_VERSION_HEADERS = [('Sec-WebSocket-Version', WEBSOCKET_VERSION)]


def _shown(value: str | None) -> str:
    # The values come from the client: a log line shows only their start.
    return repr(value if value is None or len(value) <= 40
                else value[:40] + '...')


def _has_token(value: str | None, token: str) -> bool:
    if value is None:
        return False
    return any(part.strip().lower() == token for part in value.split(','))


def check_websocket_opening(req: Request) -> BadOpening | None:
    """None if ``req`` is a valid WebSocket opening request, else why not.

    A request without :attr:`Request.websocket_opening` is not checked:
    its web server answered the handshake already.
    """
    opening = req.websocket_opening
    if opening is None:
        return None
    if req.method != 'GET':
        return BadOpening(f'websocket opening request with method '
                          f'{_shown(req.method)}', bad_method=True)
    if not req.websocket:
        return BadOpening('websocket opening request without '
                          '"Upgrade: websocket"')
    if not _has_token(opening.connection, 'upgrade'):
        return BadOpening('websocket opening request without '
                          '"Connection: Upgrade" (Connection: '
                          f'{_shown(opening.connection)})')
    if not req.host:
        return BadOpening('websocket opening request without a Host header')
    version = opening.version
    if version is None or version.strip() != WEBSOCKET_VERSION:
        return BadOpening(f'unsupported Sec-WebSocket-Version {_shown(version)}',
                          _VERSION_HEADERS)
    key = opening.key
    if key is None or not _KEY.fullmatch(key.strip()):
        return BadOpening('Sec-WebSocket-Key is not 16 bytes in base64 '
                          f'({_shown(key)})')
    return None
