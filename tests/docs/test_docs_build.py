"""The documentation builds with Sphinx, warnings as errors, as CI checks:
``sphinx-build -W -b html docs build/docs``."""
from __future__ import annotations

import subprocess
import sys

from support import ROOT


def test_docs_build_without_warnings() -> None:
    out_dir = ROOT / 'build' / 'docs'
    out = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-E',
         '-b', 'html', str(ROOT / 'docs'), str(out_dir)],
        capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    assert out.returncode == 0, (
        'sphinx-build -W failed (is sphinx + myst-parser installed? '
        'pip install -e ".[docs]"):\n' + out.stdout[-5000:] + out.stderr[-5000:])
    for page in ('index', 'getting-started', 'server', 'client', 'options',
                 'deployment', 'scaling', 'limits', 'api', 'design',
                 'benchmarks', 'changelog'):
        assert (out_dir / f'{page}.html').is_file(), f'{page}.html not built'
    api = (out_dir / 'api.html').read_text(encoding='utf-8')
    for name in ('engineio.Server', 'engineio.AsyncServer', 'engineio.Client',
                 'engineio.AsyncClient', 'engineio.WSGIApp', 'engineio.ASGIApp',
                 'engineio.Middleware', 'engineio.exceptions.EngineIOError'):
        assert f'id="{name}"' in api, f'{name} missing from the API reference'


# Defaults the options page words differently from their ``repr``.
WORDED_DEFAULTS = {'monitor_clients', 'transports', 'engineio_app',
                   'engineio_server'}


def option_rows(section: str) -> dict[str, str]:
    """The ``| `name` | default | meaning |`` rows of one section of
    docs/options.md, as name -> default cell."""
    text = (ROOT / 'docs' / 'options.md').read_text(encoding='utf-8')
    parts = text.split('\n## ')
    body = next(p for p in parts if p.startswith(section + '\n'))
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.split('|')]
        if len(cells) > 3 and cells[1].startswith('`'):
            rows[cells[1].strip('`')] = cells[2]
    return rows


def test_options_page_lists_every_constructor_argument() -> None:
    import inspect

    import engineio
    from engineio.base_server import BaseServer
    from engineio.client import BaseClient

    for section, cls in (('Server options', BaseServer),
                         ('Client options', BaseClient),
                         ('WSGIApp options', engineio.WSGIApp),
                         ('ASGIApp options', engineio.ASGIApp)):
        rows = option_rows(section)
        params = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name != 'self' and p.kind not in (p.VAR_POSITIONAL,
                                                         p.VAR_KEYWORD)]
        for p in params:
            assert p.name in rows, \
                f'docs/options.md, "{section}": no row for {p.name!r}'
            if p.name in WORDED_DEFAULTS or p.default is p.empty:
                continue
            assert repr(p.default) in rows[p.name].replace('`', ''), (
                f'docs/options.md, "{section}": {p.name} defaults to '
                f'{p.default!r}, the page says {rows[p.name]!r}')
