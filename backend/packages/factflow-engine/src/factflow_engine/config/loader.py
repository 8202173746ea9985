"""``load_definition``: config text or mapping -> a statically valid ``PipelineDefinition``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from factflow_engine.config.checks import (
    check_components,
    check_graph,
    check_names_and_params,
    describe_bad_top_level,
)
from factflow_engine.config.limits import ConfigLimits
from factflow_engine.config.model_errors import issues_from_validation_error
from factflow_engine.config.schema import PipelineDefinition
from factflow_engine.config.source import parse_source
from factflow_engine.errors import ConfigValidationError, FieldPath, ValidationIssue
from factflow_engine.registry import Registry

__all__ = ["load_definition", "validate_data"]


def load_definition(
    source: str | bytes | Mapping[str, Any],
    *,
    filename: str | None = None,
    registry: Registry | None = None,
    limits: ConfigLimits | None = None,
) -> PipelineDefinition:
    """Parse YAML/JSON text (JSON when ``filename`` ends in ``.json``) or take a mapping,
    and check it statically.

    Placeholders are left in place (``resolve`` substitutes them).  Raises
    ``ConfigValidationError`` listing every issue found, each with its field
    path and, for text, its line.  ``registry`` defaults to the installed entry
    points (``Registry.from_entry_points()``); ``limits`` to ``ConfigLimits()``.
    A config past a limit is refused before it is expanded or walked.
    """
    parsed = parse_source(source, filename, limits)
    if registry is None:
        registry = Registry.from_entry_points()
    issues = list(parsed.issues)
    definition = None
    if parsed.data is not None or not issues:
        definition, found = validate_data(
            parsed.data, registry=registry, lines=parsed.lines, templated=True
        )
        issues.extend(found)
    if issues or definition is None:
        raise ConfigValidationError(_sorted(issues), filename=filename)
    definition.attach_source(parsed.lines, filename)
    return definition


def validate_data(
    data: Any,
    *,
    registry: Registry,
    lines: Mapping[FieldPath, int],
    templated: bool,
) -> tuple[PipelineDefinition | None, list[ValidationIssue]]:
    """Every structural and semantic check on parsed config data.

    ``templated`` means ``{name}`` placeholders may still be present (a config
    as written); a resolved definition has none, so braces there are literal.
    """
    if not isinstance(data, dict):
        return None, [
            ValidationIssue("(top level)", describe_bad_top_level(data), 1 if lines else None)
        ]
    issues: list[ValidationIssue] = []
    definition: PipelineDefinition | None = None
    try:
        definition = PipelineDefinition.model_validate(data)
    except ValidationError as exc:
        issues.extend(issues_from_validation_error(exc, PipelineDefinition, lines=lines))
    issues.extend(check_names_and_params(data, lines))
    issues.extend(check_components(data, registry, lines, templated=templated))
    issues.extend(check_graph(data, lines))
    if issues:
        return None, _sorted(issues)
    return definition, []


def _sorted(issues: list[ValidationIssue]) -> list[ValidationIssue]:
    return sorted(issues, key=lambda i: (i.line is None, i.line or 0, i.path))
