"""Translate Pydantic validation errors into ``ValidationIssue``s on our field paths."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from factflow_engine.config.source import line_for
from factflow_engine.config.wording import did_you_mean, listing, show_value
from factflow_engine.errors import FieldPath, ValidationIssue, format_path

__all__ = ["issues_from_validation_error"]

_INPUT_SHOULD = "Input should be "


def issues_from_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    *,
    prefix: FieldPath = (),
    lines: Mapping[FieldPath, int] | None = None,
    skip: typing.Callable[[FieldPath], bool] | None = None,
) -> list[ValidationIssue]:
    """One issue per Pydantic error, pathed under ``prefix``.

    ``model`` is the model that was validated (used to list allowed keys);
    ``skip`` drops errors whose (model-relative) location it accepts.
    """
    issues: list[ValidationIssue] = []
    for err in error.errors(include_url=False):
        loc: FieldPath = tuple(err["loc"])
        if skip is not None and skip(loc):
            continue
        path = (*prefix, *(part for part in loc if part != "[key]"))
        message = _message(err["type"], err["msg"], err.get("input"), loc, model)
        issues.append(ValidationIssue(format_path(path), message, line_for(lines or {}, path)))
    return issues


def _message(kind: str, msg: str, value: Any, loc: FieldPath, model: type[BaseModel]) -> str:
    if "[key]" in loc:
        return f"keys here must be text, got {show_value(loc[-1] if loc else value)}"
    last = loc[-1] if loc else ""
    if kind == "missing":
        return f"required key {last!r} is missing"
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, loc[:-1])
        hint = did_you_mean(str(last), allowed)
        return f"unknown key {last!r}{hint} (allowed keys: {listing(allowed)})"
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "too_short" and isinstance(value, (dict, list)):
        return "must not be empty"
    if kind in ("model_type", "dict_type") and not isinstance(value, dict):
        return f"should be a mapping (key: value), got {show_value(value)}"
    if msg.startswith(_INPUT_SHOULD):
        msg = "should be " + msg[len(_INPUT_SHOULD) :]
    return f"{msg}, got {show_value(value)}"


def allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys the model found by following ``loc`` from ``model`` accepts."""
    current: Any = model
    for part in loc:
        current = _strip_optional(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_by_key(current, str(part))
            if field is None:
                return []
            current = field
        else:
            args = typing.get_args(current)
            if not args:
                return []
            current = args[-1]  # list[X] -> X, dict[str, X] -> X
    current = _strip_optional(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
