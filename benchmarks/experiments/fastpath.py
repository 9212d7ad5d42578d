"""Candidate fast paths for this project, applied by monkey patching so
their effect can be measured before anything changes in src/.

    python benchmarks/codec/inproc_echo.py --patch NAME[,NAME...]
    python benchmarks/run.py --with-patches NAME[,NAME...]

Add a candidate as ``patch_<name>(server_cls)`` and register it in
``PATCHES``.  Patches are for this project only (python-engineio has none of
its methods) and are written against src/ as it is when they are measured.

Every candidate measured so far went into src/ and left this module
(docs/benchmarks.md says what each was worth): ``eager`` (a WebSocket
message handler's first step runs in the reader, no task per message),
``direct`` (``send`` writes in place), ``heap`` (closed sessions leave the
timer heap at once), ``release`` (an open WebSocket session lets go of its
request environ) and ``spawnraw`` (raw green threads for handler jobs,
since replaced by one parked worker per busy session).
"""
from __future__ import annotations

from typing import Any

PATCHES: dict[str, Any] = {}


def apply(names: str) -> list[str]:
    import engineio
    applied = []
    for name in filter(None, names.split(',')):
        if name not in PATCHES:
            raise SystemExit(f'unknown patch {name!r} (known: '
                             f'{", ".join(PATCHES) or "none"})')
        PATCHES[name](engineio.AsyncServer)
        applied.append(name)
    return applied
