"""What a config means, checked over its raw data: names, params, components, graph.

The checks read the parsed mapping rather than the Pydantic model so they can
run even when some part is malformed (shape errors are reported by
Pydantic); each check looks only at pieces with the right shape, so the two
passes never report the same problem twice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from factflow_engine.config.model_errors import issues_from_validation_error
from factflow_engine.config.params import EXPECTED, ParamTypeError, coerce_param
from factflow_engine.config.schema import (
    PARAM_NAME_PATTERN,
    PARAM_TYPES,
    ROUTE_NAME_PATTERN,
)
from factflow_engine.config.source import line_for
from factflow_engine.config.templates import (
    Placeholder,
    TemplateSyntaxError,
    iter_strings,
    parse_template,
    substitute,
)
from factflow_engine.config.wording import did_you_mean, listing, show_value
from factflow_engine.errors import FieldPath, ValidationIssue, format_path
from factflow_engine.registry import ComponentKind, ComponentNotFoundError, Registry

__all__ = [
    "check_components",
    "check_graph",
    "check_names_and_params",
    "describe_bad_top_level",
]

_ROUTE_NAME = re.compile(ROUTE_NAME_PATTERN)
_PARAM_NAME = re.compile(PARAM_NAME_PATTERN)


class _Issues:
    """Collects issues, attaching the line of each path."""

    def __init__(self, lines: Mapping[FieldPath, int]) -> None:
        self.lines = lines
        self.items: list[ValidationIssue] = []

    def add(self, path: FieldPath, message: str) -> None:
        self.items.append(ValidationIssue(format_path(path), message, line_for(self.lines, path)))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_names_and_params(
    raw: Mapping[str, Any], lines: Mapping[FieldPath, int]
) -> list[ValidationIssue]:
    """Route names, param names, and param defaults against their declared types."""
    out = _Issues(lines)
    for name in _mapping(raw.get("routes")):
        if not isinstance(name, str) or not _ROUTE_NAME.match(name):
            out.add(
                ("routes", str(name)),
                f"route name {name!r} is not allowed; use lower-case letters, digits, '_' or '-',"
                " starting with a letter or digit (e.g. 'split')",
            )
    for name, spec in _mapping(raw.get("params")).items():
        path: FieldPath = ("params", str(name))
        if not isinstance(name, str) or not _PARAM_NAME.match(name):
            out.add(
                path,
                f"param name {name!r} is not allowed; use letters, digits and '_', not starting"
                " with a digit (placeholders write it as '{name}')",
            )
        if not isinstance(spec, dict) or "default" not in spec:
            continue
        type_ = spec.get("type", "string")
        if type_ not in PARAM_TYPES:
            continue  # the schema pass reports the bad type
        default = spec["default"]
        if default is None:
            out.add(
                (*path, "default"),
                f"default null is not {EXPECTED[type_]}; leave 'default' out to make the param"
                " required",
            )
            continue
        try:
            coerce_param(type_, default)
        except ParamTypeError as exc:
            out.add((*path, "default"), f"default does not match type {type_}: {exc}")
    return out.items


def _components(
    raw: Mapping[str, Any],
) -> Iterator[tuple[ComponentKind, FieldPath, dict[str, Any]]]:
    for route_name, route in _mapping(raw.get("routes")).items():
        if not isinstance(route, dict):
            continue
        adapter = route.get("adapter")
        if isinstance(adapter, dict):
            yield "adapter", ("routes", str(route_name), "adapter"), adapter
        processors = route.get("processors")
        if isinstance(processors, list):
            for index, spec in enumerate(processors):
                if isinstance(spec, dict):
                    yield "processor", ("routes", str(route_name), "processors", index), spec


def check_components(
    raw: Mapping[str, Any],
    registry: Registry,
    lines: Mapping[FieldPath, int],
    *,
    templated: bool,
) -> list[ValidationIssue]:
    """Component types exist in the registry, options fit their ``Options`` model,
    and (when ``templated``) every placeholder names a declared param.

    Options holding placeholders are validated after substitution (in
    ``resolve``); everything else is validated here already.
    """
    out = _Issues(lines)
    declared = [str(name) for name in _mapping(raw.get("params"))]
    for kind, path, spec in _components(raw):
        options = spec.get("with", {})
        deferred: set[str] = set()
        if templated and isinstance(options, dict):
            deferred = _check_placeholders(options, (*path, "with"), declared, out)
        type_ = spec.get("type")
        if not isinstance(type_, str) or not type_:
            continue  # the schema pass reports it
        try:
            cls = registry.lookup(kind, type_)
        except ComponentNotFoundError as exc:
            out.add((*path, "type"), str(exc))
            continue
        if isinstance(options, dict):
            model: type[BaseModel] = cls.Options  # type: ignore[attr-defined]
            context = registry.validation_context
            _check_options(model, options, deferred, (*path, "with"), out, templated, context)
    return out.items


def _check_placeholders(
    options: dict[str, Any], base: FieldPath, declared: list[str], out: _Issues
) -> set[str]:
    """Report bad placeholders; return the top-level option keys that hold any."""
    deferred: set[str] = set()
    for path, text in iter_strings(options, base):
        key = str(path[len(base)])
        try:
            parts = parse_template(text)
        except TemplateSyntaxError as exc:
            out.add(path, str(exc))
            deferred.add(key)
            continue
        for part in parts:
            if not isinstance(part, Placeholder):
                continue
            deferred.add(key)
            if part.name not in declared:
                out.add(
                    path,
                    f"placeholder '{{{part.name}}}' names an undeclared param"
                    f"{did_you_mean(part.name, declared)} (declared params: {listing(declared)});"
                    f" declare it under 'params:', or write '{{{{{part.name}}}}}' for literal"
                    " braces",
                )
    return deferred


def _check_options(
    model: type[BaseModel],
    options: dict[str, Any],
    deferred: set[str],
    base: FieldPath,
    out: _Issues,
    templated: bool,
    context: dict[str, Any],
) -> None:
    probe = {
        key: (substitute(value, {}) if templated else value)
        for key, value in options.items()
        if key not in deferred
    }
    try:
        model.model_validate(probe, context=context)
    except ValidationError as exc:

        def skip(loc: FieldPath) -> bool:
            return (bool(loc) and str(loc[0]) in deferred) or (not loc and bool(deferred))

        out.items.extend(
            issues_from_validation_error(exc, model, prefix=base, lines=out.lines, skip=skip)
        )


def check_graph(raw: Mapping[str, Any], lines: Mapping[FieldPath, int]) -> list[ValidationIssue]:
    """``to`` targets exist, no cycles, every route is fed, at least one source route."""
    out = _Issues(lines)
    routes = _mapping(raw.get("routes"))
    if not routes:
        return out.items
    names = [str(n) for n in routes]
    edges: dict[str, list[str]] = {name: [] for name in names}
    complete = True  # every route's shape known well enough to judge "nothing feeds it"
    has_adapter: set[str] = set()
    probably_meant: set[str] = set()  # close matches of unknown targets (typos)
    for name, route in routes.items():
        if not isinstance(route, dict):
            complete = False
            continue
        if route.get("adapter") is not None:
            has_adapter.add(name)
        targets = route.get("to", [])
        if targets is None:
            targets = []
        single = isinstance(targets, str)
        if single:
            targets = [targets]
        if not isinstance(targets, list):
            complete = False
            continue
        seen: set[str] = set()
        for index, target in enumerate(targets):
            path: FieldPath = ("routes", name, "to") if single else ("routes", name, "to", index)
            if not isinstance(target, str):
                complete = False
                continue
            if target not in routes:
                probably_meant.update(difflib.get_close_matches(target, names, n=2, cutoff=0.6))
                out.add(
                    path,
                    f"unknown route {target!r}{did_you_mean(target, names)}"
                    f" (routes: {listing(names)})",
                )
            elif target in seen:
                out.add(path, f"route {target!r} is listed twice; list each target once")
            else:
                seen.add(target)
                edges[name].append(target)
    for cycle in _cycles(names, edges):
        out.add(
            ("routes", cycle[0], "to"),
            "routes form a cycle: " + " -> ".join(cycle) + "; messages would circulate"
            " forever, so remove one of these 'to' entries",
        )
    if not has_adapter and complete:
        out.add(
            ("routes",),
            "no source route: at least one route needs an 'adapter' to produce messages"
            " (e.g. adapter: {type: files, with: {root: docs}})",
        )
    elif complete:
        fed = {target for targets in edges.values() for target in targets}
        for name in names:
            if name not in has_adapter and name not in fed and name not in probably_meant:
                out.add(
                    ("routes", name),
                    f"route {name!r} is never fed: it has no adapter and no route lists it in"
                    " 'to'; add it to another route's 'to' or give it an adapter",
                )
    return out.items


def _cycles(names: list[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Each distinct cycle once, starting at its earliest route in config order."""
    order = {name: i for i, name in enumerate(names)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    found: dict[tuple[str, ...], list[str]] = {}
    for root in names:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                loop = path[path.index(child) :]
                start = min(range(len(loop)), key=lambda i: order[loop[i]])
                loop = loop[start:] + loop[:start]
                found.setdefault(tuple(loop), [*loop, loop[0]])
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(edges[child])))
    return list(found.values())


def describe_bad_top_level(raw: Any) -> str:
    """Message for a document that is not a mapping at the top."""
    if raw is None:
        return "the config is empty; it needs at least 'name' and 'routes'"
    return f"the config must be a mapping with 'name' and 'routes' keys, got {show_value(raw)}"
