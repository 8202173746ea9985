"""A processor a test can hold shut in a *separate* server process.

``FifoGate`` (config type ``factflow_server_testgate:FifoGate``, with
``fifo: <path of a named pipe>``) holds every message until the test opens the
pipe for writing and closes it: a cross-process event, no polling.  Loaded by
the server under test through ``FACTFLOW_ALLOW_IMPORT_PATHS`` and ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict

_opened: dict[str, threading.Event] = {}
_lock = threading.Lock()


def _watch(path: str, released: threading.Event) -> None:
    with open(path, "rb") as pipe:  # blocks until the test opens the pipe to write
        pipe.read()  # returns when the test closes it
    released.set()


def _gate(path: str) -> threading.Event:
    with _lock:
        released = _opened.get(path)
        if released is None:
            released = _opened[path] = threading.Event()
            threading.Thread(target=_watch, args=(path, released), daemon=True).start()
    return released


class FifoGate:
    """Passes each payload on once the named pipe has been written and closed."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        fifo: str

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Any, ctx: Any) -> Any:
        released = _gate(self.options.fifo)
        if not released.is_set():
            await asyncio.to_thread(released.wait)
        return message.payload
