"""Identifiers: time-ordered UUIDv7 strings.

Execution and message ids sort by creation time, which keeps the list view's
``(created_at DESC, id)`` index and cursor pagination cheap.  The first 12 hex
digits are the millisecond timestamp, so a prefix typed by a human needs about
13 characters to single out one of several runs started close together.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["new_id"]

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
