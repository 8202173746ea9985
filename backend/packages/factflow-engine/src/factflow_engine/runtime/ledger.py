"""Completion accounting: counters per route, drain detection by counting, never polling.

``outstanding`` goes up once per enqueued message and per running feeder (a
source adapter, or the feeder of a replay's or resume's initial messages),
and down when a message settles (after its children were enqueued) or a
feeder is exhausted.  A route is *drained* when nothing can reach it any
more (its feeders are exhausted and every upstream route has drained) and it
holds no unsettled message; drains cascade downstream in topological order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from factflow_protocols import (
    Adapter,
    LineageStatus,
    MessageQueue,
    Processor,
    ProgressSnapshot,
    RouteProgress,
)

from factflow_engine.runtime.pump import CallbackPump
from factflow_engine.runtime.stop import StopSignal

__all__ = ["RouteRuntime", "RunLedger"]


@dataclass(slots=True, eq=False)
class RouteRuntime:
    """Everything the run keeps about one route (built once per run)."""

    name: str
    queue: MessageQueue
    processors: list[Processor]
    concurrency: int
    max_retries: int
    logger: logging.Logger
    adapter: Adapter | None = None
    adapter_type: str | None = None
    downstream: list[RouteRuntime] = field(default_factory=list)
    progress: RouteProgress = field(default_factory=RouteProgress)
    open_sources: int = 0  # running feeders + undrained upstream routes
    acks: bool = False  # the queue needs taken messages acknowledged (a broker)
    started: bool = False
    drained: bool = False


class RunLedger:
    """Counts messages in and out of every route and reports starts and drains.

    All methods are synchronous (no awaits), so each update is atomic with
    respect to the other tasks of the run.  When ``outstanding`` returns to
    zero the ledger requests the ``completed`` stop; once any stop has been
    decided it reports no further drains (cancelled leftovers are not drains).
    """

    def __init__(
        self, routes: Sequence[RouteRuntime], pump: CallbackPump, stop: StopSignal
    ) -> None:
        self.routes = {route.name: route for route in routes}
        self.order = list(routes)  # topological
        self.outstanding = 0
        self._pump = pump
        self._stop = stop
        self._drained: set[str] = set()

    # --- inputs -------------------------------------------------------------

    def wire_sources(self, seeded: Sequence[RouteRuntime] = ()) -> None:
        """Count each route's sources: its adapter, the initial-message feeder for
        ``seeded`` routes, and every upstream route."""
        for route in self.order:
            if route.adapter is not None:
                route.open_sources += 1
                self.outstanding += 1
            for target in route.downstream:
                target.open_sources += 1
        if seeded:
            self.outstanding += 1
            for route in seeded:
                route.open_sources += 1

    def adapter_started(self, route: RouteRuntime) -> None:
        self._mark_started(route)

    def adapter_exhausted(self, route: RouteRuntime) -> None:
        route.open_sources -= 1
        self._check_drained(route)
        self._release_one()

    def seed_exhausted(self, seeded: Sequence[RouteRuntime]) -> None:
        """The initial-message feeder has enqueued everything it had."""
        for route in seeded:
            route.open_sources -= 1
            self._check_drained(route)
        self._release_one()

    def admit(self, route: RouteRuntime) -> None:
        """A message is being enqueued for ``route`` (call before the ``put``)."""
        route.progress.received += 1
        self.outstanding += 1
        if not route.started:
            self._mark_started(route)
        self._pump.changed()

    def settle(
        self,
        route: RouteRuntime,
        status: LineageStatus | Literal["regenerated"],
        emitted: int = 0,
        *,
        taken: bool = True,
    ) -> None:
        """A message at ``route`` reached its final status (its children already admitted).

        ``taken``: a worker held it (it counted as in progress); False for a
        message the stop sequence took from the queue or a feeder.
        """
        progress = route.progress
        if status == "processed":
            progress.processed += 1
        elif status == "filtered":
            progress.filtered += 1
        elif status == "failed":
            progress.failed += 1
        elif status == "regenerated":
            progress.regenerated += 1
        else:
            progress.cancelled += 1
        if taken:
            progress.in_progress -= 1
        progress.emitted += emitted
        self._pump.changed()
        self._check_drained(route)
        self._release_one()

    def check_all(self) -> None:
        """Report every route that is already drained (used once at start)."""
        for route in self.order:
            self._check_drained(route)
        if self.outstanding == 0:
            self._stop.request_stop("completed", None)

    # --- outputs ------------------------------------------------------------

    def snapshot(self) -> ProgressSnapshot:
        """A copy of every route's counters and the set of drained routes."""
        return ProgressSnapshot(
            routes={route.name: route.progress.copy() for route in self.order},
            drained_routes=frozenset(self._drained),
        )

    # --- internals ----------------------------------------------------------

    def _mark_started(self, route: RouteRuntime) -> None:
        if not route.started:
            route.started = True
            self._pump.route_started(route.name)

    def _release_one(self) -> None:
        self.outstanding -= 1
        if self.outstanding == 0:
            self._stop.request_stop("completed", None)

    def _check_drained(self, route: RouteRuntime) -> None:
        if route.drained or route.open_sources > 0 or self._stop.is_set():
            return
        progress = route.progress
        if progress.received != progress.settled:
            return
        route.drained = True
        self._drained.add(route.name)
        self._pump.route_drained(route.name, progress.copy())
        for target in route.downstream:
            target.open_sources -= 1
            self._check_drained(target)
