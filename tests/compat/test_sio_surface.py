"""The parts of this package python-socketio and Flask-SocketIO touch
directly, checked in-process without a network (see README.md in this
folder for the whole list and where each one is used)."""
from __future__ import annotations

import importlib
import inspect
import queue
import threading
from typing import Any

import pytest

import engineio
from engineio import packet, payload
from engineio.sansio.session import Heartbeat
from engineio.socket import Socket

socketio = importlib.import_module('socketio')

REASONS = {
    'SERVER_DISCONNECT': 'server disconnect',
    'CLIENT_DISCONNECT': 'client disconnect',
    'PING_TIMEOUT': 'ping timeout',
    'TRANSPORT_CLOSE': 'transport close',
    'TRANSPORT_ERROR': 'transport error',
}
CLIENT_REASONS = ('SERVER_DISCONNECT', 'CLIENT_DISCONNECT', 'TRANSPORT_ERROR')


def make_sio(**kwargs: Any) -> Any:
    kwargs.setdefault('async_mode', 'threading')
    return socketio.Server(**kwargs)


def test_packet_module() -> None:
    # socketio.manager wraps each encoded Socket.IO packet in an Engine.IO
    # MESSAGE packet and hands it to eio.send_packet().
    assert tuple(range(7)) == (packet.OPEN, packet.CLOSE, packet.PING, packet.PONG,
            packet.MESSAGE, packet.UPGRADE, packet.NOOP)
    text = packet.Packet(packet.MESSAGE, '2["ev",1]')
    assert text.encode() == '42["ev",1]'
    binary = packet.Packet(packet.MESSAGE, b'\x00\x01')
    assert binary.encode() == b'\x00\x01' and binary.data == b'\x00\x01'
    # Flask-SocketIO's test client reads .data of those packets.
    assert packet.Packet(encoded_packet='42["ev",1]').data == '2["ev",1]'
    # python-socketio's packets use this package's JSON module by default.
    from socketio import packet as sio_packet
    assert sio_packet.Packet.json is engineio.json
    assert engineio.json.loads(engineio.json.dumps({'a': [1]})) == {'a': [1]}


def test_payload_max_decode_packets_is_settable() -> None:
    # python-socketio's documentation tells users who hit python-engineio's
    # 16-packet limit to raise this class attribute; it must exist.
    original = payload.Payload.max_decode_packets
    assert original >= 200
    try:
        payload.Payload.max_decode_packets = 50
        p = payload.Payload(encoded_payload='\x1e'.join(['4x'] * 50))
        assert len(p.packets) == 50
    finally:
        payload.Payload.max_decode_packets = original


def test_reason_strings() -> None:
    for name, value in REASONS.items():
        assert getattr(engineio.Server.reason, name) == value
    assert socketio.Server.reason is engineio.Server.reason
    importlib.import_module('requests')
    for name in CLIENT_REASONS:
        assert getattr(engineio.Client.reason, name) == REASONS[name]
    assert socketio.Client.reason is engineio.Client.reason


def test_server_options_pass_through() -> None:
    import json as stdlib_json

    sio = make_sio(ping_interval=3, ping_timeout=4, max_http_buffer_size=5000,
                   cors_allowed_origins='*', cors_credentials=False,
                   transports=['websocket'], monitor_clients=False,
                   http_compression=False, compression_threshold=10,
                   cookie='io', allow_upgrades=False, json=stdlib_json,
                   engineio_logger=False, always_connect=True)
    try:
        eio = sio.eio
        assert isinstance(eio, engineio.Server)
        assert sio.async_mode == eio.async_mode == 'threading'
        # python-socketio runs its own handlers' concurrency.
        assert eio.async_handlers is False
        assert (eio.ping_interval, eio.ping_timeout) == (3, 4)
        assert eio.max_http_buffer_size == 5000
        assert eio.transports == ['websocket']
        assert set(eio.handlers) == {'connect', 'message', 'disconnect'}
    finally:
        engineio.packet.set_json(engineio.json)


def test_server_utilities() -> None:
    eio = make_sio().eio
    ids = {eio.generate_id() for _ in range(100)}
    assert len(ids) == 100 and all(isinstance(i, str) for i in ids)
    done = threading.Event()
    task = eio.start_background_task(done.set)
    task.join()
    assert done.is_set()
    eio.sleep(0)
    q = eio.create_queue()
    with pytest.raises(eio.get_queue_empty_exception()):
        q.get(timeout=0.01)
    assert eio.get_queue_empty_exception() is queue.Empty
    event = eio.create_event()
    assert event.wait(0.01) is False
    event.set()
    assert event.wait(0.01) is True
    make_sio().shutdown()  # calls eio.shutdown()


def test_async_server_attach_and_utilities() -> None:
    # socketio.AsyncServer.attach() -> eio.attach(app, socketio_path), for
    # aiohttp, sanic and tornado applications.
    web = importlib.import_module('aiohttp.web')
    import asyncio

    sio = socketio.AsyncServer(async_mode='aiohttp')
    app = web.Application()
    sio.attach(app, socketio_path='custom.io')
    paths = {r.resource.canonical for r in app.router.routes()}  # type: ignore[union-attr]
    assert '/custom.io/' in paths, paths

    async def main() -> None:
        ran = asyncio.Event()

        async def task() -> None:
            await sio.sleep(0)
            ran.set()

        # python-socketio's AsyncClient awaits what this returns.
        await sio.start_background_task(task)
        assert ran.is_set()
        event = sio.eio.create_event()
        assert isinstance(event, asyncio.Event)
        with pytest.raises(KeyError):
            await sio.eio.get_session('nope')
        await sio.shutdown()

    asyncio.run(main())


def test_sessions_lookup() -> None:
    eio = make_sio().eio
    assert eio.sockets == {}
    with pytest.raises(KeyError):
        eio._get_socket('nope')
    with pytest.raises(KeyError):
        eio.transport('nope')
    with pytest.raises(KeyError):
        eio.get_session('nope')


def test_ok_exists_for_the_admin_instrumentation() -> None:
    eio = make_sio().eio
    ret = eio._ok(packets=[packet.Packet(packet.MESSAGE, 'hi'),
                           packet.Packet(packet.MESSAGE, b'\x01')])
    assert ret['status'] == '200 OK'
    assert ret['response'] == b'4hi\x1ebAQ=='
    assert eio._ok()['response'] == b'ok'


def test_socket_hooks_are_wrappable() -> None:
    # The admin instrumentation replaces these on the class with
    # functools.partialmethod, so they must be plain methods of Socket.
    for name in ('handle_get_request', 'handle_post_request',
                 '_websocket_handler', '_send_ping'):
        assert inspect.isfunction(getattr(Socket, name)), name
    sio = make_sio()
    admin = sio.instrument(auth=False)
    try:
        assert sio.eio._ok is not None
        assert Socket.handle_post_request is not \
            Socket._InstrumentedServer__handle_post_request  # type: ignore[attr-defined]
    finally:
        admin.uninstrument()
    assert inspect.isfunction(Socket.handle_post_request)


def test_async_socket_hooks_are_coroutines() -> None:
    async_socket = importlib.import_module('engineio.async_socket')
    for name in ('handle_get_request', 'handle_post_request', '_send_ping'):
        assert inspect.iscoroutinefunction(
            getattr(async_socket.AsyncSocket, name)), name
    # python-socketio's admin wraps it with a coroutine that awaits what it
    # returns: a coroutine (test_sio_admin runs that instrumentation).
    eio = engineio.AsyncServer(async_mode='asgi')
    socket = async_socket.AsyncSocket('x', 'websocket', eio.core.config.heartbeat,
                                      0.0, server=eio)
    run = socket._websocket_handler(None)
    assert inspect.iscoroutine(run)
    run.close()


def test_direct_websocket_session_counts_as_upgraded() -> None:
    # python-socketio's admin reads .upgraded for the transport it shows,
    # for pollingClientsCount and to decide whether to watch for an upgrade.
    sock = Socket('sid', 'websocket', Heartbeat(25, 20), 0.0)
    assert sock.upgraded


def test_flask_socketio_replaces_wsgi_app() -> None:
    flask = importlib.import_module('flask')
    flask_socketio = importlib.import_module('flask_socketio')
    from werkzeug.test import Client

    app = flask.Flask(__name__)

    @app.route('/hello')
    def hello() -> str:
        return 'hello'

    fsio = flask_socketio.SocketIO(app, async_mode='threading')
    assert fsio.async_mode == fsio.server.eio.async_mode == 'threading'
    seen: list[str] = []
    inner = fsio.sockio_mw.wsgi_app

    def wrapper(environ: dict[str, Any], start_response: Any) -> Any:
        # What Flask-SocketIO does with the debug middleware.
        seen.append(environ['PATH_INFO'])
        return inner(environ, start_response)

    fsio.sockio_mw.wsgi_app = wrapper
    client = Client(app)
    assert client.get('/hello').text == 'hello'
    assert seen == ['/hello']
    handshake = client.get('/socket.io/?EIO=4&transport=polling')
    assert handshake.status_code == 200 and handshake.text.startswith('0{')
    assert seen == ['/hello']


def test_flask_socketio_test_client() -> None:
    flask = importlib.import_module('flask')
    flask_socketio = importlib.import_module('flask_socketio')
    app = flask.Flask(__name__)
    fsio = flask_socketio.SocketIO(app, async_mode='threading')

    @fsio.on('echo')
    def echo(data: Any) -> Any:
        flask_socketio.emit('echoed', data)
        return data

    client = fsio.test_client(app)
    assert client.is_connected()
    # The test client switches the Engine.IO server to synchronous handlers.
    assert fsio.server.eio.async_handlers is False
    assert client.emit('echo', {'a': b'\x01'}, callback=True) == {'a': b'\x01'}
    assert client.get_received() == [
        {'name': 'echoed', 'args': [{'a': b'\x01'}], 'namespace': '/'}]
    client.disconnect()


def test_tornado_handler_where_python_socketio_imports_it() -> None:
    # socketio/tornado.py imports it from there and swallows ImportError,
    # so a missing module only shows later as "NoneType is not callable".
    from engineio.adapters.tornado import get_tornado_handler as ours
    from engineio.async_drivers.tornado import (
        get_tornado_handler,
    )
    assert get_tornado_handler is ours


def test_client_options_pass_through() -> None:
    # socketio.Client(**kwargs) hands every option it does not know to
    # engineio.Client, adding handle_sigint, logger and json.
    requests = importlib.import_module('requests')
    session = requests.Session()
    c = socketio.Client(handle_sigint=False, request_timeout=3,
                        http_session=session, ssl_verify=False,
                        websocket_extra_options={'timeout': 3},
                        timestamp_requests=False, engineio_logger=False)
    assert isinstance(c.eio, engineio.Client)
    assert c.eio.state == 'disconnected' and c.eio.sid is None
    assert set(c.eio.handlers) == {'connect', 'message', 'disconnect'}
    session.close()
    importlib.import_module('aiohttp')
    ac = socketio.AsyncClient(handle_sigint=False, request_timeout=3,
                              ssl_verify=False, websocket_extra_options={},
                              timestamp_requests=False)
    assert isinstance(ac.eio, engineio.AsyncClient)
    assert ac.eio.state == 'disconnected'
