"""Test helpers for pipelines: ``sleep`` (slow step) and ``fail`` (deterministic failures)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from factflow_protocols import Message, ProcessorContext
from pydantic import Field

from factflow_engine.builtins.payloads import MISSING, field_value
from factflow_engine.registry import ComponentOptions

__all__ = ["DeliberateFailureError", "Fail", "Sleep", "failure_fraction"]


class DeliberateFailureError(RuntimeError):
    """Raised by the ``fail`` processor."""


class Sleep:
    """Waits ``seconds`` and passes the payload on unchanged."""

    class Options(ComponentOptions):
        seconds: float = Field(default=0.01, ge=0, description="Seconds to wait per message.")

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        await asyncio.sleep(self.options.seconds)
        return message.payload


def failure_fraction(execution_id: str, message_id: str, attempt: int) -> float:
    """A stable number in [0, 1) for one attempt of one message in one execution."""
    digest = hashlib.sha256(f"{execution_id}:{message_id}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Fail:
    """Raises ``DeliberateFailureError(error)`` for some attempts, else passes the payload on.

    An attempt fails when all of these hold: the payload's fields equal
    ``when`` (if given); the attempt number (1-based) is at most ``attempts``
    (if given: "fail the first N attempts", so retry-then-success is testable);
    and ``failure_fraction(execution_id, message_id, attempt) < rate``.  The
    outcome is deterministic for an execution, and changes with the execution
    id, so a replay of failed messages mostly succeeds.
    """

    class Options(ComponentOptions):
        rate: float = Field(default=1.0, ge=0, le=1, description="Share of attempts that fail.")
        attempts: int | None = Field(default=None, ge=0, description="Only the first N attempts.")
        when: dict[str, Any] | None = Field(default=None, description="Only payloads matching.")
        error: str = Field(
            default="deliberate failure (fail processor)", description="The error message."
        )

    def __init__(self, options: Options) -> None:
        self.options = options

    def should_fail(self, message: Message) -> bool:
        """Whether this attempt of ``message`` fails."""
        opts = self.options
        if opts.when is not None:
            for name, expected in opts.when.items():
                value = field_value(message.payload, name)
                if value is MISSING or value != expected:
                    return False
        if opts.attempts is not None and message.attempt > opts.attempts:
            return False
        if opts.rate >= 1.0:
            return True
        return failure_fraction(message.execution_id, message.id, message.attempt) < opts.rate

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        if self.should_fail(message):
            raise DeliberateFailureError(self.options.error)
        return message.payload
