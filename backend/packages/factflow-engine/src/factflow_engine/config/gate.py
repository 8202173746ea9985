"""``ConfigGate``: configs are parsed and checked off the event loop, a few at a
time, within a time budget.

Parsing and checking a config is CPU work proportional to its size; done on
the event loop, one large or hostile config would stall every other request
(health probes included).  The gate runs that work in worker threads:

- at most ``concurrency`` checks run at once; more wait for a slot;
- a caller waits at most ``timeout`` seconds in all (slot wait included).  A
  check that overruns is reported as a config issue (422); a caller that
  never got a slot is told the server is busy (503 with Retry-After);
- a slot is given back only when its thread has really finished, so checks
  that overran still count against ``concurrency`` until they end: time-outs
  cannot pile up threads.

The size and depth bounds (``ConfigLimits``) keep each check itself short; the
budget is the backstop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from factflow_foundation import CapacityExceededError, FactFlowSettings, SettingDefaults

from factflow_engine.config.limits import ConfigLimits
from factflow_engine.config.loader import load_definition
from factflow_engine.config.schema import PipelineDefinition
from factflow_engine.errors import ConfigValidationError, ValidationIssue
from factflow_engine.registry import Registry

__all__ = ["ConfigCheckBusyError", "ConfigGate"]

T = TypeVar("T")


class ConfigCheckBusyError(CapacityExceededError):
    """Every config-check slot stayed busy for the whole time budget."""

    code = "config-check-busy"


class ConfigGate:
    """Runs ``load_definition`` (and other config CPU work) in worker threads.

    ``checkpoint``, when given, is called in the worker thread before each
    piece of work starts (tests use it to hold a check in progress).
    """

    def __init__(
        self,
        registry: Registry,
        *,
        limits: ConfigLimits | None = None,
        timeout: float = SettingDefaults.config_check_timeout,
        concurrency: int = SettingDefaults.config_check_concurrency,
        checkpoint: Callable[[], None] | None = None,
    ) -> None:
        self.registry = registry
        self.limits = limits or ConfigLimits()
        self.timeout = timeout
        self.concurrency = concurrency
        self.checkpoint = checkpoint
        self._slots: asyncio.Semaphore | None = None  # made on first use, on the running loop

    @classmethod
    def from_settings(cls, registry: Registry, settings: FactFlowSettings) -> ConfigGate:
        """A gate with the limits, budget and concurrency ``settings`` name."""
        return cls(
            registry,
            limits=ConfigLimits.from_settings(settings),
            timeout=settings.config_check_timeout,
            concurrency=settings.config_check_concurrency,
        )

    async def load(
        self, source: str | bytes | Mapping[str, Any], *, filename: str | None = None
    ) -> PipelineDefinition:
        """``load_definition`` off the event loop with this gate's limits and budget."""
        work = functools.partial(
            load_definition,
            source,
            filename=filename,
            registry=self.registry,
            limits=self.limits,
        )
        return await self.run(work)

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` in a worker thread under the slot limit and the time budget.

        Raises ``ConfigValidationError`` when it overruns the budget and
        ``ConfigCheckBusyError`` when no slot freed up in time; what ``work``
        raises is raised as is.
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots = self._slots
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                await slots.acquire()
        except TimeoutError:
            raise ConfigCheckBusyError(
                f"every config check slot ({self.concurrency}) stayed busy for "
                f"{self.timeout:g}s; try again shortly",
                extra={"capacity": self.concurrency},
            ) from None
        future = loop.run_in_executor(None, self._guarded, work)
        future.add_done_callback(lambda _: slots.release())
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(future)
        except TimeoutError:
            future.add_done_callback(_consume)
            raise ConfigValidationError(
                [
                    ValidationIssue(
                        "(top level)",
                        f"checking the config took longer than {self.timeout:g}s "
                        "(FACTFLOW_CONFIG_CHECK_TIMEOUT); make it smaller or simpler",
                    )
                ]
            ) from None

    def _guarded(self, work: Callable[[], T]) -> T:
        if self.checkpoint is not None:
            self.checkpoint()
        return work()


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned check's outcome so it is not logged as never retrieved."""
    with contextlib.suppress(BaseException):
        future.result()
