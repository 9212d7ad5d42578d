from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import JS_DIR


@pytest.fixture(scope='session')
def node_peers() -> Path:
    """The npm test peers; CI installs them (.ci/run), a missing one fails."""
    assert shutil.which('node'), 'node is required for the peer tests'
    assert (JS_DIR / 'node_modules' / 'engine.io-client').is_dir(), \
        'run "npm ci" in tests/js first (.ci/run does it)'
    return JS_DIR
