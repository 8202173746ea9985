"""``resolve``: a definition plus run params -> a ``ResolvedPipeline`` ready to run."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factflow_engine.config.limits import ConfigLimits
from factflow_engine.config.loader import validate_data
from factflow_engine.config.params import resolve_params
from factflow_engine.config.schema import PipelineDefinition
from factflow_engine.config.templates import substitute
from factflow_engine.errors import ConfigValidationError, ValidationIssue
from factflow_engine.registry import Registry

__all__ = ["ResolvedPipeline", "resolve"]


@dataclass(frozen=True, slots=True)
class ResolvedPipeline:
    """A pipeline with its params substituted and every component option validated.

    ``definition`` is a plain JSON-serialisable dict in the config format (all
    defaults filled in, no placeholders): it is what an execution snapshots,
    and ``from_snapshot`` rebuilds an equal ``ResolvedPipeline`` from it alone.
    ``config`` is the same definition as a typed model.  Treat both as read-only.
    """

    definition: dict[str, Any]
    params: dict[str, Any]
    config: PipelineDefinition

    @property
    def name(self) -> str:
        """The pipeline (config) name."""
        return self.config.name

    @classmethod
    def from_snapshot(
        cls,
        definition: Mapping[str, Any],
        params: Mapping[str, Any] | None = None,
        *,
        registry: Registry,
    ) -> ResolvedPipeline:
        """Rebuild from a snapshot's ``definition`` dict and final ``params`` (replay).

        The dict is re-validated (a component may have been uninstalled since),
        but never re-templated: braces in it are literal.
        """
        data = copy.deepcopy(dict(definition))
        config, issues = validate_data(data, registry=registry, lines={}, templated=False)
        if issues or config is None:
            raise ConfigValidationError(issues, filename="<snapshot>")
        return cls(definition=config.to_dict(), params=dict(params or {}), config=config)


def resolve(
    definition: PipelineDefinition,
    params: Mapping[str, Any] | None = None,
    *,
    registry: Registry,
    limits: ConfigLimits | None = None,
) -> ResolvedPipeline:
    """Check ``params`` against the declared ones (text such as ``"5"`` is coerced to
    the declared type), substitute placeholders, and validate every adapter and
    processor ``with:`` against its ``Options`` model.

    A param value nested past ``limits`` (default ``ConfigLimits()``) is an issue.
    Raises ``ConfigValidationError`` with every problem, pathed like
    ``params.limit`` or ``routes.discover.adapter.with.root``.
    """
    lines = definition.source_lines
    values, param_issues = resolve_params(definition.params, params, limits)
    if param_issues:
        raise ConfigValidationError(
            [_with_line(issue, lines) for issue in param_issues], filename=definition.filename
        )
    data = definition.to_dict()
    for route in data["routes"].values():
        if route.get("adapter") is not None:
            route["adapter"]["with"] = substitute(route["adapter"]["with"], values)
        for spec in route["processors"]:
            spec["with"] = substitute(spec["with"], values)
    config, issues = validate_data(data, registry=registry, lines=lines, templated=False)
    if issues or config is None:
        raise ConfigValidationError(issues, filename=definition.filename)
    config.attach_source(dict(lines), definition.filename)
    return ResolvedPipeline(definition=config.to_dict(), params=values, config=config)


def _with_line(issue: ValidationIssue, lines: Mapping[Any, int]) -> ValidationIssue:
    name = issue.path.removeprefix("params.")
    line = lines.get(("params", name)) if issue.path.startswith("params.") else None
    return ValidationIssue(issue.path, issue.message, line)
