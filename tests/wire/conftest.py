"""The ``served`` fixture: the echo app on one server mode (see modes.py).

When the test ends, the fixture checks the rule no test may break: every
session the server opened ends within ``ping_interval + ping_timeout`` (plus
a margin) after its client is gone, whatever that client did.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from .modes import Mode, Served, serve


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The echo app on the mode the test is parametrized with
    (``@pytest.mark.parametrize('served', MODES, indirect=True)``);
    a test may pass options with ``@pytest.mark.eio_options(...)``."""
    mode: Mode = request.param
    marker = request.node.get_closest_marker('eio_options')
    options = marker.kwargs if marker else {}
    s = serve(mode, options)
    try:
        yield s
        s.assert_sessions_end()
    finally:
        s.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers', 'eio_options(**options): server options for `served`')
