"""A parser for ``text/event-stream`` (the WHATWG server-sent events format).

Pure and incremental: feed it lines, get ``ServerSentEvent``\\ s out when a
blank line ends one.  Comment lines (heartbeats) produce nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ServerSentEvent", "SseParser"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: its ``id:`` (cursor), ``event:`` name and ``data:`` text."""

    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class SseParser:
    """Accumulates fields until a blank line dispatches the event."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its end-of-line); return an event when one completes."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            id=self._id if self._id is not None else self.last_event_id,
            event=self._event or "message",
            data="\n".join(self._data),
        )
        self._data = []
        self._event = ""
        self._id = None
        return event
