"""Fixtures of the python-socketio / Flask-SocketIO compatibility tests."""
from __future__ import annotations

import sys
from pathlib import Path

# The helpers of this folder (sio_support) import like the ones of tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent))
