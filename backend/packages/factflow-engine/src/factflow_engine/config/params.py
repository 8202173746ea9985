"""Declared params: coercing values (CLI text or JSON) to their declared types."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any

from factflow_engine.config.limits import ConfigLimits, nesting_depth
from factflow_engine.config.schema import ParamSpec
from factflow_engine.config.wording import did_you_mean, listing, show_value
from factflow_engine.errors import ValidationIssue, format_path

__all__ = ["ParamTypeError", "coerce_param", "resolve_params"]

_INT = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})

EXPECTED = {
    "string": "text",
    "path": "a file system path (text)",
    "integer": "an integer (e.g. 5)",
    "number": "a number (e.g. 0.5)",
    "boolean": "true or false",
    "list": "a list (in text, a JSON array such as [1, 2])",
    "object": 'a mapping (in text, a JSON object such as {"k": 1})',
}


class ParamTypeError(ValueError):
    """A value does not fit a param's declared type."""


def coerce_param(type_: str, value: Any) -> Any:
    """``value`` converted to ``type_``; strings (as typed on a command line) are parsed.

    Raises ``ParamTypeError`` naming what was expected.
    """
    converted = _convert(type_, value)
    if converted is _INVALID:
        raise ParamTypeError(f"expected {EXPECTED[type_]}, got {show_value(value)}")
    return converted


_INVALID: Any = object()


def _convert(type_: str, value: Any) -> Any:
    if type_ == "string":
        return value if isinstance(value, str) else _INVALID
    if type_ == "path":
        return os.fspath(value) if isinstance(value, (str, os.PathLike)) else _INVALID
    if type_ == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        return _INVALID
    if type_ == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value.strip())
        return _INVALID
    if type_ == "number":
        return _number(value)
    if type_ in ("list", "object"):
        wanted: type = list if type_ == "list" else dict
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):  # not JSON, or nested past what parses
                return _INVALID
        if type_ == "list" and isinstance(value, tuple):
            value = list(value)
        if type_ == "object" and isinstance(value, Mapping):
            value = dict(value)
        return value if isinstance(value, wanted) else _INVALID
    return _INVALID


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, str):
        text = value.strip()
        if _INT.match(text):
            return int(text)
        try:
            value = float(text)
        except ValueError:
            return _INVALID
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return _INVALID


def resolve_params(
    declared: Mapping[str, ParamSpec],
    supplied: Mapping[str, Any] | None,
    limits: ConfigLimits | None = None,
) -> tuple[dict[str, Any], list[ValidationIssue]]:
    """Final param values (supplied, else default) and every problem with them.

    A value nested deeper than ``limits.max_depth`` is refused before anything
    walks it."""
    supplied = supplied or {}
    limits = limits or ConfigLimits()
    issues: list[ValidationIssue] = []
    values: dict[str, Any] = {}
    for name in supplied:
        if name not in declared:
            issues.append(
                ValidationIssue(
                    format_path(("params", str(name))),
                    f"unknown param {name!r}{did_you_mean(str(name), declared)}"
                    f" (declared params: {listing(declared)})",
                )
            )
    for name, spec in declared.items():
        path = format_path(("params", name))
        if name in supplied:
            raw = supplied[name]
            what = ""
        elif spec.default is not None:
            raw = spec.default
            what = " default"
        else:
            issues.append(
                ValidationIssue(path, f"param {name!r} ({spec.type}) is required: give a value")
            )
            continue
        if nesting_depth(raw, limits.max_depth) > limits.max_depth:
            message = limits.too_deep().replace("the config nests", "the value nests")
            issues.append(ValidationIssue(path, f"param {name!r}{what}: {message}"))
            continue
        try:
            values[name] = coerce_param(spec.type, raw)
        except ParamTypeError as exc:
            issues.append(ValidationIssue(path, f"param {name!r} ({spec.type}){what}: {exc}"))
    return values, issues
