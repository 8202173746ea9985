"""Turning a ``ResolvedPipeline`` into the run-time route objects of one execution."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from factflow_foundation import InvalidInputError
from factflow_protocols import Message, QueueBackend, RunLogSink

from factflow_engine.config.resolver import ResolvedPipeline
from factflow_engine.registry import Registry
from factflow_engine.runtime.ledger import RouteRuntime
from factflow_engine.runtime.runlog import RunLogger

__all__ = ["build_routes", "check_inputs"]


def check_inputs(
    pipeline: ResolvedPipeline,
    queue_names: Mapping[str, str],
    initial_messages: Sequence[Message] | None,
) -> None:
    """Raise ``InvalidInputError`` when the queue mapping or replay messages do not fit."""
    routes = pipeline.config.routes
    missing = [name for name in routes if name not in queue_names]
    if missing:
        raise InvalidInputError(
            f"queue_names has no queue for route(s) {', '.join(map(repr, missing))}"
            f" of pipeline {pipeline.name!r}"
        )
    owners: dict[str, str] = {}
    for name in routes:
        queue = queue_names[name]
        if queue in owners:
            raise InvalidInputError(
                f"routes {owners[queue]!r} and {name!r} share queue {queue!r};"
                " each route needs its own queue"
            )
        owners[queue] = name
    for message in initial_messages or ():
        if message.route not in routes:
            raise InvalidInputError(
                f"message {message.id} is addressed to route {message.route!r}, which pipeline"
                f" {pipeline.name!r} does not have (routes: {', '.join(routes)})"
            )


def build_routes(
    execution_id: str,
    pipeline: ResolvedPipeline,
    *,
    queue_names: Mapping[str, str],
    queues: QueueBackend,
    registry: Registry,
    with_adapters: bool,
    logger: logging.Logger,
    logs: RunLogSink | None = None,
) -> list[RouteRuntime]:
    """One ``RouteRuntime`` per route, in topological order, components instantiated.

    With ``logs``, each route's logger (``ctx.logger``) is a ``RunLogger``
    writing to the run's log as well.

    Raises ``ConfigValidationError`` when a component cannot be created (for
    example it was uninstalled since the pipeline was resolved).
    """
    config = pipeline.config
    default_retries = config.settings.max_retries
    default_depth = config.settings.queue_depth
    built: dict[str, RouteRuntime] = {}
    for name in config.topological_order():
        route = config.routes[name]
        depth = route.queue_depth if route.queue_depth is not None else default_depth
        runtime = RouteRuntime(
            name=name,
            queue=queues.open(execution_id, queue_names[name], maxsize=depth),
            processors=[registry.create_processor(p.type, p.with_) for p in route.processors],
            concurrency=route.concurrency,
            max_retries=route.max_retries if route.max_retries is not None else default_retries,
            logger=(
                RunLogger(f"{logger.name}.{name}", logs, name)
                if logs is not None
                else logger.getChild(name)
            ),
        )
        runtime.acks = runtime.queue.needs_ack
        if with_adapters and route.adapter is not None:
            runtime.adapter = registry.create_adapter(route.adapter.type, route.adapter.with_)
            runtime.adapter_type = route.adapter.type
        built[name] = runtime
    for name, runtime in built.items():
        runtime.downstream = [built[target] for target in config.routes[name].to]
    return list(built.values())
