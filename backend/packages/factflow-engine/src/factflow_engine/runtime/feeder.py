"""Feeders put messages into a run from outside its routes.

``AdapterFeeder`` runs a source route's adapter: each payload it yields
becomes a root message.  ``SeedFeeder`` enqueues a run's initial messages (a
replay's selection, a resume's unfinished and regenerated messages).  Both
wait for room in bounded queues, like any producer, so they run as tasks
beside the workers instead of before them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from factflow_protocols import Message

from factflow_engine.runtime.context import RunContext
from factflow_engine.runtime.continuation import root_message_id
from factflow_engine.runtime.ledger import RouteRuntime
from factflow_engine.runtime.runlog import LogScope, current_scope
from factflow_engine.runtime.worker import FAIRNESS_BATCH, WorkerEnv

__all__ = ["AdapterFeeder", "SeedFeeder"]


class AdapterFeeder:
    """Feeds one source route from its adapter until it is exhausted or the run stops.

    The ``n``-th payload (0-based) becomes the root message
    ``root_message_id(namespace, route, n)`` with ``origin_id`` = its own id.
    With ``known`` (a resume), a root whose id it names is skipped: it was
    recorded earlier or is being finished from the plan.  An adapter that
    raises stops the run as ``failed``, naming the route, adapter type and
    error.  A message whose ``put`` was interrupted by the stop is kept in
    ``unqueued`` so the stop sequence can record it ``cancelled``.
    """

    def __init__(
        self,
        env: WorkerEnv,
        route: RouteRuntime,
        namespace: str,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self.env = env
        self.route = route
        self.namespace = namespace
        self.known = known
        self.unqueued: list[Message] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        env = self.env
        route = self.route
        adapter = route.adapter
        if adapter is None:
            return
        ctx = RunContext(env.execution_id, route.name, env.params, env.storage, route.logger)
        if env.logs is not None:  # this task's own context: no reset needed
            current_scope.set(LogScope(env.logs, route.name))
        stop = env.control
        known = self.known
        iterator = adapter.produce(ctx)
        position = 0
        in_a_row = 0
        try:
            async for payload in iterator:
                if stop.is_set():
                    return
                message_id = root_message_id(self.namespace, route.name, position)
                position += 1
                if known is not None and known(message_id):
                    continue
                message = Message(message_id, env.execution_id, route.name, payload, message_id)
                env.ledger.admit(route)
                try:
                    await route.queue.put(message)
                except asyncio.CancelledError:
                    self.unqueued.append(message)
                    raise
                except Exception as exc:  # the queue refused it: the run cannot go on
                    self.unqueued.append(message)
                    route.logger.exception("route %r: cannot enqueue a root message", route.name)
                    stop.request_stop(
                        "failed",
                        f"route {route.name!r}: could not enqueue message {message.id}:"
                        f" {type(exc).__name__}: {exc}",
                    )
                    return
                in_a_row += 1
                if in_a_row >= FAIRNESS_BATCH:
                    in_a_row = 0
                    await asyncio.sleep(0)
        except Exception as exc:
            route.logger.warning(
                "route %r: adapter %r failed: %s: %s",
                route.name,
                route.adapter_type,
                type(exc).__name__,
                exc,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
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


class SeedFeeder:
    """Enqueues a run's initial messages at their routes, then reports exhaustion.

    Messages are re-addressed to this execution; ids, origins, parents and
    headers are kept.  The messages not yet enqueued when the run stops stay
    in ``unqueued`` (with their routes) for the stop sequence.
    """

    def __init__(
        self,
        env: WorkerEnv,
        messages: Sequence[Message],
        routes: dict[str, RouteRuntime],
    ) -> None:
        self.env = env
        self.routes = routes
        self.seeded = list({routes[m.route].name: routes[m.route] for m in messages}.values())
        self._messages = messages
        self.unqueued: list[tuple[RouteRuntime, Message]] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        env = self.env
        stop = env.control
        messages = self._messages
        for index, original in enumerate(messages):
            if stop.is_set():
                self._strand(messages, index)
                return
            route = self.routes[original.route]
            message = Message(
                original.id,
                env.execution_id,
                original.route,
                original.payload,
                original.origin_id,
                original.parent_id,
                0,
                dict(original.headers),
            )
            env.ledger.admit(route)
            try:
                await route.queue.put(message)
            except asyncio.CancelledError:
                self.unqueued.append((route, message))
                self._strand(messages, index + 1)
                raise
            except Exception as exc:  # the queue refused it: the run cannot go on
                self.unqueued.append((route, message))
                self._strand(messages, index + 1)
                route.logger.exception("route %r: cannot enqueue an initial message", route.name)
                stop.request_stop(
                    "failed",
                    f"route {route.name!r}: could not enqueue message {message.id}:"
                    f" {type(exc).__name__}: {exc}",
                )
                return
        env.ledger.seed_exhausted(self.seeded)

    def _strand(self, messages: Sequence[Message], start: int) -> None:
        """Admit and keep the messages from ``start`` on: the stop records them ``cancelled``."""
        env = self.env
        for original in messages[start:]:
            route = self.routes[original.route]
            env.ledger.admit(route)
            self.unqueued.append(
                (
                    route,
                    Message(
                        original.id,
                        env.execution_id,
                        original.route,
                        original.payload,
                        original.origin_id,
                        original.parent_id,
                        0,
                        dict(original.headers),
                    ),
                )
            )
