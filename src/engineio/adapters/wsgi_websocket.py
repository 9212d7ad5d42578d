"""WebSocket over the raw socket of a WSGI request.

Werkzeug, gunicorn, eventlet and gevent's pywsgi give the application a way
to reach the client's socket; the WebSocket handshake is answered on it
directly and the request thread then reads frames from it while other
threads write (under a lock).  The ``websockets`` package's sans-I/O
protocol does all of it: the handshake, permessage-deflate and the framing.
The same code serves real and green threads: under eventlet and gevent the
socket is a green socket, so its blocking calls yield to the hub.
"""
# eventlet (imported lazily below) ships no type information.
# mypy: disable-error-code="import-untyped,import-not-found"
from __future__ import annotations

import socket as _socket
import time
from collections import deque
from typing import Any, cast

from websockets.exceptions import PayloadTooBig
from websockets.extensions import Extension
from websockets.extensions.permessage_deflate import (
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Close, CloseCode, Frame
from websockets.frames import Opcode as FrameOpcode
from websockets.http11 import Request
from websockets.protocol import OPEN, SEND_EOF, SERVER, Protocol
from websockets.server import ServerProtocol

from .._tls_socket import serialize_tls
from ..exceptions import ContentTooLongError

# websockets < 17 has no module-level names for the opcodes.
TEXT, BINARY = FrameOpcode.TEXT, FrameOpcode.BINARY
CONT, CLOSE = FrameOpcode.CONT, FrameOpcode.CLOSE


#: The WSGI servers whose socket :func:`raw_socket` can take over; each
#: expects its request to end differently (see ``finish_request``).
GUNICORN, WERKZEUG, EVENTLET, PYWSGI = 'gunicorn', 'werkzeug', 'eventlet', 'pywsgi'


class HandshakeError(ValueError):
    """The WebSocket opening request is invalid; nothing was sent on the
    connection, so the request can still be answered over HTTP."""


def server_kind(environ: dict[str, Any]) -> str | None:
    """Which WSGI server (of those above) runs this request, if any."""
    if 'gunicorn.socket' in environ:
        return GUNICORN
    if 'werkzeug.socket' in environ:
        return WERKZEUG
    if hasattr(environ.get('eventlet.input'), 'get_socket'):
        return EVENTLET
    if str(environ.get('SERVER_SOFTWARE', '')).startswith('gevent/'):
        return PYWSGI
    return None


def raw_socket(environ: dict[str, Any]) -> Any:
    """The client socket of a WSGI request, if the server exposes it."""
    kind = server_kind(environ)
    if kind == GUNICORN:
        return environ['gunicorn.socket']
    if kind == WERKZEUG:
        return environ['werkzeug.socket']
    if kind == EVENTLET:
        return environ['eventlet.input'].get_socket()
    if kind == PYWSGI:
        # gunicorn's pywsgi worker names the socket; plain pywsgi does not,
        # but for an upgrade request it passes the connection's reader
        # (``socket.makefile('rb')``) as wsgi.input, whose raw SocketIO
        # holds the socket.  The client sends nothing before our 101, so
        # the reader has nothing buffered that reading the socket would skip.
        sock = environ.get('gunicorn.sock')
        if sock is None:
            raw = getattr(environ.get('wsgi.input'), 'raw', None)
            sock = getattr(raw, '_sock', None)
        return sock
    return None


#: The environ keys of the headers the opening handshake reads.  The rest
#: (cookies above all) stay out of the rebuilt request: websockets refuses a
#: header line over 8 KiB, a limit Werkzeug does not have.
_HANDSHAKE_HEADERS = (
    ('HTTP_HOST', 'Host'), ('HTTP_UPGRADE', 'Upgrade'),
    ('HTTP_CONNECTION', 'Connection'),
    ('HTTP_SEC_WEBSOCKET_KEY', 'Sec-WebSocket-Key'),
    ('HTTP_SEC_WEBSOCKET_VERSION', 'Sec-WebSocket-Version'),
    ('HTTP_SEC_WEBSOCKET_EXTENSIONS', 'Sec-WebSocket-Extensions'),
)


def handshake_request(environ: dict[str, Any]) -> bytes:
    """Rebuild the HTTP upgrade request from the environ, for websockets'
    handshake parser (the WSGI server consumed the original bytes)."""
    path = environ.get('RAW_URI') or environ.get('REQUEST_URI') or (
        environ.get('PATH_INFO', '/')
        + ('?' + environ['QUERY_STRING'] if environ.get('QUERY_STRING') else ''))
    lines = [f'GET {path} HTTP/1.1']
    for key, name in _HANDSHAKE_HEADERS:
        value = environ.get(key)
        if value is not None:
            lines.append(f'{name}: {value}')
    # PEP 3333 carries the request's bytes as latin-1 strings: a value
    # outside latin-1 cannot have come from the wire (UnicodeEncodeError).
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


class FramedWebSocket:
    """A blocking WebSocket endpoint framed by the ``websockets`` package.

    websockets' sans-I/O :class:`~websockets.protocol.Protocol` (created
    already open when the handshake was answered elsewhere, else the server
    protocol that answered it) parses what the client sends: it checks
    masking, reserved bits, opcodes, control frames, fragmentation order and
    close codes, answers pings and close frames, and applies the message
    size limit to the length in each frame header, across the fragments of
    a message, so that an oversized message is refused (close 1009) before
    its payload is buffered; a compressed message is inflated no further
    than the limit.  It hands over frames, not
    messages: fragments are joined and text decoded (invalid UTF-8 fails the
    connection with 1007) here.

    One thread reads (``wait``) and is the only one to touch the protocol
    object, while others write (``send``, under the lock, so that frames
    never interleave: a green socket's ``sendall`` may switch in the middle
    of a frame); outgoing frames are serialized by websockets' ``Frame``.
    Subclasses provide the transport: ``_recv(n)`` returns up to ``n``
    bytes (``b''`` at end of stream), ``_sendall(data)`` and ``_hang_up()``,
    called once the close frame is sent.
    """

    closed: bool
    _lock: Any
    _proto: Protocol | None

    def _start_framing(self, lock: Any, max_message_size: int,
                       proto: Protocol | None = None) -> None:
        """Start reading with ``proto``, an open protocol (one created open
        when the handshake was answered by someone else)."""
        self.closed = False
        self._lock = lock
        self._proto = proto if proto is not None \
            else Protocol(SERVER, state=OPEN, max_size=max_message_size)
        self._incoming: deque[str | bytes] = deque()
        #: The fragments of the message being received, and its opcode.
        self._parts: list[Any] = []
        self._parts_opcode = CONT

    def _recv(self, size: int) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sendall(self, data: bytes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _hang_up(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def send(self, frame: str | bytes) -> None:
        """Send one message (thread-safe)."""
        # A Frame of its own rather than the protocol's send_text(): the
        # protocol object belongs to the reading thread, and a data frame
        # changes nothing in its state.
        data = Frame(TEXT, frame.encode()).serialize(mask=False) \
            if isinstance(frame, str) \
            else Frame(BINARY, frame).serialize(mask=False)
        with self._lock:
            if self.closed:
                raise ConnectionError('websocket is closed')
            self._sendall(data)

    def wait(self) -> str | bytes | None:
        """Block until the next message; None once the WebSocket closed."""
        incoming = self._incoming
        while not incoming:
            if self.closed:
                break
            try:
                data = self._recv(65536)
            except TimeoutError:
                continue
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            self._feed(data)
        if incoming:
            return incoming.popleft()
        proto = self._proto
        if proto is not None:
            # The protocol and its parser generator refer to each other:
            # closing the generator lets the pair be freed now rather than
            # by a later garbage collection.
            proto.parser.close()
        return None

    def _feed(self, data: bytes) -> None:
        proto = self._proto
        assert proto is not None
        proto.receive_data(data)
        # Only frames come out of a protocol created open.
        frames = cast('list[Frame]', proto.events_received())
        incoming = self._incoming
        failed = proto.parser_exc is not None
        for frame in frames:
            opcode = frame.opcode
            if opcode is TEXT or opcode is BINARY:
                if not frame.fin:
                    self._parts = [frame.data]
                    self._parts_opcode = opcode
                    continue
                payload: Any = frame.data
            elif opcode is CONT:
                self._parts.append(frame.data)
                if not frame.fin:
                    continue
                payload = b''.join(self._parts)
                opcode = self._parts_opcode
                self._parts = []
            else:
                # Pings and close frames: the protocol queued the answer.
                continue
            if opcode is TEXT:
                try:
                    payload = payload.decode()
                except UnicodeDecodeError:
                    proto.fail(CloseCode.INVALID_DATA, 'text is not UTF-8')
                    failed = True
                    break
            incoming.append(payload)
        writes = proto.data_to_send()
        if writes:
            self._write_answers(writes, failed, proto.parser_exc)

    def _write_answers(self, writes: list[bytes], failed: bool,
                       error: Exception | None) -> None:
        """Send what the protocol queued (pongs, a close frame), and end the
        WebSocket if that includes the end of the stream; ``failed`` tells
        that the connection was failed (by websockets, with ``error``, or
        on invalid UTF-8)."""
        closing = SEND_EOF in writes
        with self._lock:
            if self.closed:
                return
            if closing:
                self.closed = True
            try:
                self._sendall(b''.join(writes))
            except OSError:
                # The peer is gone: wait() ends on the closed flag.
                self.closed = True
                return
        if closing and failed:
            # The close frame carries 1002, 1007 or 1009: stop reading the
            # rest of a connection that broke the protocol.
            self._hang_up()
            if isinstance(error, PayloadTooBig):
                raise ContentTooLongError('websocket message too large')

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket (idempotent)."""
        data = Frame(CLOSE, Close(code, '').serialize()).serialize(mask=False)
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                self._sendall(data)
            except OSError:
                pass
        self._hang_up()


class RawSocketWebSocket(FramedWebSocket):
    """A blocking WebSocket endpoint on an already accepted socket.

    websockets' :class:`~websockets.server.ServerProtocol` answers the
    handshake (negotiating permessage-deflate when ``compression``, the
    threshold in bytes, is not None and the client offers it) and then
    frames the connection, inflating what the client compressed with the
    size limit applied to the inflated message.
    """

    def __init__(self, sock: Any, environ: dict[str, Any], lock: Any,
                 max_message_size: int, write_timeout: float,
                 compression: int | None = None) -> None:
        # The request thread reads while other threads write: a TLS socket
        # (Werkzeug's ssl_context, gunicorn's certfile) must not let the two
        # overlap (see _tls_socket).
        sock = serialize_tls(sock)
        self.sock = sock
        self.environ = environ
        self.kind = server_kind(environ)
        self.max_message_size = max_message_size
        proto = ServerProtocol(
            extensions=None if compression is None
            else [ServerPerMessageDeflateFactory()],
            max_size=max_message_size)
        response = None
        # RFC 6455 requires the Host header, which websockets leaves its
        # caller to check.
        if environ.get('HTTP_HOST'):
            try:
                proto.receive_data(handshake_request(environ))
            except UnicodeEncodeError as exc:
                raise HandshakeError(f'invalid websocket opening request '
                                     f'({exc})') from exc
            request = next(iter(proto.events_received()), None)
            if isinstance(request, Request):
                response = proto.accept(request)
        if response is None or response.status_code != 101:
            # Nothing is written yet (the refusal websockets prepared is
            # dropped): the WSGI server answers it, as an HTTP response of
            # its own, instead of a traceback and a 500.
            raise HandshakeError(f'invalid websocket opening request '
                                 f'({proto.handshake_exc or "no Host header"})')
        proto.send_response(response)
        self._start_framing(lock, max_message_size, proto)
        sock.settimeout(write_timeout)
        self._sendall(b''.join(proto.data_to_send()))
        self._recv = sock.recv  # type: ignore[method-assign]
        self._sendall = sock.sendall  # type: ignore[method-assign]
        if proto.extensions and compression is not None:
            self._deflate: list[Extension] = proto.extensions
            self._threshold = compression
            self.send = self._send_deflating  # type: ignore[method-assign]

    def _sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _hang_up(self) -> None:
        # Only the sending side: the peer answers the close frame, and that
        # answer must be read (by wait() or finish_request()), not left on
        # the connection for the WSGI server to parse as a request.
        try:
            self.sock.shutdown(_socket.SHUT_WR)
        except OSError:
            pass

    def _send_deflating(self, frame: str | bytes) -> None:
        """``send`` once permessage-deflate was negotiated (thread-safe)."""
        message = Frame(TEXT, frame.encode()) if isinstance(frame, str) \
            else Frame(BINARY, frame)
        if len(message.data) < self._threshold:
            # RFC 7692 lets the sender choose per message: a short one is
            # not worth compressing.  It never enters the compressor, which
            # keeps the compressor's context in step with the peer's.
            data = message.serialize(mask=False)
            with self._lock:
                if self.closed:
                    raise ConnectionError('websocket is closed')
                self._sendall(data)
            return
        with self._lock:
            if self.closed:
                raise ConnectionError('websocket is closed')
            # Compressed under the lock: with context takeover each message
            # is compressed against the ones before it, so the compression
            # order must be the order on the wire.  The reading thread only
            # touches the extension's decompressor.
            self._sendall(message.serialize(mask=False,
                                            extensions=self._deflate))

    def _drain(self, limit: float = 1.0) -> None:
        """Read what the peer still sends (its close frame) until it hangs up.

        Werkzeug reads the connection again for a next request once the
        WSGI call ends; bytes left unread there are logged as a bad request.
        """
        try:
            self.sock.shutdown(_socket.SHUT_WR)
        except OSError:
            pass  # already shut down by close()
        try:
            self.sock.settimeout(0.1)
        except OSError:
            return
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(4096):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def finish_request(self) -> Any:
        """End the WSGI request whose connection this WebSocket took over,
        in the way its server expects, so it writes no HTTP response."""
        if self.kind == WERKZEUG:
            self._drain()
        try:
            self.sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass
        if self.kind == GUNICORN:
            # gunicorn's workers (sync, gthread, and the async base of its
            # gevent and eventlet workers) catch this, log "Closing
            # connection" at debug level and close the socket unanswered.
            raise StopIteration()
        if self.kind == WERKZEUG:
            # Werkzeug drops the connection quietly on this exception.
            raise ConnectionAbortedError('websocket connection ended')
        if self.kind == EVENTLET:
            # eventlet.wsgi writes no response and closes the connection
            # once this green-local flag is set (its own WebSocket support
            # does the same).
            from eventlet.wsgi import WSGI_LOCAL
            WSGI_LOCAL.already_handled = True
        # pywsgi: an empty body with no start_response writes nothing, and
        # its next read on the shut-down socket ends the connection.
        return []
