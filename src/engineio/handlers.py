"""What servers and clients share to register and call event handlers:
the ``on()`` method, the ``logger`` and ``json`` options."""
from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from . import packet

#: A handler; decorating it with ``on()`` keeps its type.
HandlerT = TypeVar('HandlerT', bound=Callable[..., Any])


def make_logger(logger: Any, default: logging.Logger) -> logging.Logger:
    """Resolve the ``logger`` option into a :class:`logging.Logger`."""
    if logger is not None and not isinstance(logger, bool):
        return logger  # type: ignore[no-any-return]
    if logger:
        if default.level == logging.NOTSET:
            default.setLevel(logging.INFO)
        if not logging.root.handlers and not default.handlers:
            default.addHandler(logging.StreamHandler())
    elif default.level == logging.NOTSET:
        # Errors are logged even when logging is off.
        default.setLevel(logging.ERROR)
    return default


def accepts_reason(handler: Callable[..., Any], fixed_args: int) -> bool:
    """Whether a disconnect handler takes the reason after ``fixed_args``."""
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional > fixed_args


class EventHandlers:
    """Handler registration for servers and clients."""

    event_names: list[str] = ['connect', 'disconnect', 'message']
    #: Arguments a disconnect handler gets before the reason (the sid on a
    #: server, none on a client).
    _disconnect_fixed_args = 0

    def _setup_handlers(self, logger: Any, json: Any,
                        default_logger: logging.Logger) -> None:
        self.handlers: dict[str, Callable[..., Any]] = {}
        self._disconnect_takes_reason = True
        if json is not None:
            packet.set_json(json)
        self.logger = make_logger(logger, default_logger)

    @overload
    def on(self, event: str, handler: None = None
           ) -> Callable[[HandlerT], HandlerT]: ...
    @overload
    def on(self, event: str, handler: Callable[..., Any]) -> None: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None
           ) -> Callable[[HandlerT], HandlerT] | None:
        """Register an event handler.

        :param event: The event name: ``'connect'``, ``'message'`` or
                      ``'disconnect'`` (and ``'connection_error'`` on a
                      server).
        :param handler: The function that should be invoked to handle the
                        event. When this parameter is not given, the method
                        acts as a decorator for the handler function.

        Example usage::

            # as a decorator:
            @eio.on('connect')
            def connect_handler(sid, environ):
                print('Connection request')
                if environ['REMOTE_ADDR'] in blacklisted:
                    return False  # reject

            # as a method:
            def message_handler(sid, msg):
                print('Received message: ', msg)
                eio.send(sid, 'response')
            eio.on('message', message_handler)

        On a server, handlers receive the ``sid`` (session ID) of the client
        as first argument. The ``'connect'`` handler receives the WSGI
        environment (or the ASGI scope, or the framework request) as a
        second argument and can return ``False`` to reject the connection.
        The ``'message'`` handler receives the message payload as a second
        argument.

        On a client there is no ``sid`` argument: ``'connect'`` takes no
        arguments (raising an exception in it makes ``connect()`` fail) and
        ``'message'`` receives the message.

        The ``'disconnect'`` handler receives the reason (one of the
        :attr:`reason` strings) as its last argument, if it accepts one.
        """
        if event not in self.event_names:
            raise ValueError('Invalid event')

        def set_handler(handler: HandlerT) -> HandlerT:
            self.handlers[event] = handler
            if event == 'disconnect':
                # Inspected once here rather than by trial and error on
                # every call (a TypeError inside the handler must surface).
                self._disconnect_takes_reason = accepts_reason(
                    handler, self._disconnect_fixed_args)
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)
        return None
