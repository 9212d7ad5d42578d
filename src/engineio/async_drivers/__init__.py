"""Compatibility modules for code that imports framework helpers from
``engineio.async_drivers.<name>`` (python-socketio, Flask-SocketIO, older
applications).  The real adapters live in :mod:`engineio.adapters`."""
