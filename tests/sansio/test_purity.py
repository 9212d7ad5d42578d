"""Design rule 1: the protocol core does no I/O, threads, asyncio or clock."""
from __future__ import annotations

import ast
from pathlib import Path

import engineio

PKG = Path(engineio.__file__).parent
FORBIDDEN = {'asyncio', 'threading', 'socket', 'time', 'queue', 'select',
             'selectors', 'subprocess', 'aiohttp', 'tornado', 'sanic',
             'werkzeug', 'eventlet', 'gevent', 'requests', 'websocket',
             'wsproto', 'uvicorn', 'random', 'secrets', 'os', 'multiprocessing'}


def core_files():
    yield PKG / 'packet.py'
    yield PKG / 'payload.py'
    yield from sorted((PKG / 'sansio').glob('*.py'))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split('.')[0])
    return roots


def test_core_modules_import_nothing_that_does_io():
    files = list(core_files())
    assert len(files) >= 6
    for path in files:
        bad = imported_roots(path) & FORBIDDEN
        assert not bad, f'{path.name} imports {sorted(bad)}'
