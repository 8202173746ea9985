"""The component catalogue: what a registry offers, each with its docs and option schema.

``describe_components(registry)`` lists every registered processor and
adapter (and every installed entry point that failed to load, with why), in
kind then name order; ``describe_component`` one of them.  The option schema
is the JSON Schema of the component's ``Options`` model, so it says exactly
what a config's ``with:`` block may hold.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from factflow_engine.registry import ComponentKind, ComponentNotFoundError, Registry

__all__ = ["ComponentInfo", "describe_component", "describe_components"]

_KINDS: tuple[ComponentKind, ...] = ("adapter", "processor")


@dataclass(frozen=True, slots=True)
class ComponentInfo:
    """One component as the catalogue shows it.

    ``summary`` is the first paragraph of the class docstring, ``description``
    the rest; ``options_schema`` the JSON Schema of its options (``None`` when
    it failed to load or the model has no JSON form); ``origin`` the
    distribution and target of its entry point (``None`` when registered in
    code); ``error`` why an installed entry point did not load.
    """

    kind: ComponentKind
    name: str
    summary: str
    description: str
    options_schema: dict[str, Any] | None
    origin: str | None
    error: str | None = None


def _docs(cls: type) -> tuple[str, str]:
    # Docstrings use reST literals (``x``); the catalogue speaks Markdown (`x`).
    doc = (inspect.getdoc(cls) or "").replace("``", "`")
    summary, _, rest = doc.partition("\n\n")
    return " ".join(summary.split()), rest.strip()


def _schema(model: type[BaseModel]) -> dict[str, Any] | None:
    try:
        return model.model_json_schema()
    except Exception:  # an option type without a JSON form (a plugin's choice)
        return None


def _info(registry: Registry, kind: ComponentKind, name: str, cls: type) -> ComponentInfo:
    summary, description = _docs(cls)
    model: type[BaseModel] = cls.Options  # type: ignore[attr-defined]
    return ComponentInfo(
        kind=kind,
        name=name,
        summary=summary,
        description=description,
        options_schema=_schema(model),
        origin=registry.origin(kind, name),
    )


def _broken(registry: Registry, kind: ComponentKind, name: str, error: str) -> ComponentInfo:
    return ComponentInfo(
        kind=kind,
        name=name,
        summary="(installed, but failed to load)",
        description="",
        options_schema=None,
        origin=registry.origin(kind, name),
        error=error,
    )


def describe_components(
    registry: Registry, kind: ComponentKind | None = None
) -> list[ComponentInfo]:
    """Every component of ``registry`` (of one ``kind`` when given), by kind then name."""
    out: list[ComponentInfo] = []
    for each in _KINDS if kind is None else (kind,):
        classes = registry.processors if each == "processor" else registry.adapters
        broken = {n: e for (k, n), e in registry.load_errors.items() if k == each}
        for name in sorted({*classes, *broken}):
            cls = classes.get(name)
            if cls is not None:
                out.append(_info(registry, each, name, cls))
            else:
                out.append(_broken(registry, each, name, broken[name]))
    return out


def describe_component(registry: Registry, kind: ComponentKind, name: str) -> ComponentInfo:
    """One component; ``ComponentNotFoundError`` (an ``InvalidInputError``) saying what
    exists when it is unknown.  A component that failed to load is described, with
    its ``error``."""
    classes = registry.processors if kind == "processor" else registry.adapters
    cls = classes.get(name)
    if cls is not None:
        return _info(registry, kind, name, cls)
    error = registry.load_errors.get((kind, name))
    if error is not None:
        return _broken(registry, kind, name, error)
    if ":" in name:
        raise ComponentNotFoundError(f"{name!r} is an import path, not a registered {kind} name")
    registry.lookup(kind, name)  # raises, naming what exists and the closest match
    raise ComponentNotFoundError(f"unknown {kind} {name!r}")  # pragma: no cover
