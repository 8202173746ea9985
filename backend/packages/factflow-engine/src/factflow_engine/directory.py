"""The route directory: which queue each route of a pipeline reads from."""

from __future__ import annotations

from collections.abc import Mapping

from factflow_foundation import InvalidInputError, SettingDefaults

from factflow_engine.config.resolver import ResolvedPipeline
from factflow_engine.config.schema import PipelineDefinition

__all__ = ["RouteDirectory"]


class RouteDirectory:
    """Maps route names to queue names.

    ``overrides`` keys are either ``"<config>.<route>"`` (one pipeline) or a
    bare route name (that route in every pipeline); the qualified key wins.
    Routes without an override get ``"<prefix>.<config>.<route>"``.

    The execution layer resolves this once at start and snapshots the result;
    the orchestrator only ever uses that snapshot.
    """

    def __init__(
        self, overrides: Mapping[str, str] | None = None, prefix: str = SettingDefaults.queue_prefix
    ) -> None:
        self.overrides: dict[str, str] = dict(overrides or {})
        self.prefix = prefix

    def resolve(self, pipeline: PipelineDefinition | ResolvedPipeline) -> dict[str, str]:
        """Route name -> queue name for every route of ``pipeline``.

        Raises ``InvalidInputError`` when two routes would share a queue (each
        would then steal the other's messages).
        """
        config = pipeline.config if isinstance(pipeline, ResolvedPipeline) else pipeline
        mapping: dict[str, str] = {}
        for route in config.routes:
            queue = self.overrides.get(f"{config.name}.{route}") or self.overrides.get(route)
            mapping[route] = queue or f"{self.prefix}.{config.name}.{route}"
        owners: dict[str, str] = {}
        for route, queue in mapping.items():
            if queue in owners:
                raise InvalidInputError(
                    f"routes {owners[queue]!r} and {route!r} of pipeline {config.name!r} both"
                    f" resolve to queue {queue!r}; each route needs its own queue"
                )
            owners[queue] = route
        return mapping
