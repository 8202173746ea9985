"""Deleting executions: ``DELETE /api/v1/executions/{id}`` and
``POST /api/v1/executions/prune`` (finished runs older than a duration)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal

from factflow_foundation import utcnow
from fastapi import APIRouter, Body, Response, status
from pydantic import Field, field_validator

from factflow_server._deps import ExecutionId, Service
from factflow_server._openapi import problems
from factflow_server._schemas import _Request, _Response

__all__ = ["PruneRequest", "PruneResponse", "parse_age", "router"]

router = APIRouter(prefix="/executions", tags=["executions"])

_AGE: Final = re.compile(r"(\d{1,12}(?:\.\d{1,6})?)([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
#: The longest age a prune takes (about 100 years).
_MAX_AGE: Final = timedelta(days=36_500)


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` (a number and one unit) as a timedelta."""
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"expected a number and a unit (s, m, h, d or w) such as 30d or 12h, not {text!r}"
        )
    seconds = float(match[1]) * _UNITS[match[2]]
    if seconds > _MAX_AGE.total_seconds():
        raise ValueError(f"{text!r} is longer than {_MAX_AGE.days} days")
    if seconds <= 0:
        raise ValueError(f"{text!r} is not longer than zero")
    return timedelta(seconds=seconds)


class PruneRequest(_Request):
    """``POST /executions/prune``: which finished runs to delete."""

    older_than: str = Field(
        description="Runs that ended longer ago than this: a number and a unit "
        "(s, m, h, d, w), e.g. 30d.",
        examples=["30d"],
        max_length=32,
    )
    status: list[Literal["completed", "failed", "cancelled", "interrupted"]] = Field(
        default_factory=list,
        max_length=4,
        description="Only runs that ended so; empty = every finished status.",
    )
    limit: int = Field(
        default=1000, ge=1, le=10_000, description="Delete (or list) at most this many."
    )
    dry_run: bool = Field(default=False, description="List what would be deleted; delete nothing.")

    @field_validator("older_than")
    @classmethod
    def _age(cls, value: str) -> str:
        parse_age(value)
        return value


class PruneResponse(_Response):
    """What a prune deleted (or, dry, would delete)."""

    execution_ids: list[str] = Field(description="The runs, oldest first.")
    deleted: int = Field(description="How many were deleted (0 on a dry run).")
    dry_run: bool = Field(description="True when nothing was deleted.")
    more: bool = Field(description="More runs match beyond `limit`: call again.")
    ended_before: datetime = Field(description="The cutoff applied: now minus `older_than`.")


@router.delete(
    "/{execution_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a finished execution with its lineage, events, objects and files",
    description=(
        "Removes the run's row, lineage records, events, stored objects (rows and files) "
        "and every other per-run row, in one transaction; the files go after the commit. "
        "409 while the run is pending or running (cancel it first). Replays of it are "
        "kept: their `parent_execution_id` becomes null (`replay_source` keeps the id)."
    ),
    responses={204: {"description": "Deleted."}, **problems(404, 409)},
)
async def delete_execution(service: Service, execution_id: ExecutionId) -> Response:
    await service.retention.delete(execution_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/prune",
    response_model=PruneResponse,
    summary="Delete finished executions older than a duration (or list them: dry_run)",
    description=(
        "Oldest first, at most `limit` per call (`more` says when to call again); each run "
        "is deleted as `DELETE /executions/{id}` does, in its own transaction. Only "
        "finished runs (completed, failed, cancelled, interrupted) are ever pruned."
    ),
    responses=problems(400, 413),
)
async def prune_executions(
    service: Service, request: Annotated[PruneRequest, Body()]
) -> PruneResponse:
    cutoff = utcnow() - parse_age(request.older_than)
    result = await service.retention.prune(
        ended_before=cutoff,
        statuses=request.status,
        limit=request.limit,
        dry_run=request.dry_run,
    )
    return PruneResponse(
        execution_ids=result.execution_ids,
        deleted=0 if result.dry_run else len(result.execution_ids),
        dry_run=result.dry_run,
        more=result.more,
        ended_before=cutoff,
    )
