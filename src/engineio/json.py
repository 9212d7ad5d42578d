"""The JSON module used to encode and decode packets.

The ``json`` option of the servers and clients replaces it process-wide; the
module given must offer ``dumps`` and ``loads`` compatible with the standard
library ones.
"""
from __future__ import annotations

import json as _stdlib_json
from typing import Any

JSONDecodeError = ValueError


_COMPACT = (',', ':')
# json.dumps builds a new encoder for every call that passes separators;
# the compact one the packets use is built once.
_compact_encode = _stdlib_json.JSONEncoder(separators=_COMPACT).encode


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialize ``obj`` to a compact JSON string."""
    if not kwargs or (len(kwargs) == 1 and kwargs.get('separators') == _COMPACT):
        return _compact_encode(obj)
    kwargs.setdefault('separators', _COMPACT)
    return _stdlib_json.dumps(obj, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Deserialize a JSON document."""
    return _stdlib_json.loads(s, **kwargs)
