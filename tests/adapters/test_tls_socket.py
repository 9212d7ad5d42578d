"""SerializedTLSSocket: one thread reads a TLS connection while another
writes it (the blocking client's reader and writer; the threading server's
request thread and the threads that send).

Without the serialization the first test fails nearly every time on this
machine (Python 3.10, 3.11 and 3.13: 'bad record mac', EOF in violation of
protocol, a reader that sees end of stream).
"""
from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engineio._tls_socket import SerializedTLSSocket, serialize_tls

from support import make_self_signed


@pytest.fixture(scope='module')
def echo_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A TLS echo server on 127.0.0.1 (a thread per connection)."""
    cert, key = make_self_signed(Path(tmp_path_factory.mktemp('tls')))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(('127.0.0.1', 0))
    stop = threading.Event()

    def echo(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(10)
                while data := tls.recv(65536):
                    tls.sendall(data)
        except OSError:
            pass

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield listener.getsockname()[1]
    stop.set()
    acceptor.join(5)
    listener.close()


def connect(port: int, timeout: float = 5) -> SerializedTLSSocket:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    tls = context.wrap_socket(raw, server_hostname='127.0.0.1')
    wrapped = serialize_tls(tls)
    assert isinstance(wrapped, SerializedTLSSocket)
    return wrapped


def test_read_and_write_at_once(echo_port: int) -> None:
    """3000 small writes on one thread while another reads the echoes: every
    byte comes back, in order, on each of five connections."""
    for _ in range(5):
        _stream(connect(echo_port), b'0123456789abcdef', 3000)


def _stream(sock: SerializedTLSSocket, message: bytes, count: int) -> None:
    received: list[bytes] = []
    errors: list[BaseException] = []

    def read() -> None:
        total = 0
        try:
            while total < len(message) * count:
                data = sock.recv(65536)
                if not data:
                    raise EOFError('end of stream')
                received.append(data)
                total += len(data)
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(count):
        sock.send(message)
    reader.join(20)
    sock.close()
    assert not reader.is_alive()
    assert errors == []
    assert b''.join(received) == message * count


def test_waiting_reader_does_not_hold_up_the_writer(echo_port: int) -> None:
    """A reader waiting for data holds no lock: the writer's message (whose
    echo the reader waits for) goes out at once."""
    sock = connect(echo_port)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(sock.recv(100)))
    reader.start()
    time.sleep(0.2)  # the reader is waiting now
    started = time.monotonic()
    sock.sendall(b'ping')
    reader.join(5)
    sock.close()
    assert got == [b'ping']
    assert time.monotonic() - started < 2.5  # not the 5 s read timeout


def test_timeout_is_kept(echo_port: int) -> None:
    sock = connect(echo_port)
    sock.settimeout(0.3)
    assert sock.gettimeout() == 0.3
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        sock.recv(100)
    assert 0.25 < time.monotonic() - started < 3
    sock.settimeout(0)
    with pytest.raises(ssl.SSLWantReadError):
        sock.recv(100)
    sock.close()


def test_only_standard_tls_sockets_are_wrapped() -> None:
    plain = socket.socket()
    try:
        assert serialize_tls(plain) is plain

        class OtherTLS:  # a green TLS socket, say
            pass
        other = OtherTLS()
        assert serialize_tls(other) is other
    finally:
        plain.close()
