"""Run logs: what processors and adapters log, captured per execution and per message.

Two ways in, one context variable:

* ``ctx.logger`` is a ``RunLogger`` (one per route): a record at
  ``CAPTURE_LEVEL`` (INFO) or above goes to the run's ``RunLogSink`` whatever
  the server's own log level, and on to the server log only when that level
  lets it through - the run's log does not depend on how the operator set up
  stderr.
* Any other logger (a plugin's ``logging.getLogger(__name__)``, a library)
  logging while a processor or adapter of a run is being called is caught by
  ``RunLogCapture``, a handler on the root logger, at whatever level that
  logger is enabled for.

Both learn the message from ``current_scope``, a context variable the worker
sets around each attempt at a message (and the feeder for its adapter's
whole life).  Tasks a processor starts inherit it, so their records are
attributed to the message too; nothing outside a run's calls is captured.
The sink takes each record without blocking (see ``RunLogSink``).
"""

from __future__ import annotations

import logging
import traceback
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from factflow_protocols import RunLogRecord, RunLogSink

__all__ = [
    "CAPTURE_LEVEL",
    "LogScope",
    "RunLogCapture",
    "RunLogger",
    "current_scope",
    "install_run_log_capture",
    "run_log_record",
]

CAPTURE_LEVEL: Final = logging.INFO
MAX_MESSAGE_CHARS: Final = 16_384
MAX_TRACEBACK_CHARS: Final = 65_536
_CAPTURED: Final = "factflow_run_log"  # set on a record a RunLogger already captured


@dataclass(slots=True, frozen=True)
class LogScope:
    """Which run, route and message the code running now works for."""

    sink: RunLogSink
    route: str | None
    message_id: str | None = None
    attempt: int | None = None


current_scope: ContextVar[LogScope | None] = ContextVar("factflow_run_log_scope", default=None)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters cut)"


def run_log_record(
    record: logging.LogRecord,
    route: str | None,
    message_id: str | None,
    attempt: int | None,
) -> RunLogRecord:
    """``record`` as a run log record (message and traceback cut to a bounded size)."""
    try:
        text = record.getMessage()
    except Exception as exc:  # a bad format string must not lose the record
        text = f"{record.msg!r} {record.args!r} (could not be formatted: {exc})"
    trace: str | None = None
    if record.exc_info and record.exc_info[1] is not None:
        trace = "".join(traceback.format_exception(*record.exc_info))
    elif record.exc_text:
        trace = record.exc_text
    if record.stack_info:
        trace = f"{trace}\n{record.stack_info}" if trace else record.stack_info
    return RunLogRecord(
        at=datetime.fromtimestamp(record.created, UTC),
        level=record.levelno,
        logger=record.name,
        message=_cut(text, MAX_MESSAGE_CHARS),
        route=route,
        message_id=message_id,
        attempt=attempt,
        traceback=_cut(trace, MAX_TRACEBACK_CHARS) if trace is not None else None,
    )


class RunLogger(logging.Logger):
    """``ctx.logger`` of one route of one run (see the module docstring).

    Not registered with ``logging``: the registered logger of the same name
    (``forward``) stands for it in the server log, so the operator's level,
    handlers and filters apply there as usual.
    """

    def __init__(self, name: str, sink: RunLogSink, route: str | None) -> None:
        super().__init__(name)
        self.propagate = False
        self.sink = sink
        self.route = route
        self.forward = logging.getLogger(name)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging's name
        return level >= CAPTURE_LEVEL or self.forward.isEnabledFor(level)

    def getEffectiveLevel(self) -> int:  # noqa: N802 - logging's name
        return min(CAPTURE_LEVEL, self.forward.getEffectiveLevel())

    def handle(self, record: logging.LogRecord) -> None:
        if record.levelno >= CAPTURE_LEVEL:
            scope = current_scope.get()
            message_id = attempt = None
            if scope is not None and scope.sink is self.sink:
                message_id, attempt = scope.message_id, scope.attempt
            self.sink.emit(run_log_record(record, self.route, message_id, attempt))
            setattr(record, _CAPTURED, True)
        if self.forward.isEnabledFor(record.levelno):
            self.forward.handle(record)


class RunLogCapture(logging.Handler):
    """On the root logger: other loggers' records inside a run's scope go to its log.

    It also stands in for Python's last-resort handler (which no longer
    fires once the root logger has a handler), so installing it changes
    nothing about what reaches stderr.
    """

    def emit(self, record: logging.LogRecord) -> None:
        scope = current_scope.get()
        if scope is not None and not getattr(record, _CAPTURED, False):
            scope.sink.emit(run_log_record(record, scope.route, scope.message_id, scope.attempt))
        last_resort = logging.lastResort
        if (
            last_resort is not None
            and record.levelno >= last_resort.level
            and not self._handled_elsewhere(record)
        ):
            last_resort.handle(record)

    def _handled_elsewhere(self, record: logging.LogRecord) -> bool:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return True
            if not logger.propagate:
                return False
            logger = logger.parent
        return False


_capture = RunLogCapture()


def install_run_log_capture() -> None:
    """Put the capture handler on the root logger (once per process; idempotent)."""
    root = logging.getLogger()
    if _capture not in root.handlers:
        root.addHandler(_capture)
