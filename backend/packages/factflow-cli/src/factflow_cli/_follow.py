"""Following an execution live: its SSE stream drawn as per-route progress bars.

A reader thread consumes the event stream (resuming with ``Last-Event-ID``
after a drop) and hands events to the main thread through a queue, so the main
thread can enforce ``--timeout`` and take Ctrl-C at any moment.  On a terminal
the display is a Rich ``Live`` of one bar per route (settled of received) with
counters; elsewhere (a pipe, CI logs) it is one line per notable event.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.text import Text

from factflow_cli._client import TERMINAL_STATUSES
from factflow_cli._errors import CliError
from factflow_cli._render import event_line, status_text
from factflow_cli._sse import ServerSentEvent

__all__ = ["FollowOutcome", "OpenStream", "TimedStream", "follow_events"]

#: Opens an event stream, given the callback to tell about reconnections.
OpenStream = Callable[[Callable[[str, int], None]], Iterator[ServerSentEvent]]

MAX_FAILURES_KEPT = 5
#: Failures printed as lines when the output is not a terminal.
LINES_FOR_FAILURES = 3


@dataclass
class FollowOutcome:
    """How following ended: the last status seen, and whether it was terminal."""

    status: str
    terminal: bool
    timed_out: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)
    storage_objects: int = 0
    last_seq: int = 0


class _Reader(threading.Thread):
    """Pulls events off the stream into a queue: ``(kind, payload)`` items."""

    def __init__(self, events: OpenStream) -> None:
        super().__init__(name="factflow-sse", daemon=True)
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._events = events

    def run(self) -> None:
        try:
            for event in self._events(self._reconnecting):
                self.items.put(("event", event))
        except CliError as exc:
            self.items.put(("error", exc))
        except Exception as exc:  # the stream died in an unforeseen way: report, never hang
            self.items.put(("error", CliError(f"event stream failed: {exc}")))
        self.items.put(("end", None))

    def _reconnecting(self, reason: str, attempt: int) -> None:
        self.items.put(("reconnect", (reason, attempt)))


class TimedStream:
    """Iterate an event stream until it ends or ``timeout`` seconds pass.

    The stream is read on a thread, so the deadline holds even while the server
    sends nothing but heartbeats, and Ctrl-C reaches the caller at once.  After
    iterating, ``timed_out`` tells which way it ended.
    """

    def __init__(
        self,
        events: OpenStream,
        timeout: float | None,
        on_reconnect: Callable[[str, int], None] | None = None,
    ) -> None:
        self._events = events
        self._timeout = timeout
        self._on_reconnect = on_reconnect
        self.timed_out = False

    def __iter__(self) -> Iterator[ServerSentEvent]:
        reader = _Reader(self._events)
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        reader.start()
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self.timed_out = True
                return
            try:
                kind, payload = reader.items.get(timeout=remaining)
            except queue.Empty:
                self.timed_out = True
                return
            if kind == "error":
                raise payload
            if kind == "end":
                return
            if kind == "reconnect":
                if self._on_reconnect is not None:
                    self._on_reconnect(*payload)
                continue
            yield payload


class _Display:
    """What the follower shows; ``live`` for terminals, ``lines`` otherwise."""

    def __init__(self, console: Console, execution_id: str, *, quiet: bool) -> None:
        self.console = console
        self.execution_id = execution_id
        self.quiet = quiet
        self.status = "pending"
        self.totals: dict[str, Any] = {}
        self.failed_events = 0
        self.storage_objects = 0
        self.started = time.monotonic()
        self.interactive = console.is_terminal and not quiet
        self.progress = Progress(
            TextColumn("[bold]{task.fields[route]:<14}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            console=console,
            auto_refresh=False,
            expand=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.live: Live | None = None

    def __enter__(self) -> _Display:
        if self.interactive:
            self.live = Live(self, console=self.console, refresh_per_second=8, transient=True)
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.stop()

    def __rich__(self) -> Group:
        header = Text()
        header.append("● ", style="cyan" if self.status == "running" else "")
        header.append(status_text(self.status))
        header.append(f"  {self.execution_id}", style="dim")
        header.append(f"  {time.monotonic() - self.started:.1f}s")
        if self.totals:
            header.append(f"  processed {self.totals.get('processed', 0)}", style="green")
            failed = self.totals.get("failed", 0)
            header.append(f"  failed {failed}", style="red" if failed else "")
        header.append(f"  stored {self.storage_objects}")
        return Group(header, self.progress)

    def _route(self, name: str) -> TaskID:
        task = self.tasks.get(name)
        if task is None:
            task = self.tasks[name] = self.progress.add_task("", total=None, route=name, counts="")
        return task

    def _counts(self, name: str, counts: Mapping[str, Any], *, drained: bool = False) -> None:
        received = int(counts.get("received", 0))
        settled = received - int(counts.get("in_flight", 0))
        text = "  ".join(
            f"{label} {counts.get(key, 0)}"
            for key, label in (
                ("processed", "ok"),
                ("failed", "failed"),
                ("filtered", "filtered"),
                ("in_flight", "in flight"),
                ("emitted", "out"),
            )
            if key in counts or key != "emitted"
        )
        if drained:
            text += "  ✓ drained"
        self.progress.update(
            self._route(name), completed=settled, total=received or None, counts=text
        )

    def handle(self, event: Mapping[str, Any]) -> None:
        kind = event.get("kind")
        data = event.get("data") or {}
        if kind == "status":
            self.status = str(data.get("status"))
            if data.get("queued"):  # waiting for a slot: say so, not just "pending"
                self.status = "pending (queued)"
        elif kind == "progress":
            self.totals = dict(data.get("totals") or {})
            drained = set(data.get("drained_routes") or [])
            for name, counts in (data.get("routes") or {}).items():
                self._counts(name, counts, drained=name in drained)
        elif kind == "route.started":
            self._route(str(data.get("route")))
        elif kind == "route.drained":
            self._counts(str(data.get("route")), data.get("counts") or {}, drained=True)
        elif kind == "message.failed":
            self.failed_events += 1
        elif kind == "storage.written":
            self.storage_objects += 1
        if self.live is not None:
            self.live.refresh()
        elif not self.quiet and kind not in ("progress", "storage.written"):
            self._line(event, kind)

    def _line(self, event: Mapping[str, Any], kind: Any) -> None:
        """Plain output (a pipe, CI logs): milestones and the first few failures."""
        if kind == "message.failed":
            if self.failed_events > LINES_FOR_FAILURES:
                return
            if self.failed_events == LINES_FOR_FAILURES:
                self.console.print(Text("… more failures: see the summary", style="dim"))
                return
        self.console.print(event_line(event))

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(Text(message, style="yellow"))


def follow_events(
    events: OpenStream,
    *,
    execution_id: str,
    console: Console,
    timeout: float | None,
    quiet: bool = False,
) -> FollowOutcome:
    """Follow until the terminal status event, ``timeout`` seconds, or Ctrl-C.

    ``events(on_reconnect)`` opens the stream.  Ctrl-C propagates as
    ``KeyboardInterrupt`` after the display is torn down.
    """
    outcome = FollowOutcome(status="pending", terminal=False)
    with _Display(console, execution_id, quiet=quiet) as display:

        def reconnecting(reason: str, attempt: int) -> None:
            display.note(
                f"connection lost ({reason}); resuming after event {outcome.last_seq} "
                f"(attempt {attempt})"
            )

        stream = TimedStream(events, timeout, reconnecting)
        for event in stream:
            body = event.json()
            outcome.last_seq = int(body.get("seq") or outcome.last_seq)
            display.handle(body)
            data = body.get("data") or {}
            if body.get("kind") == "message.failed" and len(outcome.failures) < MAX_FAILURES_KEPT:
                outcome.failures.append(dict(data))
            if body.get("kind") == "status":
                outcome.status = str(data.get("status"))
                if outcome.status in TERMINAL_STATUSES:
                    outcome.terminal = True
                    break
        outcome.timed_out = stream.timed_out
        outcome.storage_objects = display.storage_objects
    return outcome
