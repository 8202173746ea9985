"""The shape of a pipeline config (Pydantic v2, every model ``extra="forbid"``).

Only structure lives here; what the parts mean together (graph, registry,
params) is checked in ``config.checks``.  Field defaults are the documented
defaults of the config format.
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from factflow_engine.errors import FieldPath

__all__ = [
    "DEFAULT_QUEUE_DEPTH",
    "MAX_QUEUE_DEPTH",
    "PARAM_TYPES",
    "AdapterSpec",
    "ComponentSpec",
    "ParamSpec",
    "ParamType",
    "PipelineDefinition",
    "PipelineSettings",
    "ProcessorSpec",
    "RouteDefinition",
]

ParamType: TypeAlias = Literal["string", "integer", "number", "boolean", "path", "list", "object"]
PARAM_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "path", "list", "object")

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,199}$"
ROUTE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
PARAM_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

#: Messages a route's queue holds before its producers wait (per route: ``queue_depth``).
DEFAULT_QUEUE_DEPTH = 1000
MAX_QUEUE_DEPTH = 1_000_000


class _Strict(BaseModel):
    # Dumps use the config spelling ("with"), so a dumped definition loads again.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )


class ParamSpec(_Strict):
    """A declared run parameter.  No ``default`` means the param is required."""

    type: ParamType = "string"
    default: Any = None
    description: str | None = None

    @property
    def required(self) -> bool:
        """True when the param has no default (a value must be supplied)."""
        return self.default is None

    @model_serializer(mode="wrap")
    def _omit_absent_default(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.default is None:
            data.pop("default", None)
        return data


class PipelineSettings(_Strict):
    """Run-wide settings; every field has a default."""

    timeout: float | None = Field(default=600.0, gt=0)
    on_message_error: Literal["continue", "fail"] = "continue"
    max_retries: int = Field(default=2, ge=0, le=100)
    retry_backoff: float = Field(default=0.05, ge=0)
    retry_backoff_max: float = Field(default=2.0, ge=0)
    # Bounded queues: a full queue makes its producer (adapter or upstream
    # route) wait, so memory stays flat whatever the source's length.
    queue_depth: int = Field(default=DEFAULT_QUEUE_DEPTH, ge=1, le=MAX_QUEUE_DEPTH)


class ComponentSpec(_Strict):
    """A processor or adapter reference: registered ``type`` plus its ``with`` options."""

    type: str = Field(min_length=1)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class AdapterSpec(ComponentSpec):
    """The source adapter of a route."""


class ProcessorSpec(ComponentSpec):
    """One step of a route's processor chain."""


class RouteDefinition(_Strict):
    """One route: an optional source adapter, a processor chain, downstream routes."""

    description: str | None = None
    adapter: AdapterSpec | None = None
    processors: list[ProcessorSpec] = Field(default_factory=list)
    to: list[str] = Field(default_factory=list)
    concurrency: int = Field(default=4, ge=1, le=256)
    max_retries: int | None = Field(default=None, ge=0, le=100)
    queue_depth: int | None = Field(default=None, ge=1, le=MAX_QUEUE_DEPTH)

    @field_validator("to", mode="before")
    @classmethod
    def _single_target(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @property
    def is_source(self) -> bool:
        """True when the route produces its own messages from an adapter."""
        return self.adapter is not None


class PipelineDefinition(_Strict):
    """A validated pipeline config (before or after param resolution)."""

    name: str
    description: str | None = None
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    settings: PipelineSettings = Field(default_factory=PipelineSettings)
    routes: dict[str, RouteDefinition] = Field(min_length=1)

    _lines: dict[FieldPath, int] = PrivateAttr(default_factory=dict)
    _filename: str | None = PrivateAttr(default=None)

    def attach_source(self, lines: dict[FieldPath, int], filename: str | None) -> None:
        """Remember where the config text put each field (used to pin later errors)."""
        self._lines = lines
        self._filename = filename

    @property
    def filename(self) -> str | None:
        """The file name the config was loaded from, if any."""
        return self._filename

    @property
    def source_lines(self) -> dict[FieldPath, int]:
        """Field path -> 1-based line in the config text (empty when not loaded from text)."""
        return self._lines

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not re.match(NAME_PATTERN, value):
            raise ValueError(
                f"pipeline name {value!r} is not allowed; use 1-200 lower-case letters, digits,"
                " '_', '.' or '-', starting with a letter or digit (e.g. 'facts')"
            )
        return value

    def source_routes(self) -> list[str]:
        """Names of the routes that have an adapter, in config order."""
        return [name for name, route in self.routes.items() if route.adapter is not None]

    def upstream(self) -> dict[str, list[str]]:
        """For each route, the routes that list it in ``to`` (config order)."""
        incoming: dict[str, list[str]] = {name: [] for name in self.routes}
        for name, route in self.routes.items():
            for target in route.to:
                incoming[target].append(name)
        return incoming

    def topological_order(self) -> list[str]:
        """Route names so that every route comes after all routes feeding it."""
        incoming = {name: len(feeders) for name, feeders in self.upstream().items()}
        ready = [name for name in self.routes if incoming[name] == 0]
        order: list[str] = []
        while ready:
            name = ready.pop(0)
            order.append(name)
            for target in self.routes[name].to:
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
        return order

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the config format (``with`` keys, defaults filled in)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return data
