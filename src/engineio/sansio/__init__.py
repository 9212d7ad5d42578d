"""The Engine.IO protocol core: pure code, no I/O.

Nothing in this package opens a socket, starts a thread, awaits, sleeps or
reads a clock.  Drivers pass the current time in and perform what the core
decides (see ``docs/design.md``).
"""
