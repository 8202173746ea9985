"""``/api/v1/components``: the processors and adapters this server can run.

Built from the server's own registry (entry points ``factflow.processors`` /
``factflow.adapters`` of the environment the server runs in), so it answers
"is my plugin installed where the server sees it?" as well as "what options
does ``read_text`` take?".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from factflow_engine import ComponentInfo, describe_component, describe_components
from factflow_engine.registry import ComponentNotFoundError
from factflow_foundation import NotFoundError
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from factflow_server._deps import Service
from factflow_server._openapi import problems

__all__ = ["ComponentList", "ComponentOut", "UnknownComponentError", "router"]

router = APIRouter(prefix="/components", tags=["components"])

Kind = Literal["processor", "adapter"]


class UnknownComponentError(NotFoundError):
    """No processor or adapter of that name is registered."""

    code = "component-not-found"


class ComponentOut(BaseModel):
    """One processor or adapter: what it does, and the options its ``with:`` block takes."""

    model_config = ConfigDict(frozen=True)

    kind: Kind = Field(description="'processor' (routes' processors) or 'adapter' (sources).")
    name: str = Field(description="The name a config uses as `type`.")
    summary: str = Field(description="One line: what it does.")
    description: str = Field(description="The rest of its documentation (may be empty).")
    options_schema: dict[str, Any] | None = Field(
        description="JSON Schema of its options (the config's `with:`); null when it did not "
        "load or has no JSON form."
    )
    origin: str | None = Field(
        description="'<distribution> <version> (<module:Class>)' of its entry point; null "
        "when registered in code."
    )
    error: str | None = Field(
        description="Why an installed entry point failed to load (configs naming it are "
        "refused); null when usable."
    )

    @classmethod
    def of(cls, info: ComponentInfo) -> ComponentOut:
        return cls(
            kind=info.kind,
            name=info.name,
            summary=info.summary,
            description=info.description,
            options_schema=info.options_schema,
            origin=info.origin,
            error=info.error,
        )


class ComponentList(BaseModel):
    """Every component this server can run, by kind then name."""

    model_config = ConfigDict(frozen=True)

    items: list[ComponentOut] = Field(description="Adapters, then processors, by name.")
    import_paths_allowed: bool = Field(
        description="Whether configs may also name 'module:Class' types "
        "(FACTFLOW_ALLOW_IMPORT_PATHS)."
    )


@router.get(
    "",
    response_model=ComponentList,
    summary="List the processors and adapters this server can run",
    description="With their documentation and option schemas; `kind` narrows the list.",
    responses=problems(),
)
async def list_components(
    service: Service,
    kind: Annotated[Kind | None, Query(description="Only this kind.")] = None,
) -> ComponentList:
    registry = service.registry
    return ComponentList(
        items=[ComponentOut.of(info) for info in describe_components(registry, kind)],
        import_paths_allowed=registry.allow_import_paths,
    )


@router.get(
    "/{kind}/{name}",
    response_model=ComponentOut,
    summary="Show one processor or adapter",
    responses=problems(404),
)
async def get_component(
    service: Service,
    kind: Annotated[Kind, Path(description="'processor' or 'adapter'.")],
    name: Annotated[
        str,
        Path(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,199}$", description="The component's name."),
    ],
) -> ComponentOut:
    try:
        return ComponentOut.of(describe_component(service.registry, kind, name))
    except ComponentNotFoundError as exc:
        raise UnknownComponentError(str(exc), extra={"kind": kind, "name": name}) from None
