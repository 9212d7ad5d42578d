"""The public API as users, IDEs and type checkers see it: the servers'
signatures against the options table (engineio.options) and
docs/options.md, the generated docstrings, the option attributes as views
of the configuration, the facade module, and mypy --strict over the README
and the examples."""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client as WSGIClient

import engineio
from engineio.base_server import BaseServer
from engineio.options import OPTIONS_BY_NAME, SERVER_OPTIONS

from support import ROOT

SERVERS = [(engineio.Server, 'threading'), (engineio.AsyncServer, 'asgi')]
NAMES = [o.name for o in SERVER_OPTIONS]


# -- signatures, table, docs -----------------------------------------------
@pytest.mark.parametrize('cls', [engineio.Server, engineio.AsyncServer])
def test_signature_is_the_table(cls: type[Any]) -> None:
    params = list(inspect.signature(cls).parameters.values())
    assert params[-1].kind is inspect.Parameter.VAR_KEYWORD, \
        'extra keyword arguments (python-socketio passes them) must stay'
    params = params[:-1]
    assert [p.name for p in params] == NAMES
    for p, option in zip(params, SERVER_OPTIONS, strict=True):
        assert p.default == option.default and \
            type(p.default) is type(option.default), p.name
        assert p.annotation == option.annotation, p.name
        kind = (inspect.Parameter.KEYWORD_ONLY if option.keyword_only
                else inspect.Parameter.POSITIONAL_OR_KEYWORD)
        assert p.kind is kind, p.name
    # Written once: the drivers do not override the constructor.
    assert '__init__' not in vars(cls)


def test_seed_signature_is_a_prefix() -> None:
    # The reference's positional parameters, in its order, then extensions.
    seed = (ROOT.parent / 'shared' / 'seeds' / '000_6fc75d4bb8577208.txt')
    # ../shared is always beside the checkout (CI too): its absence is a
    # broken setup, not a reason to pass.
    assert seed.is_file(), f'the reference documents are missing: {seed}'
    first = seed.read_text(encoding='utf-8').splitlines()[0]
    args = re.search(r'\((.*)\)', first).group(1).split(', ')  # type: ignore[union-attr]
    seed_params = [a.split('=') for a in args if not a.startswith('**')]
    positional = [o for o in SERVER_OPTIONS if not o.keyword_only]
    assert [(o.name, repr(o.default)) for o in positional] == \
        [(name, default) for name, default in seed_params]


def options_page_rows(section: str) -> list[tuple[str, str]]:
    text = (ROOT / 'docs' / 'options.md').read_text(encoding='utf-8')
    body = next(p for p in text.split('\n## ') if p.startswith(section + '\n'))
    body = body.split('\n### ')[0]
    rows = []
    for line in body.splitlines():
        cells = [c.strip() for c in line.split('|')]
        if len(cells) > 3 and cells[1].startswith('`'):
            rows.append((cells[1].strip('`'), cells[2]))
    return rows


def test_options_page_is_the_table() -> None:
    rows = options_page_rows('Server options')
    assert [name for name, _ in rows] == NAMES, \
        'docs/options.md lists the server options in the signature order'
    for name, cell in rows:
        # The first literal of the default cell is the default's repr; any
        # words after it say what it means.
        literal = re.match(r'`([^`]*)`', cell)
        assert literal, f'docs/options.md: {name}: no default in {cell!r}'
        assert literal.group(1) == repr(OPTIONS_BY_NAME[name].default), name


@pytest.mark.parametrize('cls', [engineio.Server, engineio.AsyncServer])
def test_docstring_is_rendered_from_the_table(cls: type[Any]) -> None:
    doc = inspect.getdoc(cls)
    assert doc is not None and '.. options:' not in doc
    documented = re.findall(r'^:param (\w+):', doc, re.MULTILINE)
    assert documented == [*NAMES, 'kwargs']
    asyncio_based = cls is engineio.AsyncServer
    for option in SERVER_OPTIONS:
        words = option.text(asyncio_based).split()[:8]
        assert ' '.join(words) in ' '.join(doc.split()), option.name
    assert ('"aiohttp"' in doc) is asyncio_based


def test_public_classes_show_their_parameters() -> None:
    for name in engineio.__all__:
        obj = getattr(engineio, name)
        if not callable(obj):
            continue
        params = inspect.signature(obj).parameters.values()
        named = [p for p in params
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        assert named, f'engineio.{name} shows no parameters'
        assert all(p.annotation is not p.empty for p in named), name


# -- the facade module -----------------------------------------------------
def test_all_and_dir() -> None:
    assert sorted(engineio.__all__) == sorted([
        'ASGIApp', 'AsyncClient', 'AsyncServer', 'Client', 'Middleware',
        'Server', 'WSGIApp', '__version__', 'get_tornado_handler'])
    for name in engineio.__all__:
        assert name in dir(engineio)
        assert getattr(engineio, name) is not None or \
            name == 'get_tornado_handler'
    with pytest.raises(AttributeError):
        engineio.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_import_stays_lazy() -> None:
    code = ('import json, sys, engineio; print(json.dumps(sorted(m for m in '
            'sys.modules if '
            'm.split(".")[0] in {"aiohttp", "requests", "websocket", '
            '"tornado", "sanic", "asyncio"} or m in {"engineio.client", '
            '"engineio.async_server", "engineio.async_client"})))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=60, check=True)
    # asyncio may come with the standard library's own imports; the rest
    # must wait for first use.
    loaded = [m for m in json.loads(out.stdout)
              if not m.startswith('asyncio')]
    assert loaded == []


# -- option attributes are views of the configuration ----------------------
def open_packet(eio: Any, origin: str | None = None
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Do a polling handshake through the server's own request handling:
    (status, open packet or error, response headers in lower case)."""
    headers = {'Origin': origin} if origin else {}
    if eio.is_asyncio_based():
        status, body, hdrs = asyncio.run(asgi_get(eio, headers))
    else:
        r = WSGIClient(engineio.WSGIApp(eio)).get(
            '/engine.io/?EIO=4&transport=polling', headers=headers)
        status, body, hdrs = r.status_code, r.data, {
            k.lower(): v for k, v in r.headers.items()}
    # An open packet, or the error of a refusal.
    packet = json.loads(body.decode()[1:] if status == 200 else body)
    return status, packet, hdrs


async def asgi_get(eio: Any, headers: dict[str, str]
                   ) -> tuple[int, bytes, dict[str, str]]:
    app = engineio.ASGIApp(eio)
    scope = {'type': 'http', 'method': 'GET', 'path': '/engine.io/',
             'query_string': b'EIO=4&transport=polling', 'scheme': 'http',
             'headers': [(b'host', b'localhost')] + [
                 (k.lower().encode(), v.encode()) for k, v in headers.items()],
             'server': ('localhost', 80), 'client': ('127.0.0.1', 5555)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {'type': 'http.request', 'body': b'', 'more_body': False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    await eio.shutdown()
    start = sent[0]
    body = b''.join(m.get('body', b'') for m in sent[1:])
    return (start['status'], body,
            {k.decode().lower(): v.decode() for k, v in start['headers']})


@pytest.fixture(params=SERVERS, ids=['Server', 'AsyncServer'])
def make(request: pytest.FixtureRequest) -> Any:
    cls, mode = request.param
    made = []

    def make(**options: Any) -> Any:
        eio = cls(async_mode=mode, **options)
        made.append(eio)
        return eio
    yield make
    for eio in made:
        if not eio.is_asyncio_based():
            eio.shutdown()


def test_every_option_is_an_attribute(make: Any) -> None:
    eio = make()
    for option in SERVER_OPTIONS:
        if option.name == 'logger':
            assert isinstance(eio.logger, logging.Logger)
            continue
        value = getattr(eio, option.name)
        expected = option.check(option.default)
        if option.name == 'async_mode':
            expected = 'threading' if not eio.is_asyncio_based() else 'asgi'
        assert value == expected, option.name
    # Each is a descriptor of the class: none can be shadowed by a plain
    # instance attribute that the core would not see.
    for name in NAMES:
        descriptor = vars(BaseServer)[name]
        assert hasattr(type(descriptor), '__set__'), name


@pytest.mark.parametrize('name', ['async_mode', 'json'])
def test_fixed_options_refuse_changes(make: Any, name: str) -> None:
    eio = make()
    before = getattr(eio, name)
    with pytest.raises(AttributeError, match=f'{name} cannot change'):
        setattr(eio, name, None)
    assert getattr(eio, name) == before


def test_timings_reach_the_open_packet(make: Any) -> None:
    eio = make()
    old_heartbeat = eio.config.heartbeat
    eio.ping_interval = 7
    eio.ping_timeout = 3
    eio.max_http_buffer_size = 123
    _, packet, _ = open_packet(eio)
    assert (packet['pingInterval'], packet['pingTimeout'],
            packet['maxPayload']) == (7000, 3000, 123)
    assert (eio.ping_interval, eio.ping_timeout,
            eio.max_http_buffer_size) == (7, 3, 123)
    # New sessions get the new timings; open ones keep what their clients
    # were told.
    assert old_heartbeat.interval == 25
    assert eio.config.heartbeat.interval == 7
    eio.ping_interval = (10, 5)
    _, packet, _ = open_packet(eio)
    assert packet['pingInterval'] == 10000 and packet['pingTimeout'] == 3000
    assert eio.config.heartbeat.timeout == 8


def test_upgrades_and_transports(make: Any) -> None:
    eio = make()
    eio.allow_upgrades = False
    assert open_packet(eio)[1]['upgrades'] == []
    eio.allow_upgrades = True
    assert open_packet(eio)[1]['upgrades'] == ['websocket']
    eio.transports = ['polling']
    assert open_packet(eio)[1]['upgrades'] == []
    assert eio.transports == ['polling']
    eio.transports.append('websocket')  # a copy: changes nothing
    assert eio.transports == ['polling']
    eio.transports = ['websocket']
    # Polling is no longer accepted.
    assert open_packet(eio)[1] == {'code': 0, 'message': 'Transport unknown'}
    with pytest.raises(ValueError, match='carrier'):
        eio.transports = ['carrier-pigeon']
    assert eio.transports == ['websocket']
    assert eio.config.transports == ('websocket',)


def test_cors_and_cookie(make: Any) -> None:
    eio = make()
    forbidden = {'code': 4, 'message': 'Forbidden'}
    assert open_packet(eio, 'https://a.example')[1] == forbidden
    eio.cors_allowed_origins = 'https://a.example'
    status, _, headers = open_packet(eio, 'https://a.example')
    assert status == 200
    assert headers['access-control-allow-origin'] == 'https://a.example'
    assert headers['access-control-allow-credentials'] == 'true'
    eio.cors_credentials = False
    _, _, headers = open_packet(eio, 'https://a.example')
    assert 'access-control-allow-credentials' not in headers
    eio.cors_allowed_origins = ['https://b.example']
    assert open_packet(eio, 'https://a.example')[1] == forbidden
    eio.cookie = 'io'
    status, packet, headers = open_packet(eio)
    assert headers['set-cookie'].startswith(f'io={packet["sid"]}')
    eio.cookie = None
    assert 'set-cookie' not in open_packet(eio)[2]
    with pytest.raises(ValueError, match='cookie'):
        eio.cookie = {'path': '/'}
    with pytest.raises(ValueError, match='cors_allowed_origins'):
        eio.cors_allowed_origins = 42


def test_initial_packet_and_config_options(make: Any) -> None:
    eio = make()
    eio.initial_packet = {'hello': 1}
    assert eio.config.initial_frame == '4{"hello":1}'
    eio.http_compression = False
    eio.compression_threshold = 10
    eio.allow_eio3 = True
    eio.monitor_clients = False
    eio.max_outgoing_buffer_size = 1000
    eio.websocket_compression = {'threshold': 5}
    c = eio.config
    assert (c.http_compression, c.compression_threshold, c.allow_eio3,
            c.heartbeat.enforce, c.heartbeat.buffer_limit,
            c.websocket_compression) == (False, 10, True, False, 1000, 5)
    assert (eio.http_compression, eio.compression_threshold, eio.allow_eio3,
            eio.monitor_clients, eio.max_outgoing_buffer_size,
            eio.websocket_compression) == (False, 10, True, False, 1000,
                                           {'threshold': 5})


def test_driver_options(make: Any) -> None:
    eio = make()
    eio.async_handlers = False
    assert eio.async_handlers is False
    eio.allow_request = lambda environ: False
    assert open_packet(eio)[:2] == (403, {'code': 4, 'message': 'Forbidden'})
    eio.allow_request = None
    assert open_packet(eio)[0] == 200
    eio.logger = True
    assert eio.logger is logging.getLogger('engineio.server')
    mine = logging.getLogger('mine')
    eio.logger = mine
    assert eio.logger is mine


@pytest.mark.parametrize('name, value', [
    ('ping_interval', 0), ('ping_interval', 'soon'), ('ping_interval', (1,)),
    ('ping_timeout', -1), ('max_http_buffer_size', None),
    ('compression_threshold', -1), ('max_outgoing_buffer_size', 0),
    ('allow_request', 'yes'), ('initial_packet', 3.5),
    ('websocket_compression', {'level': 9}), ('transports', []),
])
def test_bad_values_are_refused(make: Any, name: str, value: Any) -> None:
    eio = make()
    before, config = getattr(eio, name), dict(vars(eio.config))
    with pytest.raises(ValueError, match=name.split('_')[0].rstrip('s')):
        setattr(eio, name, value)
    assert getattr(eio, name) == before
    assert vars(eio.config) == config
    with pytest.raises(ValueError):
        type(eio)(async_mode=eio.async_mode, **{name: value})


# -- what type checkers see ------------------------------------------------
MYPY_CONFIG = """\
[mypy]
strict = True
python_version = 3.10
# Third-party modules without type information are Any: the examples are
# checked for their use of engineio.
[mypy-eventlet.*,gevent.*,geventwebsocket.*]
ignore_missing_imports = True
"""

TYPED_USE = '''
from typing import Any
import engineio

eio = engineio.Server(async_mode='threading', ping_interval=(25, 5),
                      cors_allowed_origins=['https://a.example'],
                      max_outgoing_buffer_size=None)
aeio = engineio.AsyncServer(async_mode='asgi', transports=['websocket'])
app = engineio.ASGIApp(aeio)
client: engineio.Client = engineio.Client()
aclient: engineio.AsyncClient = engineio.AsyncClient()

@eio.on('message')
def message(sid: str, data: Any) -> None:
    eio.send(sid, data)

@aeio.on('message')
async def amessage(sid: str, data: Any) -> None:
    await aeio.send(sid, data)

def later() -> None:
    message('sid', 'x')           # the decorated function keeps its type
    eio.ping_interval = 10
    size: int = eio.max_http_buffer_size
    transports: list[str] = aeio.transports
    mode: str = eio.async_mode
'''


def readme_blocks() -> list[str]:
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    return re.findall(r'^```python\n(.*?)^```', text, re.MULTILINE | re.DOTALL)


def test_mypy_strict_over_readme_and_examples(tmp_path: Path) -> None:
    import mypy.api as mypy_api  # a dev dependency: CI installs it
    config = tmp_path / 'mypy.ini'
    config.write_text(MYPY_CONFIG)
    files = sorted(str(p) for p in (ROOT / 'examples').rglob('*.py'))
    blocks = readme_blocks()
    assert blocks, 'README.md has Python examples'
    for i, block in enumerate(blocks):
        path = tmp_path / f'readme_{i}.py'
        path.write_text(block)
        files.append(str(path))
    typed = tmp_path / 'typed_use.py'
    typed.write_text(textwrap.dedent(TYPED_USE))
    files.append(str(typed))
    stdout, stderr, status = mypy_api.run([
        '--config-file', str(config),
        # A cache of its own: about 5 s cold, and no interference with
        # other mypy runs over the same tree.
        '--cache-dir', str(tmp_path / 'cache'),
        '--no-error-summary', *files])
    assert status == 0, stdout + stderr
    # A misuse is caught, so the check above is not vacuous.
    bad = tmp_path / 'bad.py'
    bad.write_text('import engineio\n'
                   "eio = engineio.Server(ping_interval='soon')\n"
                   "eio.async_mode = 'eventlet'\n")
    stdout, _, status = mypy_api.run([
        '--config-file', str(config), '--cache-dir',
        str(tmp_path / 'cache'), str(bad)])
    assert status == 1
    assert 'bad.py:2' in stdout and 'bad.py:3' in stdout
