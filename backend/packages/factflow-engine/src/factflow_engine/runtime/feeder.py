"""Runs a source route's adapter: each payload it yields becomes a root message."""

from __future__ import annotations

import asyncio

from factflow_foundation import new_id
from factflow_protocols import Message

from factflow_engine.runtime.context import RunContext
from factflow_engine.runtime.ledger import RouteRuntime
from factflow_engine.runtime.worker import FAIRNESS_BATCH, WorkerEnv

__all__ = ["AdapterFeeder"]


class AdapterFeeder:
    """Feeds one source route from its adapter until it is exhausted or the run stops.

    Root messages get ``origin_id`` = their own id.  An adapter that raises
    stops the run as ``failed``, naming the route, adapter type and error.
    A message whose ``put`` was interrupted by the stop is kept in
    ``unqueued`` so the stop sequence can record it ``cancelled``.
    """

    def __init__(self, env: WorkerEnv, route: RouteRuntime) -> None:
        self.env = env
        self.route = route
        self.unqueued: list[Message] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        env = self.env
        route = self.route
        adapter = route.adapter
        if adapter is None:
            return
        ctx = RunContext(env.execution_id, route.name, env.params, env.storage, route.logger)
        stop = env.control
        iterator = adapter.produce(ctx)
        in_a_row = 0
        try:
            async for payload in iterator:
                if stop.is_set():
                    return
                message_id = new_id()
                message = Message(message_id, env.execution_id, route.name, payload, message_id)
                env.ledger.admit(route)
                try:
                    await route.queue.put(message)
                except asyncio.CancelledError:
                    self.unqueued.append(message)
                    raise
                in_a_row += 1
                if in_a_row >= FAIRNESS_BATCH:
                    in_a_row = 0
                    await asyncio.sleep(0)
        except Exception as exc:
            route.logger.warning("route %r: adapter %r failed", route.name, route.adapter_type)
            stop.request_stop(
                "failed",
                f"route {route.name!r}: adapter {route.adapter_type!r} failed:"
                f" {type(exc).__name__}: {exc}",
            )
            return
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    route.logger.exception("route %r: closing the adapter failed", route.name)
        if not stop.is_set():
            env.ledger.adapter_exhausted(route)
