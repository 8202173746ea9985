"""Identifiers: time-ordered UUIDv7 strings, and name-derived UUIDv5 ones.

Execution and message ids sort by creation time, which keeps the list view's
``(created_at DESC, id)`` index and cursor pagination cheap.  The first 12 hex
digits are the millisecond timestamp, so a prefix typed by a human needs about
13 characters to single out one of several runs started close together.
"""

from __future__ import annotations

import os
import threading
import time

import uuid_utils

__all__ = ["derived_id", "new_id"]

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """Return a new UUIDv7 (RFC 9562) as a lower-case hyphenated string.

    Ids made in one process are strictly increasing: within one millisecond a
    12-bit counter (seeded randomly) orders them, as RFC 9562 §6.2 method 1.
    """
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        else:
            _counter += 1
            if _counter > 0xFFF:
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def derived_id(namespace: str, name: str) -> str:
    """The UUIDv5 (RFC 9562) of ``name`` in the namespace of the id ``namespace``.

    The same inputs always give the same id.  The engine names messages this
    way (a root by its run's namespace, source route and position; a child by
    its parent's id, output index and target route), so a resumed run that
    regenerates part of a pipeline gives each message the id it had before.

    A ``namespace`` that is not a UUID string is first turned into one (its
    own UUIDv5 under the RFC's OID namespace), so any stable string works.
    """
    try:
        space = uuid_utils.UUID(namespace)
    except ValueError:
        space = uuid_utils.uuid5(uuid_utils.NAMESPACE_OID, namespace)
    return str(uuid_utils.uuid5(space, name))
