"""pip must keep this package when python-socketio and Flask-SocketIO are
installed next to it: their requirement on ``python-engineio`` has to be
satisfied by our version, or pip would replace us with the PyPI one."""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

from packaging.requirements import Requirement

import engineio

importlib.import_module('socketio')

SRC = Path(__file__).resolve().parents[2] / 'src'


def test_installed_distribution_is_this_package() -> None:
    assert importlib.metadata.version('python-engineio') == engineio.__version__
    assert Path(engineio.__file__).resolve().is_relative_to(SRC.resolve()), \
        f'engineio imported from {engineio.__file__}, not from {SRC}'


def requirement_on(dist: str, name: str) -> Requirement:
    for text in importlib.metadata.requires(dist) or []:
        req = Requirement(text)
        if req.name.lower() == name and not req.marker:
            return req
    raise AssertionError(f'{dist} does not require {name}')


def test_python_socketio_requirement_is_met() -> None:
    req = requirement_on('python-socketio', 'python-engineio')
    assert req.specifier.contains(engineio.__version__), \
        f'python-socketio wants {req}, we are {engineio.__version__}'


def test_flask_socketio_requirement_is_met() -> None:
    importlib.import_module('flask_socketio')
    req = requirement_on('flask-socketio', 'python-socketio')
    socketio_version = importlib.metadata.version('python-socketio')
    assert req.specifier.contains(socketio_version)
