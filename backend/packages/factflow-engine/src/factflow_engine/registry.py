"""Processor and adapter classes, found by name.

A component is a class with a nested ``Options`` model (a Pydantic model with
``extra="forbid"``; subclass ``ComponentOptions``) that is constructed as
``cls(options)``.  Processors implement ``async process(message, ctx)``;
adapters implement ``produce(ctx)`` returning an async iterator of payloads.

Built-ins and third-party components are registered the same way: entry
points in the groups ``factflow.processors`` and ``factflow.adapters``.

One instance is built per route per run and shared by that route's
concurrent workers, so instance state is per-execution memory.  Payloads are
passed by reference (also to lineage and to every downstream route):
components return new payloads and never mutate the one they were given.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, cast

from factflow_foundation import InvalidInputError
from factflow_protocols import Adapter, Processor
from pydantic import BaseModel, ConfigDict, ValidationError

from factflow_engine.config.model_errors import issues_from_validation_error
from factflow_engine.config.wording import did_you_mean, listing
from factflow_engine.errors import ConfigValidationError, ValidationIssue
from factflow_engine.file_access import CONTEXT_KEY, DENY_ALL, FileAccess

__all__ = [
    "ADAPTER_GROUP",
    "PROCESSOR_GROUP",
    "ComponentKind",
    "ComponentNotFoundError",
    "ComponentOptions",
    "Registry",
]

PROCESSOR_GROUP = "factflow.processors"
ADAPTER_GROUP = "factflow.adapters"
ComponentKind: TypeAlias = Literal["processor", "adapter"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_logger = logging.getLogger(__name__)


class ComponentOptions(BaseModel):
    """Base for a component's ``Options``: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ComponentNotFoundError(InvalidInputError, LookupError):
    """A component name (or import path) that cannot be used; ``str()`` says why."""


class Registry:
    """Name -> class maps for processors and adapters.

    ``allow_import_paths`` additionally accepts ``"package.module:ClassName"``
    types (off by default: configs should not name arbitrary code).
    """

    def __init__(
        self, *, allow_import_paths: bool = False, file_access: FileAccess | None = None
    ) -> None:
        self.allow_import_paths = allow_import_paths
        #: what components may read of the server's filesystem (nothing by default)
        self.file_access = file_access or DENY_ALL
        self._classes: dict[ComponentKind, dict[str, type]] = {"processor": {}, "adapter": {}}
        self._load_errors: dict[tuple[ComponentKind, str], str] = {}
        self._origins: dict[tuple[ComponentKind, str], str] = {}
        self._imported: dict[tuple[ComponentKind, str], type] = {}

    @classmethod
    def from_entry_points(
        cls, allow_import_paths: bool = False, file_access: FileAccess | None = None
    ) -> Registry:
        """A registry of every installed ``factflow.processors`` / ``factflow.adapters`` entry.

        An entry point that fails to load is logged and remembered; configs
        naming it get a validation error that carries the load error.
        ``file_access`` is what components may read (default: nothing).
        """
        registry = cls(allow_import_paths=allow_import_paths, file_access=file_access)
        groups: tuple[tuple[ComponentKind, str], ...] = (
            ("processor", PROCESSOR_GROUP),
            ("adapter", ADAPTER_GROUP),
        )
        for kind, group in groups:
            for ep in entry_points(group=group):
                existing = registry._classes[kind].get(ep.name)
                if existing is not None:  # first registration wins
                    if f"{existing.__module__}:{existing.__qualname__}" != ep.value:
                        _logger.warning(
                            "%s %r is registered twice; keeping %s.%s, ignoring %s",
                            kind, ep.name, existing.__module__, existing.__qualname__, ep.value,
                        )  # fmt: skip
                    continue
                try:
                    obj = ep.load()
                    registry._register(kind, ep.name, obj)
                except Exception as exc:  # a broken plugin must not break the others
                    reason = f"{type(exc).__name__}: {exc}"
                    registry._load_errors[(kind, ep.name)] = reason
                    _logger.warning("cannot load %s %r (%s): %s", kind, ep.name, ep.value, reason)
                dist = ep.dist
                origin = f"{dist.name} {dist.version}" if dist is not None else "an entry point"
                registry._origins[(kind, ep.name)] = f"{origin} ({ep.value})"
        return registry

    @property
    def processors(self) -> Mapping[str, type]:
        """Registered processor classes by name (read-only view)."""
        return MappingProxyType(self._classes["processor"])

    @property
    def adapters(self) -> Mapping[str, type]:
        """Registered adapter classes by name (read-only view)."""
        return MappingProxyType(self._classes["adapter"])

    @property
    def load_errors(self) -> Mapping[tuple[ComponentKind, str], str]:
        """Entry points that are installed but failed to load: ``(kind, name)`` -> why."""
        return MappingProxyType(self._load_errors)

    def origin(self, kind: ComponentKind, name: str) -> str | None:
        """Where a component came from: ``"<distribution> <version> (<module:Class>)"`` for
        an entry point; ``None`` for one registered in code."""
        return self._origins.get((kind, name))

    def register_processor(self, name: str, cls: type) -> None:
        """Register (or replace) a processor class.

        Raises ``TypeError`` when the class breaks the component convention.
        """
        self._register("processor", name, cls)

    def register_adapter(self, name: str, cls: type) -> None:
        """Register (or replace) an adapter class.

        Raises ``TypeError`` when the class breaks the component convention.
        """
        self._register("adapter", name, cls)

    def lookup(self, kind: ComponentKind, name: str) -> type:
        """The class for ``name``; raises ``ComponentNotFoundError`` saying why and what exists."""
        if ":" in name:
            return self._import(kind, name)
        known = self._classes[kind]
        cls = known.get(name)
        if cls is not None:
            return cls
        load_error = self._load_errors.get((kind, name))
        if load_error is not None:
            raise ComponentNotFoundError(
                f"{kind} {name!r} is installed but failed to load: {load_error}"
            )
        raise ComponentNotFoundError(
            f"unknown {kind} {name!r}{did_you_mean(name, known)} (known: {listing(known)})"
        )

    @property
    def validation_context(self) -> dict[str, Any]:
        """The Pydantic context every component ``Options`` is validated with (it
        hands components this registry's ``FileAccess``)."""
        return {CONTEXT_KEY: self.file_access}

    def options_model(self, kind: ComponentKind, name: str) -> type[BaseModel]:
        """The ``Options`` model of a component."""
        return cast(type[BaseModel], self.lookup(kind, name).Options)  # type: ignore[attr-defined]

    def create_processor(self, name: str, options: Mapping[str, Any] | None = None) -> Processor:
        """Instantiate processor ``name`` with validated ``options`` (``ConfigValidationError``)."""
        return cast(Processor, self._create("processor", name, options))

    def create_adapter(self, name: str, options: Mapping[str, Any] | None = None) -> Adapter:
        """Instantiate adapter ``name`` with validated ``options`` (``ConfigValidationError``)."""
        return cast(Adapter, self._create("adapter", name, options))

    # --- internals ---------------------------------------------------------

    def _create(self, kind: ComponentKind, name: str, options: Mapping[str, Any] | None) -> Any:
        try:
            cls = self.lookup(kind, name)
        except ComponentNotFoundError as exc:
            raise ConfigValidationError([ValidationIssue("type", str(exc))]) from None
        model: type[BaseModel] = cls.Options  # type: ignore[attr-defined]
        try:
            validated = model.model_validate(dict(options or {}), context=self.validation_context)
        except ValidationError as exc:
            issues = issues_from_validation_error(exc, model, prefix=("with",))
            raise ConfigValidationError(issues) from None
        return cls(validated)

    def _register(self, kind: ComponentKind, name: str, cls: Any) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise TypeError(
                f"{kind} name {name!r} is not allowed: use letters, digits, '_', '.', '-'"
            )
        problem = component_problem(kind, cls)
        if problem is not None:
            raise TypeError(f"cannot register {kind} {name!r}: {problem}")
        self._classes[kind][name] = cls
        self._load_errors.pop((kind, name), None)
        self._origins.pop((kind, name), None)  # set again by from_entry_points

    def _import(self, kind: ComponentKind, path: str) -> type:
        if not self.allow_import_paths:
            raise ComponentNotFoundError(
                f"{path!r} looks like an import path, and import paths are disabled; use a "
                f"registered {kind} name (an entry point in 'factflow.{kind}s'), or let the "
                "operator enable them with FACTFLOW_ALLOW_IMPORT_PATHS=true"
            )
        cached = self._imported.get((kind, path))
        if cached is not None:
            return cached
        module_name, _, attr_path = path.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for attr in attr_path.split("."):
                obj = getattr(obj, attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ComponentNotFoundError(
                f"cannot import {path!r}: {type(exc).__name__}: {exc}"
            ) from None
        problem = component_problem(kind, obj)
        if problem is not None:
            raise ComponentNotFoundError(f"{path!r} is not usable as a {kind}: {problem}")
        self._imported[(kind, path)] = obj
        return cast(type, obj)


def component_problem(kind: ComponentKind, obj: Any) -> str | None:
    """Why ``obj`` is not a valid ``kind`` class, or ``None`` when it is."""
    if not inspect.isclass(obj):
        return f"expected a class, got {obj!r}"
    options = getattr(obj, "Options", None)
    if not (inspect.isclass(options) and issubclass(options, BaseModel)):
        return "it needs a nested Pydantic model named 'Options' (subclass ComponentOptions)"
    if options.model_config.get("extra") != "forbid":
        return "its Options model must forbid unknown keys (model_config extra='forbid')"
    if kind == "processor":
        if not inspect.iscoroutinefunction(getattr(obj, "process", None)):
            return "processors need an 'async def process(self, message, ctx)' method"
    elif not callable(getattr(obj, "produce", None)):
        return "adapters need a 'produce(self, ctx)' method returning an async iterator"
    return None
